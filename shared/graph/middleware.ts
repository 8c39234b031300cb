/**
 * The Graph client's middleware chain (`@microsoft/microsoft-graph-client` custom middleware):
 *
 *   Retry → Auth → MailboxLimit → Usage → Timeout → HTTPMessageHandler
 *
 * - Retry (p-retry): 429 for every method (Graph throttles before executing, throttling.md);
 *   5xx, timeouts and resets only for idempotent requests; Retry-After honoured (seconds,
 *   fractional seconds, HTTP-date), jittered exponential backoff otherwise, a bounded total wait.
 * - Auth: a token from the vault per attempt; a 401 InvalidAuthenticationToken forces one refresh
 *   (reference §7.7); a CAE `insufficient_claims` challenge gets one token with those claims
 *   (§7.8). Never more than one extra try.
 * - MailboxLimit: at most N requests in flight per mailbox per instance (Outlook allows 4).
 * - Timeout: an AbortController per attempt, cleared when the response headers arrive.
 */
import type { Context, Middleware, MiddlewareOptions } from '@microsoft/microsoft-graph-client';
import pRetry, { AbortError } from 'p-retry';
import { getAccessToken } from '../auth/token-vault';
import type { Connection } from '../storage/connections';
import { getConfig } from '../config';
import { Problem } from '../http/problem';
import { parseRetryAfter } from './errors';
import type { MailboxLimiter } from './limiter';
import { countRoundTrip } from '../meter';
import { inSpan, recordGraphRequest, SpanKind } from '../telemetry';
import { recordGraphResponse, recordRetry } from './usage';

type Logger = { log(...a: unknown[]): void; warn(...a: unknown[]): void; error(...a: unknown[]): void };

/** Per-request settings the chain reads (passed through the client's middleware options). */
export class ChokepointOptions implements MiddlewareOptions {
  constructor(
    readonly userId: string,
    readonly idempotent: boolean,
    readonly mailbox: string,
    readonly log: Logger,
    readonly onResponse?: (status: number, requestId: string | undefined) => void,
    /** Max total wait for retries (ms); defaults to GRAPH_MAX_RETRY_WAIT_SECONDS. */
    readonly maxWaitMs?: number,
    /** The connection row the caller read for this request (the token lookup reuses it). */
    readonly connection?: Connection,
  ) {}
  /**
   * What the chain finally threw. The Graph SDK wraps anything thrown by middleware into its own
   * GraphError (statusCode -1, original lost), so the client reads the original from here.
   */
  failure?: unknown;
}

function optionsOf(context: Context): ChokepointOptions {
  const opt = context.middlewareControl?.getMiddlewareOptions(ChokepointOptions) as
    ChokepointOptions | undefined;
  if (!opt) throw new Error('Graph request without chokepoint options');
  return opt;
}

function setHeader(context: Context, name: string, value: string): void {
  context.options ??= {};
  const headers = context.options.headers;
  if (headers instanceof Headers) headers.set(name, value);
  else context.options.headers = { ...(headers as Record<string, string> | undefined), [name]: value };
}

abstract class Link implements Middleware {
  protected next!: Middleware;
  setNext(next: Middleware): void {
    this.next = next;
  }
  abstract execute(context: Context): Promise<void>;
}

const RETRYABLE_5XX = new Set([500, 502, 503, 504]);
/** Attempts per request (the first plus 10 retries), whatever the wait budget still allows. */
const MAX_ATTEMPTS = 11;

class RetryableResponse extends Error {
  constructor(
    readonly status: number,
    readonly waitMs: number,
  ) {
    super(`Graph answered ${status}`);
  }
}

export function backoffMs(attempt: number, baseMs = 500, capMs = 30000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + Math.random() * (exp / 2)); // "equal jitter"
}

export function isTransportError(err: unknown): boolean {
  // Our own problems (e.g. the vault's reauth_required) carry a `code` too but are not transport.
  if (err instanceof Problem) return false;
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  return (
    e.name === 'AbortError' ||
    e.name === 'TimeoutError' ||
    e.name === 'TypeError' ||
    Boolean(e.code ?? e.cause?.code)
  );
}

