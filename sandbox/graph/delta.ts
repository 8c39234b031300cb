/**
 * Delta query over the change-tracking store (reference §5.1,
 * https://learn.microsoft.com/graph/delta-query-overview). The initial round returns the current
 * items (deleted ones omitted); later rounds return items created or updated since the token's
 * sequence (the full object) plus removals: `@removed: {reason: 'deleted'}` for Outlook and
 * To Do, the `deleted` facet for drive items. Pages follow `Prefer: odata.maxpagesize`; the last
 * page carries `@odata.deltaLink`. Tokens are opaque and encode the collection, the sequence and
 * the original query. Invalidated collections answer 410 `SyncStateNotFound` (Outlook,
 * microsoft-graph-docs#2350) or 410 `resyncRequired` with a `Location` to restart (drive,
 * driveitem-delta.md).
 */
import { safeDecode, json, type SandboxResponse } from '../http';
import { contextPath, odataContext, type GraphCtx } from './core';
import { badQuery, GraphHttpError } from './errors';
import { applySelect, parseSelect } from './odata';
import { collectionKey, type CollectionRef, type Entity, type StoredRecord } from './store';

export interface DeltaOptions {
  /** `outlook` (messages, events, contacts, To Do) or `drive` (driveItems). */
  style: 'outlook' | 'drive';
  /**
   * Which current items belong to the result (e.g. a calendarView window), given the ORIGINAL
   * query (tokens carry it). In later rounds a changed item that no longer matches is reported
   * as removed, as Outlook does for items leaving a window or folder (event-delta.md).
   */
  filter?: (item: Entity, query: URLSearchParams) => boolean;
  /** Shapes an item (before `$select`). */
  render?: (item: Entity, query: URLSearchParams) => Record<string, unknown>;
  /** Validates the initial request's query (e.g. calendarView requires startDateTime). */
  validateInitial?: (query: URLSearchParams) => void;
  /** Page size without `Prefer: odata.maxpagesize` / $top. Default 10 (Outlook), 200 (drive). */
  pageSize?: number;
  /** Set false where `$select` isn't supported (calendarView delta answers 400). Default true. */
  select?: boolean;
  /** `@odata.context` suffix; default `Collection(...)` derived from the path. */
  context?: string;
}

interface DeltaToken {
  /** collection key */
  c: string;
  /** generation (invalidation epoch) */
  g: number;
  /** changes after this sequence (0 = initial round) */
  s: number;
  /** round snapshot: items created after it wait for the next round */
  u?: number;
  /** cursor: createdSeq of the last item emitted in this round */
  k?: number;
  /** page size */
  p?: number;
  /** original query (name → value) */
  q: Array<[string, string]>;
}

function encodeToken(token: DeltaToken): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): DeltaToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as DeltaToken;
    if (
      typeof t.c !== 'string' ||
      typeof t.g !== 'number' ||
      typeof t.s !== 'number' ||
      !Array.isArray(t.q)
    ) {
      return undefined;
    }
    return t;
  } catch {
    return undefined;
  }
}

const TOKEN_PARAMS = new Set(['$skiptoken', '$deltatoken', 'token']);

/** The URL of this delta function with one token parameter (absolute, as Graph returns it). */
function deltaUrl(ctx: GraphCtx, name: string | undefined, value: string | undefined): string {
  const base = `${ctx.sandbox.url}${ctx.path}`;
  return name && value !== undefined ? `${base}?${name}=${value}` : base;
}

function goneError(ctx: GraphCtx, style: 'outlook' | 'drive'): GraphHttpError {
  if (style === 'drive') {
    return new GraphHttpError(
      410,
      'resyncRequired',
      "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
      {
        headers: { location: deltaUrl(ctx, undefined, undefined) },
        innerCode: 'resyncChangesApplyDifferences',
      },
    );
  }
  return new GraphHttpError(
    410,
    'SyncStateNotFound',
    'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
  );
}

