/**
 * Collection answers with OData query options and paging (reference §4.1,
 * https://learn.microsoft.com/graph/paging): absolute `@odata.nextLink`s that carry the original
 * query; Outlook collections page with `$skip` (default page 10, `$top` up to 1000), others with
 * an opaque `$skiptoken`; `Prefer: odata.maxpagesize` sets the page size and is echoed in
 * `Preference-Applied`.
 */
import { json, type SandboxResponse } from '../http';
import { contextPath, odataContext, type GraphCtx } from './core';
import { badQuery } from './errors';
import { applyOrderBy, applySelect, evaluateFilter, parseODataQuery, type ODataQuery } from './odata';

export interface CollectionOptions<T> {
  /** `outlook` pages with $skip; `skiptoken` (drive, directory, Teams) with an opaque $skiptoken. */
  kind: 'outlook' | 'skiptoken';
  /** Largest $top (and page size); default 1000 (Outlook messages, user-list-messages.md). */
  maxTop?: number;
  /** Page size without $top / maxpagesize; default 10 for Outlook, 100 otherwise. */
  defaultTop?: number;
  /** Above maxTop: `reject` (400, default) or `clamp`. */
  topOverMax?: 'reject' | 'clamp';
  /** `$search` matcher; without one, $search answers 400. */
  search?: (item: T, term: string) => boolean;
  /** Turn off options the resource doesn't support (they answer 400). Default all on. */
  supports?: { filter?: boolean; orderby?: boolean; select?: boolean; count?: boolean; skip?: boolean };
  /** Extra validation with the parsed query (e.g. Outlook's InefficientFilter rule). */
  validate?: (query: ODataQuery) => void;
  /** Order when there is no $orderby. */
  defaultOrder?: (a: T, b: T) => number;
  /** Shapes each returned item (after filtering, before $select). */
  render?: (item: T) => Record<string, unknown>;
  /** `@odata.context` suffix; default derived from the path (`users('id')/messages`). */
  context?: string;
}

interface SkipTokenState {
  o: number;
}

export function encodeSkipToken(state: SkipTokenState): string {
  return Buffer.from(JSON.stringify({ v: 1, ...state })).toString('base64url');
}

export function decodeSkipToken(token: string): SkipTokenState | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      v?: number;
      o?: unknown;
    };
    if (parsed.v !== 1 || typeof parsed.o !== 'number' || parsed.o < 0) return undefined;
    return { o: parsed.o };
  } catch {
    return undefined;
  }
}

/**
 * Builds an absolute link to this request's path with the query replaced: keys keep a literal
 * `$` (as Graph writes `$skip=10`), values are percent-encoded.
 */
export function selfLink(ctx: GraphCtx, params: URLSearchParams): string {
  const parts: string[] = [];
  for (const [k, v] of params) parts.push(`${k}=${encodeURIComponent(v)}`);
  return `${ctx.sandbox.url}${ctx.path}${parts.length > 0 ? `?${parts.join('&')}` : ''}`;
}

/** Resolves the page size from $top, `Prefer: odata.maxpagesize` and the resource defaults. */
export function pageSize(
  ctx: GraphCtx,
  top: number | undefined,
  options: { maxTop: number; defaultTop: number; topOverMax?: 'reject' | 'clamp' },
): number {
  let size = top ?? options.defaultTop;
  if (top !== undefined && top > options.maxTop) {
    if (options.topOverMax === 'clamp') size = options.maxTop;
    else {
      throw badQuery(
        ctx.workload,
        `Invalid value '${top}' for $top query option found. The maximum value is ${options.maxTop}.`,
      );
    }
  }
  const preferred = ctx.prefs.maxPageSize;
  if (preferred !== undefined) {
    const honoured = Math.min(preferred, options.maxTop);
    size = top !== undefined ? Math.min(size, honoured) : honoured;
    ctx.applyPreference(`odata.maxpagesize=${honoured}`);
  }
  return size;
}

/** Answers a collection GET: filter, search, order, page, select, count. */
export function collection<T extends Record<string, unknown>>(
  ctx: GraphCtx,
  items: T[],
  options: CollectionOptions<T>,
): SandboxResponse {
  const outlook = options.kind === 'outlook';
  const q = parseODataQuery(ctx.query, ctx.workload);
  const supports = {
    filter: true,
    orderby: true,
    select: true,
    count: true,
    skip: outlook,
    ...options.supports,
  };
  const unsupported = (name: string) =>
    badQuery(ctx.workload, `The query option '${name}' is not supported on this resource.`);
  if (q.filter && !supports.filter) throw unsupported('$filter');
  if (q.orderby && !supports.orderby) throw unsupported('$orderby');
  if (q.select && !supports.select) throw unsupported('$select');
  if (q.count !== undefined && !supports.count) throw unsupported('$count');
  if (q.skip !== undefined && !supports.skip) throw unsupported('$skip');
  if (q.search !== undefined && !options.search) throw unsupported('$search');
  options.validate?.(q);

  const maxTop = options.maxTop ?? 1000;
  const defaultTop = options.defaultTop ?? (outlook ? 10 : 100);
  const size = pageSize(ctx, q.top, { maxTop, defaultTop, topOverMax: options.topOverMax });

  let result = items;
  if (q.filter) {
    const filter = q.filter;
    result = result.filter((item) => evaluateFilter(filter, item));
  }
  if (q.search !== undefined && options.search) {
    const term = q.search;
    const match = options.search;
    result = result.filter((item) => match(item, term));
  }
  if (q.orderby) result = applyOrderBy(result, q.orderby);
  else if (options.defaultOrder) result = [...result].sort(options.defaultOrder);

  let offset: number;
  if (outlook) offset = q.skip ?? 0;
  else if (q.skiptoken !== undefined) {
    const state = decodeSkipToken(q.skiptoken);
    if (!state) throw badQuery(ctx.workload, 'The $skiptoken is invalid or has expired.');
    offset = state.o;
  } else offset = 0;

  const page = result.slice(offset, offset + size);
  const body: Record<string, unknown> = {
    '@odata.context': odataContext(ctx, options.context ?? contextPath(ctx, q.select)),
  };
  // @odata.count: Outlook repeats it on every page; directory-style only on the first (paging.md).
  if (q.count && (outlook || offset === 0)) body['@odata.count'] = result.length;
  body.value = page.map((item) => applySelect(options.render ? options.render(item) : item, q.select));
  if (offset + size < result.length) {
    const next = new URLSearchParams();
    for (const [k, v] of ctx.query) {
      const lower = k.toLowerCase();
      if (lower !== '$skip' && lower !== '$skiptoken') next.append(k, v);
    }
    if (outlook) next.set('$skip', String(offset + size));
    else next.set('$skiptoken', encodeSkipToken({ o: offset + size }));
    body['@odata.nextLink'] = selfLink(ctx, next);
  }
  return json(200, body);
}