export class RetryMiddleware extends Link {
  async execute(context: Context): Promise<void> {
    const opt = optionsOf(context);
    const maxWaitMs = opt.maxWaitMs ?? getConfig().GRAPH_MAX_RETRY_WAIT_SECONDS * 1000;
    let waited = 0;
    await pRetry(
      async (attempt) => {
        context.response = undefined;
        opt.failure = undefined;
        try {
          await this.next.execute(context);
        } catch (err) {
          // Kept as thrown: AbortError re-creates errors from another realm (Jest) as plain Errors.
          opt.failure = err;
          // Timeouts and resets: the request may have run, so only idempotent ones go again.
          if (opt.idempotent && isTransportError(err)) {
            const wait = backoffMs(attempt);
            if (waited + wait > maxWaitMs || attempt >= MAX_ATTEMPTS) throw new AbortError(err as Error);
            throw new RetryableResponse(0, wait);
          }
          throw new AbortError(err as Error);
        }
        const res = context.response as Response | undefined;
        if (!res) return;
        const retryable = res.status === 429 || (opt.idempotent && RETRYABLE_5XX.has(res.status));
        if (!retryable) return;
        const hinted = parseRetryAfter(res.headers.get('retry-after'));
        // Never earlier than Graph asked; a little later is fine (spreads synchronized retries).
        const wait = hinted !== undefined ? hinted + Math.round(Math.random() * 50) : backoffMs(attempt);
        // Give up (budget or attempts spent): the caller sees this response (throttled / unavailable).
        if (waited + wait > maxWaitMs || attempt >= MAX_ATTEMPTS) return;
        await res.body?.cancel().catch(() => undefined);
        throw new RetryableResponse(res.status, wait);
      },
      {
        retries: MAX_ATTEMPTS - 1,
        minTimeout: 0,
        maxTimeout: 0,
        factor: 1,
        randomize: false,
        onFailedAttempt: async ({ error }) => {
          if (!(error instanceof RetryableResponse)) return;
          waited += error.waitMs;
          recordRetry(opt.userId, error.waitMs);
          opt.log.log(JSON.stringify({ event: 'graph_retry', status: error.status, waitMs: error.waitMs }));
          await new Promise((r) => setTimeout(r, error.waitMs));
        },
      },
    ).catch((err: unknown) => {
      // Out of retries on a transport error: surface the original error.
      const original = err instanceof AbortError ? err.originalError : err;
      opt.failure ??= original;
      throw original;
    });
  }
}

function decodeClaims(www: string): string | undefined {
  if (!/error="insufficient_claims"/i.test(www)) return undefined;
  const m = /claims="([^"]+)"/i.exec(www);
  if (!m) return undefined;
  try {
    return Buffer.from(m[1]!, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

async function invalidToken(res: Response): Promise<boolean> {
  try {
    const body = (await res.clone().json()) as { error?: { code?: string } };
    return body.error?.code === 'InvalidAuthenticationToken';
  } catch {
    return false;
  }
}

export class AuthMiddleware extends Link {
  async execute(context: Context): Promise<void> {
    const opt = optionsOf(context);
    const first = await getAccessToken(opt.userId, {}, opt.log, opt.connection);
    setHeader(context, 'Authorization', `Bearer ${first.token}`);
    await this.next.execute(context);
    const res = context.response;
    if (!res || res.status !== 401) return;
    const claims = decodeClaims(res.headers.get('www-authenticate') ?? '');
    if (claims) {
      // CAE: one token carrying the claims; interaction needed → the vault answers reauth_required.
      const token = await getAccessToken(opt.userId, { claims }, opt.log);
      setHeader(context, 'Authorization', `Bearer ${token.token}`);
    } else if (await invalidToken(res)) {
      const token = await getAccessToken(opt.userId, { forceRefresh: true }, opt.log);
      setHeader(context, 'Authorization', `Bearer ${token.token}`);
    } else {
      return;
    }
    await res.body?.cancel().catch(() => undefined);
    context.response = undefined;
    await this.next.execute(context);
  }
}

export class MailboxLimitMiddleware extends Link {
  constructor(private readonly limiter: MailboxLimiter) {
    super();
  }
  async execute(context: Context): Promise<void> {
    const opt = optionsOf(context);
    const release = await this.limiter.acquire(opt.mailbox);
    try {
      await this.next.execute(context);
    } finally {
      release();
    }
  }
}

export class UsageMiddleware extends Link {
  async execute(context: Context): Promise<void> {
    const opt = optionsOf(context);
    const method = (context.options?.method ?? 'GET').toUpperCase();
    countRoundTrip(`graph ${method}`);
    // One span per attempt: method and outcome only (the URL names users and items).
    await inSpan(`graph ${method}`, SpanKind.CLIENT, { 'http.request.method': method }, async (span) => {
      await this.next.execute(context);
      const res = context.response;
      if (!res) return;
      const throttled = res.status === 429 || res.status === 503;
      span.setAttributes({
        'http.response.status_code': res.status,
        'm365.throttled': throttled,
        ...(throttled && res.headers.get('retry-after')
          ? { 'm365.retry_after': res.headers.get('retry-after')! }
          : {}),
      });
      recordGraphRequest(method, res.status);
      recordGraphResponse(opt.userId, res.status);
      opt.onResponse?.(res.status, res.headers.get('request-id') ?? undefined);
    });
  }
}

export class TimeoutMiddleware extends Link {
  async execute(context: Context): Promise<void> {
    const ms = getConfig().GRAPH_REQUEST_TIMEOUT_MS;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException(`Graph did not answer within ${ms} ms`, 'TimeoutError')),
      ms,
    );
    context.options ??= {};
    context.options.signal = controller.signal;
    try {
      await this.next.execute(context);
    } finally {
      clearTimeout(timer);
    }
  }
}