/** Answers a delta request (initial, nextLink page or deltaLink round) for one collection. */
export function deltaResponse(ctx: GraphCtx, ref: CollectionRef, options: DeltaOptions): SandboxResponse {
  const store = ctx.graph.store;
  const key = collectionKey(ref);
  const generation = store.generation(ref);
  const drive = options.style === 'drive';

  // Which token came with the request: $skiptoken/$deltatoken (Outlook) or token= (drive).
  let tokenText: string | undefined;
  for (const [k, v] of ctx.query) if (TOKEN_PARAMS.has(k.toLowerCase())) tokenText = v;
  const tokenFn = /\/delta\(token='([^']*)'\)$/i.exec(ctx.path);
  if (tokenFn) tokenText = safeDecode(tokenFn[1] ?? '');

  let token: DeltaToken;
  if (tokenText === undefined || (drive && tokenText === '')) {
    const original: Array<[string, string]> = [...ctx.query].filter(
      ([k]) => !TOKEN_PARAMS.has(k.toLowerCase()),
    );
    options.validateInitial?.(new URLSearchParams(original));
    token = { c: key, g: generation, s: 0, q: original };
  } else if (drive && tokenText === 'latest') {
    // "token=latest returns an empty value plus the current deltaLink" (driveitem-delta.md).
    const latest: DeltaToken = { c: key, g: generation, s: store.seq, q: [] };
    return json(200, {
      '@odata.context': odataContext(ctx, options.context ?? defaultContext(ctx)),
      value: [],
      '@odata.deltaLink': deltaUrl(ctx, 'token', encodeToken(latest)),
    });
  } else {
    const decoded = decodeToken(tokenText);
    if (!decoded || decoded.c !== key || decoded.g !== generation) throw goneError(ctx, options.style);
    token = decoded;
  }

  const query = new URLSearchParams(token.q);
  const select = options.select === false ? undefined : selectOf(ctx, query);
  const upto = token.u ?? store.seq;
  const size = token.p ?? deltaPageSize(ctx, query, options);
  const cursor = token.k ?? 0;
  const initial = token.s === 0;

  const page: Array<Record<string, unknown>> = [];
  let lastCreated = cursor;
  let more = false;
  for (const record of store.records(ref)) {
    if (record.createdSeq <= cursor) continue;
    // Items created during this round wait for the next one (their seq is after `upto`).
    if (record.createdSeq > upto) break;
    const entry = deltaEntry(record, token.s, initial, query, options);
    if (!entry) continue;
    if (page.length >= size) {
      more = true;
      break;
    }
    page.push(entry.removed ? entry.value : applySelect(entry.value, select));
    lastCreated = record.createdSeq;
  }

  const body: Record<string, unknown> = {
    '@odata.context': odataContext(ctx, options.context ?? defaultContext(ctx)),
    value: page,
  };
  if (more) {
    const next = encodeToken({ ...token, u: upto, k: lastCreated, p: size });
    body['@odata.nextLink'] = deltaUrl(ctx, drive ? 'token' : '$skiptoken', next);
  } else {
    const next = encodeToken({ c: key, g: generation, s: upto, p: token.p, q: token.q });
    body['@odata.deltaLink'] = deltaUrl(ctx, drive ? 'token' : '$deltatoken', next);
  }
  return json(200, body);
}

function selectOf(ctx: GraphCtx, query: URLSearchParams): string[] | undefined {
  for (const [k, v] of query) if (k.toLowerCase() === '$select') return parseSelect(v, ctx.workload);
  return undefined;
}

function deltaPageSize(ctx: GraphCtx, query: URLSearchParams, options: DeltaOptions): number {
  const fallback = options.pageSize ?? (options.style === 'drive' ? 200 : 10);
  let size = fallback;
  for (const [k, v] of query) {
    if (k.toLowerCase() !== '$top') continue;
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw badQuery(ctx.workload, `Invalid value '${v}' for $top query option found.`);
    size = Number(v);
  }
  if (ctx.prefs.maxPageSize !== undefined) {
    size = ctx.prefs.maxPageSize;
    ctx.applyPreference(`odata.maxpagesize=${size}`);
  }
  return size;
}

function deltaEntry(
  record: StoredRecord,
  since: number,
  initial: boolean,
  query: URLSearchParams,
  options: DeltaOptions,
): { value: Record<string, unknown>; removed: boolean } | undefined {
  const matches = !record.deleted && (options.filter ? options.filter(record.data, query) : true);
  if (initial) {
    if (!matches) return undefined;
    return { value: render(record.data, query, options), removed: false };
  }
  if (record.seq <= since) return undefined;
  if (matches) return { value: render(record.data, query, options), removed: false };
  // Created and gone again within the interval: the client never saw it.
  if (record.deleted && record.createdSeq > since) return undefined;
  return { value: removedEntry(record, options), removed: true };
}

function render(item: Entity, query: URLSearchParams, options: DeltaOptions): Record<string, unknown> {
  return options.render ? options.render(item, query) : item;
}

function removedEntry(record: StoredRecord, options: DeltaOptions): Record<string, unknown> {
  if (options.style === 'drive') {
    // Drive reports deletions with the `deleted` facet, not @removed (driveitem-delta.md).
    const out: Record<string, unknown> = { id: record.id, deleted: { state: 'deleted' } };
    for (const k of ['name', 'parentReference', 'file', 'folder']) {
      if (record.data[k] !== undefined) out[k] = record.data[k];
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  if (record.data['@odata.type'] !== undefined) out['@odata.type'] = record.data['@odata.type'];
  out.id = record.id;
  out['@removed'] = { reason: 'deleted' };
  return out;
}

function defaultContext(ctx: GraphCtx): string {
  return contextPath(ctx).replace(/\/delta(\(.*\))?$/i, '') + '/delta';
}
