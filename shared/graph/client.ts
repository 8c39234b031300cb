/**
 * The single Graph chokepoint: every Graph call of the product goes through `graphRequest` (JSON)
 * or `graphRaw` (streams). One `@microsoft/microsoft-graph-client` instance with our own
 * middleware chain (shared/graph/middleware.ts); per-call settings (user, idempotency, mailbox)
 * travel as middleware options. Adds `client-request-id`, `Prefer: IdType="ImmutableId"`
 * (Outlook ids that survive moves, reference §4.2) and `Prefer: outlook.timezone` when asked.
 */
import { randomUUID } from 'node:crypto';
import type * as GraphClient from '@microsoft/microsoft-graph-client';
import { getConfig } from '../config';
import { Problem } from '../http/problem';
import { HEADER_SAFE } from '../http/headers';
import { decodeOrRaw } from '../http/url';
import { graphErrorFrom, GraphError, parseRetryAfter } from './errors';
import type { Connection } from '../storage/connections';
import { MailboxLimiter } from './limiter';
import {
  AuthMiddleware,
  ChokepointOptions,
  isTransportError,
  MailboxLimitMiddleware,
  RetryMiddleware,
  TimeoutMiddleware,
  UsageMiddleware,
} from './middleware';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface GraphCall {
  method: HttpMethod;
  /** Relative to the version root ("/me/messages") or an absolute Graph URL (a nextLink). */
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** JSON-serialisable object, or a string / Buffer sent as is. */
  body?: unknown;
  /** POSTs may declare themselves idempotent; GET, PUT and DELETE always are. */
  idempotent?: boolean;
  /** The mailbox this call targets (shared mailbox UPN or id); defaults to the user. */
  mailbox?: string;
  /** IANA or Windows zone for `Prefer: outlook.timezone`. */
  timezone?: string;
  bodyContentType?: 'text' | 'html';
}

export interface GraphResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  requestId?: string;
}

export interface CallOptions {
  log?: { log(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };
  /** Collects Graph request ids (audit). */
  requestIds?: string[];
  maxWaitMs?: number;
  /** The connection row the caller already read: the token lookup uses it (one read per request). */
  connection?: Connection;
}

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
export const limiter = new MailboxLimiter(() => getConfig().GRAPH_MAILBOX_CONCURRENCY);
let client: { instance: GraphClient.Client; base: string } | undefined;

function graphClient(): GraphClient.Client {
  const base = getConfig().GRAPH_BASE_URL.replace(/\/$/, '');
  if (client?.base === base) return client.instance;
  const sdk = require('@microsoft/microsoft-graph-client') as typeof GraphClient;
  const links = [
    new RetryMiddleware(),
    new AuthMiddleware(),
    new MailboxLimitMiddleware(limiter),
    new UsageMiddleware(),
    new TimeoutMiddleware(),
  ];
  const last = new sdk.HTTPMessageHandler();
  links.forEach((link, i) => link.setNext(links[i + 1] ?? last));
  const chain = links;
  const url = new URL(base);
  const version = url.pathname.replace(/^\/+/, '') || 'v1.0';
  const instance = sdk.Client.initWithMiddleware({
    middleware: chain[0]!,
    baseUrl: `${url.origin}/`,
    defaultVersion: version,
    customHosts: new Set([url.hostname]),
  });
  client = { instance, base };
  return instance;
}

/** Graph's base URL (e.g. https://graph.microsoft.com/v1.0). */
export function graphBase(): string {
  return getConfig().GRAPH_BASE_URL.replace(/\/$/, '');
}

/** Encodes one path segment (ids may contain '/', '+', '=' ...; reference §8.4 and style.md 9). */
export const seg = (id: string): string => encodeURIComponent(id);

function isIdempotent(call: GraphCall): boolean {
  return call.method !== 'POST' && call.method !== 'PATCH' ? true : Boolean(call.idempotent);
}

function mailboxOf(userId: string, call: GraphCall): string {
  if (call.mailbox) return call.mailbox.toLowerCase();
  const m = /^\/?users\/([^/?]+)/i.exec(
    call.url.startsWith('http') ? new URL(call.url).pathname.replace(/^\/[^/]+/, '') : call.url,
  );
  return m ? decodeOrRaw(m[1]!).toLowerCase() : userId;
}

function buildRequest(
  userId: string,
  call: GraphCall,
  opts: CallOptions,
): { request: GraphClient.GraphRequest; options: ChokepointOptions } {
  const sdk = require('@microsoft/microsoft-graph-client') as typeof GraphClient;
  const prefer = ['IdType="ImmutableId"'];
  if (call.timezone) prefer.push(`outlook.timezone="${call.timezone}"`);
  if (call.bodyContentType) prefer.push(`outlook.body-content-type="${call.bodyContentType}"`);
  const headers: Record<string, string> = {
    'client-request-id': randomUUID(),
    Prefer: prefer.join(', '),
    ...call.headers,
  };
  if (call.headers?.Prefer) headers.Prefer = `${prefer.join(', ')}, ${call.headers.Prefer}`;
  // The last line of defence: no input reaches a header unchecked (actions validate their own
  // header-bound fields with headerText, naming the field).
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_SAFE.test(value)) {
      throw new Problem(
        'invalid_input',
        `A value for the ${name} header contains characters HTTP headers cannot carry.`,
        {
          errors: [{ field: name, message: 'must be printable ASCII (it is sent in an HTTP header)' }],
        },
      );
    }
  }
  let request = graphClient().api(call.url).headers(headers).responseType(sdk.ResponseType.RAW);
  if (call.query) {
    const q: Record<string, string> = {};
    // Percent-encoded here, once, for every call: the SDK joins `key=value` raw (shared/graph/odata.ts).
    for (const [k, v] of Object.entries(call.query))
      if (v !== undefined) q[k] = encodeURIComponent(String(v));
    request = request.query(q);
  }
  const onResponse = (_status: number, requestId: string | undefined) => {
    if (requestId) opts.requestIds?.push(requestId);
  };
  const options = new ChokepointOptions(
    userId,
    isIdempotent(call),
    mailboxOf(userId, call),
    opts.log ?? silent,
    onResponse,
    opts.maxWaitMs,
    opts.connection,
  );
  return { request: request.middlewareOptions([options]), options };
}

