/**
 * Graph errors, typed: status first, code as a hint (codes are not normalised across workloads,
 * reference §1.1), the request id for support, and Retry-After when Graph sent one.
 */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | undefined,
    readonly retryAfterMs: number | undefined,
    /** The most specific inner code, when Graph nested one. */
    readonly innerCode?: string,
    readonly wwwAuthenticate?: string,
  ) {
    super(message);
    this.name = 'GraphError';
  }

  /** True for either casing Graph uses for "not found" (ErrorItemNotFound / itemNotFound, reference §1.1). */
  get isNotFound(): boolean {
    return this.status === 404;
  }
}

interface Envelope {
  error?: { code?: string; message?: string; innerError?: Inner; innererror?: Inner };
}
interface Inner {
  code?: string;
  'request-id'?: string;
  innerError?: Inner;
  innererror?: Inner;
}

/** Walks Graph's nested innerError chain to its most specific code (errors.md "Code property"). */
function innermostCode(inner: Inner | undefined): string | undefined {
  let code: string | undefined;
  let cur = inner;
  for (let depth = 0; cur && depth < 8; depth++) {
    if (cur.code && !/^\d+$/.test(cur.code)) code = cur.code;
    cur = cur.innerError ?? cur.innererror;
  }
  return code;
}

export function graphErrorFrom(
  status: number,
  headers: Headers,
  body: unknown,
  retryAfterMs?: number,
): GraphError {
  const env = (body && typeof body === 'object' ? body : {}) as Envelope;
  const inner = env.error?.innerError ?? env.error?.innererror;
  return new GraphError(
    status,
    env.error?.code || `http_${status}`,
    (env.error?.message ?? `Graph answered ${status}`).slice(0, 500),
    headers.get('request-id') ?? inner?.['request-id'] ?? undefined,
    retryAfterMs,
    innermostCode(inner),
    headers.get('www-authenticate') ?? undefined,
  );
}

/** Parses Retry-After: delta-seconds (fractional too, as Graph sends "2.128") or an HTTP-date. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  return undefined;
}
