/**
 * JSON batching, `POST /v1.0/$batch` (reference §3, https://learn.microsoft.com/graph/json-batching).
 * Each item runs through the normal router in-process with the outer bearer token, so it gets
 * the same auth, faults, throttling and request-log entry (marked `batch`) as a direct call.
 * At most 4 items run at a time (Outlook's batch concurrency, §2.3); `dependsOn` items wait for
 * their dependencies, and a failed dependency answers 424 for its dependents. Responses come back
 * shuffled (configurable) because "responses can come back in any order".
 */
import type { Ctx, Sandbox } from '../context';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { graphError, json, newRequestId, readBody, type SandboxResponse } from '../http';
import { authenticate, errorResponse, graphState } from './core';
import { boundActionOf, canonicalGraphPath, normaliseActionBody, resourceNotFound } from './request-forms';
import { GraphHttpError } from './errors';

const MAX_REQUESTS = 20;

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

export interface BatchItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

function bad(message: string): GraphHttpError {
  return new GraphHttpError(400, 'BadRequest', message);
}

/** Validates the batch payload as Graph does; any violation fails the whole batch with 400. */
function parseBatch(payload: unknown): BatchItem[] {
  if (
    !payload ||
    typeof payload !== 'object' ||
    !Array.isArray((payload as { requests?: unknown }).requests)
  ) {
    throw bad('Invalid batch payload format.');
  }
  const requests = (payload as { requests: unknown[] }).requests;
  if (requests.length === 0) throw bad('Invalid batch payload format. The batch contains no requests.');
  // Observed wording (graph-behaviour.md §3).
  if (requests.length > MAX_REQUESTS)
    throw bad(`Number of requests in batch exceeds the limit of ${MAX_REQUESTS}`);
  const items: BatchItem[] = [];
  const ids = new Set<string>();
  for (const raw of requests) {
    const r = (raw ?? {}) as Record<string, unknown>;
    if (typeof r.id !== 'string' || r.id === '') throw bad('Id is a required field for a batch request.');
    if (typeof r.method !== 'string' || r.method === '')
      throw bad(`Method is a required field (request id : ${r.id}).`);
    if (typeof r.url !== 'string' || r.url === '')
      throw bad(`Url is a required field (request id : ${r.id}).`);
    // Ids are case-insensitive and must be unique (json-batching.md).
    const lower = r.id.toLowerCase();
    if (ids.has(lower)) throw bad(`Batch request contains duplicate request id: '${r.id}'.`);
    ids.add(lower);
    const headers: Record<string, string> = {};
    if (r.headers !== undefined) {
      if (typeof r.headers !== 'object' || r.headers === null)
        throw bad(`Invalid headers for request id : ${r.id}.`);
      for (const [k, v] of Object.entries(r.headers as Record<string, unknown>))
        headers[k.toLowerCase()] = String(v);
    }
    // "A body requires a Content-Type header" (json-batching.md); observed wording.
    if (r.body !== undefined && r.body !== null && !headers['content-type']) {
      throw bad(`Write request id : ${r.id} does not contain Content-Type header or body.`);
    }
    let dependsOn: string[] | undefined;
    if (r.dependsOn !== undefined) {
      if (!Array.isArray(r.dependsOn) || r.dependsOn.some((d) => typeof d !== 'string')) {
        throw bad(`dependsOn of request id : ${r.id} must be an array of request ids.`);
      }
      dependsOn = r.dependsOn as string[];
    }
    items.push({
      id: r.id,
      method: r.method.toUpperCase(),
      url: r.url,
      headers,
      body: r.body ?? undefined,
      ...(dependsOn ? { dependsOn } : {}),
    });
  }
  for (const item of items) {
    for (const dep of item.dependsOn ?? []) {
      if (!ids.has(dep.toLowerCase()) || dep.toLowerCase() === item.id.toLowerCase()) {
        throw bad(`Request id : ${item.id} depends on '${dep}', which is not a request in this batch.`);
      }
    }
  }
  assertAcyclic(items);
  return items;
}

function assertAcyclic(items: BatchItem[]): void {
  const byId = new Map(items.map((i) => [i.id.toLowerCase(), i]));
  const state = new Map<string, 1 | 2>();
  const visit = (id: string): void => {
    if (state.get(id) === 2) return;
    if (state.get(id) === 1) throw bad('The dependsOn references in the batch form a cycle.');
    state.set(id, 1);
    for (const dep of byId.get(id)?.dependsOn ?? []) visit(dep.toLowerCase());
    state.set(id, 2);
  };
  for (const id of byId.keys()) visit(id);
}

