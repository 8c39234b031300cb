/**
 * The identity platform's error shapes: the token endpoint's JSON body and the authorize
 * endpoint's error redirect (reference §7.2, §7.3).
 * [EMU] Shape per https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 * ("Handling error codes in your application"): error, error_description with the AADSTS code
 * and Trace ID / Correlation ID / Timestamp lines joined by CRLF, error_codes, timestamp,
 * trace_id, correlation_id, error_uri, and suberror where MSAL needs it.
 */
import type { Ctx } from '../context';
import { randomUUID } from 'node:crypto';
import type { SandboxResponse } from '../http';

export interface AadErrorSpec {
  status?: number;
  error: string;
  code: number;
  message: string;
  suberror?: string;
  /** Extra top-level fields (e.g. `claims` for a claims challenge). */
  extra?: Record<string, unknown>;
}

/** `2016-01-09 02:02:12Z`, the format Entra uses in error bodies. */
export function aadTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}

export function aadErrorBody(ctx: Ctx, spec: AadErrorSpec): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = ctx.clientRequestId ?? randomUUID();
  const timestamp = aadTimestamp(ctx.sandbox.now());
  const body: Record<string, unknown> = {
    error: spec.error,
    error_description: `AADSTS${spec.code}: ${spec.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [spec.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${spec.code}`,
    ...spec.extra,
  };
  if (spec.suberror) body.suberror = spec.suberror;
  return body;
}

/** Token-endpoint error: 400 unless given (invalid_client is 401, §7.3). */
export function aadError(ctx: Ctx, spec: AadErrorSpec): SandboxResponse {
  return {
    status: spec.status ?? 400,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store, no-cache',
      pragma: 'no-cache',
    },
    body: aadErrorBody(ctx, spec),
  };
}

/** Adds OAuth response parameters to a redirect URI, keeping any query it already has. */
export function redirectWith(
  redirectUri: string,
  params: Record<string, string | undefined>,
  mode: 'query' | 'fragment' = 'query',
): string {
  const url = new URL(redirectUri);
  const extra = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) extra.set(k, v);
  if (mode === 'fragment') {
    url.hash = extra.toString();
    return url.toString();
  }
  for (const [k, v] of extra) url.searchParams.set(k, v);
  return url.toString();
}

/** The description Entra puts on authorize error redirects (no CRLF trailer there). */
export function redirectErrorDescription(ctx: Ctx, code: number, message: string): string {
  return `AADSTS${code}: ${message} Trace ID: ${randomUUID()} Correlation ID: ${ctx.clientRequestId ?? randomUUID()} Timestamp: ${aadTimestamp(ctx.sandbox.now())}`;
}
