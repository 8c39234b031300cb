/**
 * The sandbox's tiny HTTP toolkit: a router with `:param` patterns (or RegExps for Graph's
 * OData path syntax), a per-request context, and response helpers. Kept dependency-free so the
 * sandbox starts in well under a second.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface SandboxResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  /** JSON bodies are serialised; Buffers and strings are sent as they are. */
  body?: unknown;
  /** A stream to pipe (large downloads). */
  stream?: NodeJS.ReadableStream;
}

/**
 * What the request log and the fault injector read of a request (the handlers' full context,
 * `Ctx` in context.ts, extends it).
 */
export interface RequestInfo {
  method: string;
  url: URL;
  /** Path with percent-encoding kept (Graph ids are matched encoded, then decoded by handlers). */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  requestId: string;
  clientRequestId: string | undefined;
  /** Mailbox (user id) the request targets, for throttling and the request log. */
  mailbox?: string;
  /** Requests in flight for that mailbox when this one started, itself included (request log). */
  concurrency?: number;
  /** Token requests: the grant type, copied to the request log entry (never the token). */
  grantType?: string;
}

export type RouteHandler<C> = (ctx: C) => Promise<SandboxResponse> | SandboxResponse;

interface Route<C> {
  method: string;
  regex: RegExp;
  names: string[];
  handler: RouteHandler<C>;
}

/** Routes requests to handlers taking the context type C (the sandbox's is `Ctx`, context.ts). */
export class Router<C> {
  private readonly routes: Array<Route<C>> = [];

  /**
   * `pattern` is either a path with `:name` segments (`/v1.0/users/:id`) or a RegExp whose named
   * groups become params. Patterns match the raw (still percent-encoded) path.
   */
  on(method: string | string[], pattern: string | RegExp, handler: RouteHandler<C>): this {
    const methods = Array.isArray(method) ? method : [method];
    let regex: RegExp;
    let names: string[] = [];
    if (typeof pattern === 'string') {
      const parts = pattern.split('/').map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      });
      regex = new RegExp(`^${parts.join('/')}/?$`, 'i');
    } else {
      regex = pattern;
      names = [];
    }
    for (const m of methods) this.routes.push({ method: m.toUpperCase(), regex, names, handler });
    return this;
  }

  match(
    method: string,
    path: string,
  ): { handler: RouteHandler<C>; params: Record<string, string> } | { allowed: string[] } | null {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (!m) continue;
      if (route.method !== method && route.method !== '*') {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = safeDecode(m[i + 1] ?? '');
      });
      for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = safeDecode(v);
      return { handler: route.handler, params };
    }
    return allowed.length > 0 ? { allowed } : null;
  }
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return {
    status,
    headers: { 'content-type': 'application/json; odata.metadata=minimal', ...headers },
    body,
  };
}

export function empty(status: number, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers };
}

export function text(
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): SandboxResponse {
  return { status, headers: { 'content-type': contentType }, body };
}

/** Graph's error envelope (reference §1.1): code, message, innerError with date and request ids. */
export function graphError(
  ctx: Pick<RequestInfo, 'requestId' | 'clientRequestId'>,
  status: number,
  code: string,
  message: string,
  extra: { headers?: Record<string, string>; innerCode?: string; inner?: Record<string, string> } = {},
): SandboxResponse {
  const innerError: Record<string, string> = {
    date: new Date().toISOString().slice(0, 19),
    'request-id': ctx.requestId,
    'client-request-id': ctx.clientRequestId ?? ctx.requestId,
  };
  if (extra.innerCode) innerError.code = extra.innerCode;
  // Extra innerError members, e.g. a 429's "status" and "message" (reference §2.2).
  if (extra.inner) Object.assign(innerError, extra.inner);
  return json(status, { error: { code, message, innerError } }, extra.headers ?? {});
}

export function newRequestId(): string {
  return randomUUID();
}

export async function readBody(req: IncomingMessage, limit = 200 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function writeResponse(
  res: ServerResponse,
  response: SandboxResponse,
  extraHeaders: Record<string, string>,
): void {
  const headers: Record<string, string | string[]> = { ...extraHeaders, ...(response.headers ?? {}) };
  if (response.stream) {
    res.writeHead(response.status, headers);
    response.stream.pipe(res);
    return;
  }
  let payload: Buffer | undefined;
  if (response.body === undefined || response.body === null) payload = undefined;
  else if (Buffer.isBuffer(response.body)) payload = response.body;
  else if (typeof response.body === 'string') payload = Buffer.from(response.body, 'utf8');
  else payload = Buffer.from(JSON.stringify(response.body), 'utf8');
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(response.status, headers);
  res.end(payload);
}
