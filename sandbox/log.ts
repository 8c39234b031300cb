/**
 * The sandbox request log: what the product sent and when, so tests can prove retries waited for
 * Retry-After, that at most 4 requests per mailbox ran at once, and so on. Tokens never enter it.
 */

import type { RequestInfo } from './http';
export interface LogEntry {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  startedAt: number;
  endedAt?: number;
  status?: number;
  /** User id whose mailbox the request touched (set by the Graph layer). */
  mailbox?: string;
  /** Requests in flight for that mailbox when this one started, itself included. */
  concurrency?: number;
  clientRequestId?: string;
  /** For token requests: the grant type (never the token). */
  grantType?: string;
  /** Set on requests that ran as an item of a JSON $batch (the outer call has its own entry). */
  batch?: { requestId: string; itemId: string };
}

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'x-functions-key', 'proxy-authorization']);
const SECRET_QUERY = new Set([
  'code',
  'refresh_token',
  'client_secret',
  'access_token',
  'id_token',
  'authtoken',
  'code_verifier',
]);

export class RequestLog {
  private seq = 0;
  readonly entries: LogEntry[] = [];
  private readonly max = 20000;

  begin(ctx: RequestInfo, now: number): LogEntry {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.headers)) {
      if (v === undefined || SECRET_HEADERS.has(k)) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const query: Record<string, string> = {};
    for (const [k, v] of ctx.query) query[k] = SECRET_QUERY.has(k.toLowerCase()) ? '[redacted]' : v;
    const entry: LogEntry = {
      seq: ++this.seq,
      method: ctx.method,
      path: ctx.path,
      query,
      headers,
      startedAt: now,
      clientRequestId: ctx.clientRequestId,
    };
    this.entries.push(entry);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    return entry;
  }

  end(entry: LogEntry, status: number, now: number, ctx: RequestInfo): void {
    entry.status = status;
    entry.endedAt = now;
    if (ctx.mailbox && !entry.mailbox) entry.mailbox = ctx.mailbox;
    if (ctx.concurrency !== undefined && entry.concurrency === undefined) entry.concurrency = ctx.concurrency;
    if (ctx.grantType) entry.grantType = ctx.grantType;
  }

  since(seq = 0): LogEntry[] {
    return this.entries.filter((e) => e.seq > seq);
  }

  clear(): void {
    this.entries.length = 0;
  }

  get lastSeq(): number {
    return this.seq;
  }
}
