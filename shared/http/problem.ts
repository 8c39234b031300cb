/**
 * application/problem+json (RFC 9457) with stable snake_case codes. Every failure a caller can
 * see is one of these; docs/troubleshooting.md maps each code to causes and fixes.
 */
import type { HttpResponseInit } from '@azure/functions';

export const PROBLEM_TYPES = {
  invalid_input: { status: 400, title: 'The request is not valid' },
  unauthenticated: { status: 401, title: 'Caller authentication is missing or invalid' },
  not_connected: { status: 409, title: 'No Microsoft account is connected for this user' },
  reauth_required: { status: 401, title: 'The Microsoft connection needs the user to sign in again' },
  consent_required: { status: 403, title: 'Consent is required for the requested permissions' },
  interaction_required: {
    status: 401,
    title: 'Microsoft requires the user to sign in again with extra steps (MFA, Conditional Access)',
  },
  feature_not_granted: {
    status: 403,
    title: 'The connection does not include the feature this action needs',
  },
  feature_unavailable: {
    status: 403,
    title: 'This feature is not available for this kind of Microsoft account',
  },
  forbidden: { status: 403, title: 'Microsoft Graph denied access' },
  calendar_not_shared: { status: 403, title: 'That calendar is not shared with the user' },
  origin_not_allowed: { status: 403, title: 'Requests from this browser origin are not allowed' },
  insufficient_scope: { status: 403, title: "The MCP client's grant does not allow this" },
  not_found: { status: 404, title: 'Not found' },
  account_not_found: { status: 404, title: 'No connected Microsoft account by that name' },
  route_not_found: { status: 404, title: 'No function serves this route' },
  method_not_allowed: { status: 405, title: 'Method not allowed on this route' },
  conflict: { status: 409, title: 'Conflict with the current state of the resource' },
  confirmation_required: {
    status: 409,
    title: 'The send policy asks the user to confirm this message first',
  },
  recipient_not_allowed: { status: 403, title: 'A recipient is outside the allowed domains' },
  undo_window_passed: {
    status: 409,
    title: 'The message has already gone out; it can no longer be cancelled',
  },
  precondition_failed: { status: 412, title: 'The resource changed since it was read' },
  idempotency_key_reused: {
    status: 422,
    title: 'The Idempotency-Key was already used for a different request',
  },
  outcome_unknown: {
    status: 502,
    title: 'The outcome is unknown: the change may or may not have taken effect',
  },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  content_encrypted: { status: 422, title: 'The document is encrypted and cannot be read as text' },
  throttled: { status: 429, title: 'Microsoft Graph is throttling requests' },
  state_invalid: { status: 400, title: 'The sign-in attempt is unknown, expired or already used' },
  completion_invalid: { status: 400, title: 'The completion code is unknown, expired or already used' },
  connect_user_mismatch: {
    status: 403,
    title: 'The sign-in was started by a different user; nothing was connected',
  },
  app_credentials_invalid: { status: 503, title: 'The app registration credentials are invalid or expired' },
  upstream_unavailable: { status: 503, title: 'Microsoft Graph is unavailable' },
  upstream_error: { status: 502, title: 'Microsoft Graph returned an unexpected error' },
  storage_unavailable: { status: 503, title: 'Storage is unavailable' },
  configuration_invalid: { status: 503, title: 'The service configuration is invalid' },
  configuration_unavailable: { status: 503, title: 'A secret the service needs cannot be read right now' },
  function_key_required: { status: 401, title: 'A function key is required' },
  function_key_invalid: { status: 401, title: 'The function key is not valid for this app' },
  internal_error: { status: 500, title: 'Unexpected internal error' },
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  requestId?: string;
  [extension: string]: unknown;
}

/** A failure meant for the caller. `extensions` are extra members (e.g. errors, retryAfter, authorizationUrl). */
export class Problem extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
    status?: number,
  ) {
    super(`${code}: ${detail}`);
    this.name = 'Problem';
    this.status = status ?? PROBLEM_TYPES[code].status;
  }
}

export function problemBody(problem: Problem, requestId?: string): ProblemBody {
  return {
    ...problem.extensions,
    type: `https://errors.m365-integration.dev/${problem.code}`,
    title: PROBLEM_TYPES[problem.code].title,
    status: problem.status,
    code: problem.code,
    detail: problem.detail,
    ...(requestId ? { requestId } : {}),
  };
}

export function problemResponse(problem: Problem, requestId?: string): HttpResponseInit {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store', ...problem.headers },
    body: JSON.stringify(problemBody(problem, requestId)),
  };
}