export function installBatch(sandbox: Sandbox): void {
  sandbox.routes.on('POST', '/v1.0/$batch', async (ctx) => {
    try {
      await authenticate(sandbox, ctx);
      let payload: unknown;
      try {
        payload = await ctx.json();
      } catch {
        throw bad('Invalid batch payload format.');
      }
      const items = parseBatch(payload);
      const responses = await runBatch(sandbox, ctx, items);
      if (graphState(sandbox).batch.shuffle) shuffle(responses);
      return json(200, { responses });
    } catch (err) {
      return errorResponse(ctx, err, 'generic');
    }
  });
}

/** Runs the items: dependencies first, at most `maxConcurrency` at a time. */
async function runBatch(sandbox: Sandbox, outer: Ctx, items: BatchItem[]): Promise<BatchItemResponse[]> {
  const limit = graphState(sandbox).batch.maxConcurrency;
  const done = new Map<string, BatchItemResponse>();
  const pending = [...items];
  const running = new Set<Promise<void>>();
  const failed = (id: string) => (done.get(id.toLowerCase())?.status ?? 0) >= 400;

  while (pending.length > 0 || running.size > 0) {
    let started = false;
    for (let i = 0; i < pending.length && running.size < limit;) {
      const item = pending[i] as BatchItem;
      const deps = (item.dependsOn ?? []).map((d) => d.toLowerCase());
      if (!deps.every((d) => done.has(d))) {
        i++;
        continue;
      }
      pending.splice(i, 1);
      started = true;
      if (deps.some(failed)) {
        // "If a request fails, every request that depends on it fails with 424" (json-batching.md).
        done.set(item.id.toLowerCase(), {
          id: item.id,
          status: 424,
          headers: { 'Content-Type': 'application/json' },
          body: graphError(
            outer,
            424,
            'FailedDependency',
            'The request failed because a request it depends on failed.',
          ).body,
        });
        continue;
      }
      const run = runItem(sandbox, outer, item).then((response) => {
        done.set(item.id.toLowerCase(), response);
        running.delete(run);
      });
      running.add(run);
    }
    if (running.size > 0) await Promise.race(running);
    else if (!started) break;
  }
  return items.map((i) => done.get(i.id.toLowerCase()) as BatchItemResponse);
}

/** Dispatches one item through the router as if it had arrived on its own. */
async function runItem(sandbox: Sandbox, outer: Ctx, item: BatchItem): Promise<BatchItemResponse> {
  const ctx = itemCtx(sandbox, outer, item);
  const urlProblem = checkItemUrl(item.url);
  const entry = sandbox.log.begin(ctx, sandbox.now());
  entry.batch = { requestId: outer.requestId, itemId: item.id };
  let response: SandboxResponse;
  try {
    response = urlProblem ? graphError(ctx, 400, 'BadRequest', urlProblem) : await dispatch(sandbox, ctx);
  } catch (err) {
    console.error('sandbox batch item failed', err);
    response = graphError(ctx, 500, 'generalException', 'An internal sandbox error occurred.');
  }
  sandbox.log.end(entry, response.status, sandbox.now(), ctx);
  return await toBatchResponse(item.id, response, ctx);
}