/**
 * What a failure below the SDK becomes: our own Problems (a token the vault could not get) pass
 * through as they are; timeouts and dropped connections become a GraphError with a 5xx status, so
 * the caller sees 503 upstream_unavailable (outcome unknown for writes) instead of a 500.
 */
function chainFailure(err: unknown, options: ChokepointOptions): unknown {
  const original = options.failure;
  if (original === undefined) return err;
  if (isTransportError(original)) {
    const timeout = (original as { name?: string }).name === 'TimeoutError';
    return new GraphError(
      timeout ? 504 : 502,
      timeout ? 'timeout' : 'connection_failed',
      timeout ? (original as Error).message : 'The connection to Microsoft Graph failed.',
      undefined,
      undefined,
    );
  }
  return original;
}

async function send(
  { request, options }: { request: GraphClient.GraphRequest; options: ChokepointOptions },
  call: GraphCall,
): Promise<Response> {
  try {
    return await sendOnce(request, call);
  } catch (err) {
    throw chainFailure(err, options);
  }
}

async function sendOnce(request: GraphClient.GraphRequest, call: GraphCall): Promise<Response> {
  const body = call.body;
  switch (call.method) {
    case 'GET':
      return (await request.get()) as Response;
    case 'DELETE':
      return (await request.delete()) as Response;
    case 'POST':
      return (await request.post(body ?? '')) as Response;
    case 'PUT':
      return (await request.put(body ?? '')) as Response;
    case 'PATCH':
      return (await request.patch(body ?? {})) as Response;
  }
}

async function parseBody(res: Response): Promise<unknown> {
  if (res.status === 204 || res.status === 202 || res.headers.get('content-length') === '0') {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  if (!text) return undefined;
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** A JSON Graph call for a user. Non-2xx answers (after retries) throw GraphError. */
export async function graphRequest<T = unknown>(
  userId: string,
  call: GraphCall,
  opts: CallOptions = {},
): Promise<GraphResponse<T>> {
  const res = await send(buildRequest(userId, call, opts), call);
  const body = await parseBody(res);
  if (!res.ok)
    throw graphErrorFrom(res.status, res.headers, body, parseRetryAfter(res.headers.get('retry-after')));
  return {
    status: res.status,
    headers: res.headers,
    body: body as T,
    requestId: res.headers.get('request-id') ?? undefined,
  };
}

/** A Graph call whose body is consumed by the caller as a stream (downloads). Redirects are not followed. */
export async function graphRaw(userId: string, call: GraphCall, opts: CallOptions = {}): Promise<Response> {
  const built = buildRequest(userId, { ...call, headers: { ...call.headers } }, opts);
  const res = await send({ ...built, request: built.request.option('redirect', 'manual') }, call);
  if (res.status >= 400) {
    const body = await parseBody(res);
    throw graphErrorFrom(res.status, res.headers, body, parseRetryAfter(res.headers.get('retry-after')));
  }
  return res;
}

export { GraphError };
