/**
 * One wrapper for every HTTP function: authenticates the caller when asked, turns Problems into
 * problem+json, maps infrastructure failures to 503 problems, and never lets a stack trace,
 * token or message body reach the response or the log.
 */
import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ConfigError } from '../config';
import { SecretUnavailableError } from '../secrets';
import { authenticateCaller, type Caller } from './caller';
import { Problem, problemResponse } from './problem';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/** Maps any error to the Problem a caller should see. */
export function toProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  if (err instanceof ConfigError) {
    return new Problem(
      'configuration_invalid',
      'The service is misconfigured; an operator must fix its settings (see the health endpoint).',
    );
  }
  if (err instanceof SecretUnavailableError) {
    return new Problem(
      'configuration_unavailable',
      `Key Vault did not give the secret ${err.setting}: it is unreachable, or denies the app's identity. Nothing was done; retry shortly. An operator should check KEY_VAULT_URL, the secret and the identity's Key Vault Secrets User role (/api/health names the failing part).`,
      { setting: err.setting },
      { 'retry-after': '30' },
    );
  }
  const e = err as { name?: string; code?: string; statusCode?: number; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (
    e.name === 'RestError' &&
    ((code !== undefined && NETWORK_CODES.has(code)) || e.statusCode === undefined || e.statusCode >= 500)
  ) {
    return new Problem(
      'storage_unavailable',
      'Storage is unavailable right now; nothing was changed. Retry shortly.',
      {},
      { 'retry-after': '5' },
    );
  }
  const problem = new Problem(
    'internal_error',
    'Something went wrong on our side. Retry later; if it persists, report the requestId.',
  );
  // Kept for the log line (never the response): a 500 without its cause cannot be diagnosed.
  Object.defineProperty(problem, 'cause', { value: err, enumerable: false });
  return problem;
}

export interface RequestContext {
  request: HttpRequest;
  context: InvocationContext;
  /** The invocation id, returned to callers as requestId and logged on every line. */
  requestId: string;
}

export interface AuthedRequestContext extends RequestContext {
  caller: Caller;
}

function logFailure(context: InvocationContext, problem: Problem, err: unknown): void {
  if (problem.code === 'internal_error') {
    const e = err as Error & { statusCode?: number; code?: string };
    const cause = e?.cause as (Error & { code?: string }) | undefined;
    // Name, code and message only (and the same of its cause): stack traces may carry request data.
    context.error(
      JSON.stringify({
        event: 'unhandled_error',
        error: e?.name,
        errorCode: e?.code,
        statusCode: e?.statusCode,
        message: e?.message?.slice(0, 300),
        ...(cause
          ? { cause: { error: cause.name, errorCode: cause.code, message: cause.message?.slice(0, 300) } }
          : {}),
      }),
    );
  } else if (problem.status >= 500) {
    const e = err as { name?: string; code?: string; statusCode?: number };
    context.warn(
      JSON.stringify({
        event: 'request_failed',
        code: problem.code,
        error: e?.name,
        errorCode: e?.code,
        statusCode: e?.statusCode,
      }),
    );
  }
}

/**
 * Response header values the host can send: a value with CR/LF or characters beyond Latin-1 would
 * make the host throw (a 500 for what is usually a caller's odd input echoed back), so such
 * characters are replaced, and the replacement is logged.
 */
function sendableHeaders(
  headers: Record<string, string> | undefined,
  context: InvocationContext,
): Record<string, string> | undefined {
  if (!headers) return headers;
  let out: Record<string, string> | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' && /[^\t\x20-\x7e\x80-\xff]/.test(value)) {
      out ??= { ...headers };
      out[name] = value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
      context.warn(JSON.stringify({ event: 'response_header_sanitized', header: name }));
    }
  }
  return out ?? headers;
}

export function httpHandler(fn: (rc: RequestContext) => Promise<HttpResponseInit>): HttpHandler {
  return async (request, context) => {
    const requestId = context.invocationId;
    try {
      const response = await fn({ request, context, requestId });
      return {
        ...response,
        headers: {
          'x-request-id': requestId,
          ...sendableHeaders(response.headers as Record<string, string> | undefined, context),
        },
      };
    } catch (err) {
      const problem = toProblem(err);
      logFailure(context, problem, err);
      const response = problemResponse(problem, requestId);
      return {
        ...response,
        headers: {
          ...sendableHeaders(response.headers as Record<string, string>, context),
          'x-request-id': requestId,
        },
      };
    }
  };
}

/** As httpHandler, with the caller authenticated from the bearer JWT first. */
export function authedHandler(fn: (rc: AuthedRequestContext) => Promise<HttpResponseInit>): HttpHandler {
  return httpHandler(async (rc) => {
    const caller = await authenticateCaller(rc.request);
    return await fn({ ...rc, caller });
  });
}

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'cache-control': 'no-store', ...headers } };
}