/** Item URLs are relative to the version root, with or without a leading slash (json-batching.md). */
function checkItemUrl(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    return 'Invalid request URL: batch request URLs must be relative to the version root.';
  const first = url.replace(/^\//, '').split(/[/?]/)[0] ?? '';
  // The SDK's BatchRequestContent keeps "/v1.0" (toolchain.md); real Graph answers 400.
  if (/^(v1\.0|beta)$/i.test(first)) return `Resource not found for the segment '${first}'.`;
  if (first.toLowerCase() === '$batch') return 'Nested batch requests are not supported.';
  return undefined;
}

function itemCtx(sandbox: Sandbox, outer: Ctx, item: BatchItem): Ctx {
  const relative = item.url.startsWith('/') ? item.url : `/${item.url}`;
  const url = new URL(`/v1.0${relative}`, sandbox.url);
  const headers: Record<string, string> = { ...(item.headers ?? {}) };
  // Links in item answers name the host the batch was sent to.
  if (typeof outer.headers.host === 'string' && !headers.host) headers.host = outer.headers.host;
  if (typeof outer.headers.authorization === 'string') headers.authorization = outer.headers.authorization;
  const contentType = headers['content-type'] ?? '';
  let payload = Buffer.alloc(0);
  if (item.body !== undefined) {
    if (typeof item.body === 'string' && !/json/i.test(contentType)) {
      // Non-JSON bodies travel base64-encoded (json-batching.md).
      payload = Buffer.from(item.body, 'base64');
    } else payload = Buffer.from(JSON.stringify(item.body), 'utf8');
    headers['content-length'] = String(payload.length);
  }
  const req = Object.assign(Readable.from(payload.length > 0 ? [payload] : []), {
    headers,
    method: item.method,
    url: url.pathname + url.search,
    socket: outer.req.socket,
  }) as unknown as IncomingMessage;
  let cachedBody: Promise<Buffer> | undefined;
  const path = canonicalGraphPath(url.pathname);
  const action = boundActionOf(item.method.toUpperCase(), path);
  const ctx: Ctx = {
    sandbox,
    req,
    method: item.method,
    url,
    path,
    params: {},
    query: url.searchParams,
    headers,
    requestId: newRequestId(),
    clientRequestId: headers['client-request-id'],
    body: () => (cachedBody ??= readBody(req).then((b) => (action ? normaliseActionBody(action, b) : b))),
    async json<T>() {
      const buf = await ctx.body();
      return (buf.length ? JSON.parse(buf.toString('utf8')) : {}) as T;
    },
    responseHeaders: {},
  };
  return ctx;
}

/** Faults, routing and the handler, as the server pipeline (sandbox/index.ts) runs them. */
async function dispatch(sandbox: Sandbox, ctx: Ctx): Promise<SandboxResponse> {
  const fault = sandbox.faults.take(ctx);
  if (fault) {
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (fault.drop) return graphError(ctx, 504, 'UnknownError', 'The request timed out.');
    if (fault.status) return fault.response(ctx);
  }
  const match = sandbox.routes.match(ctx.method, ctx.path);
  if (!match) {
    const missing = resourceNotFound(ctx.path, (prefix) => sandbox.routes.match('GET', prefix) !== null);
    return graphError(ctx, missing.status, missing.code, missing.message);
  }
  if ('allowed' in match) {
    return graphError(ctx, 405, 'BadRequest', `${ctx.method} is not supported on ${ctx.path}`, {
      headers: { allow: match.allowed.join(', ') },
    });
  }
  ctx.params = match.params;
  try {
    return await match.handler(ctx);
  } catch (err) {
    if (err instanceof SyntaxError)
      return graphError(ctx, 400, 'BadRequest', 'Unable to read JSON request payload.');
    throw err;
  }
}

/**
 * Header names as Graph writes them in batch responses ("Content-Type", "Retry-After"). The SDK's
 * BatchResponseContent looks up `headers["Content-Type"]` case-sensitively to decide whether a
 * body is JSON, so the casing matters.
 */
function headerCase(name: string): string {
  const special: Record<string, string> = {
    etag: 'ETag',
    'odata-version': 'OData-Version',
    'www-authenticate': 'WWW-Authenticate',
  };
  const lower = name.toLowerCase();
  return (
    special[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase())
  );
}

async function toBatchResponse(id: string, response: SandboxResponse, ctx: Ctx): Promise<BatchItemResponse> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...ctx.responseHeaders, ...(response.headers ?? {}) })) {
    if (k.toLowerCase() === 'content-length') continue;
    headers[headerCase(k)] = Array.isArray(v) ? v.join(', ') : v;
  }
  const out: BatchItemResponse = { id, status: response.status, headers };
  let raw: unknown = response.body;
  if (response.stream) raw = await streamToBuffer(response.stream);
  if (raw === undefined || raw === null) return out;
  const contentType = headers['Content-Type'] ?? '';
  if (Buffer.isBuffer(raw) || typeof raw === 'string') {
    const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'utf8');
    if (/json/i.test(contentType)) {
      try {
        out.body = JSON.parse(buf.toString('utf8'));
        return out;
      } catch {
        // fall through to base64
      }
    }
    // Binary (non-JSON) bodies come back base64 with the original Content-Type (§3).
    out.body = buf.toString('base64');
    return out;
  }
  out.body = raw;
  return out;
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Shuffles in place, never leaving two or more responses in request order. */
function shuffle<T>(list: T[]): void {
  if (list.length < 2) return;
  const original = [...list];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j] as T, list[i] as T];
  }
  if (list.every((v, i) => v === original[i])) list.push(list.shift() as T);
}
