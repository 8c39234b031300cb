/**
 * What a caller sees when Graph says no: status first, the Graph code as a hint (reference §1.1,
 * "map by HTTP status first"), Graph's request id carried along for support.
 */
import { Problem } from '../http/problem';
import type { GraphError } from './errors';

export function graphProblem(err: GraphError, options: { idempotent: boolean }): Problem {
  const graph = { graphCode: err.code, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
  switch (true) {
    case err.status === 400:
      return new Problem(
        'invalid_input',
        `Microsoft Graph rejected the request (${err.code}). Check the input values.`,
        graph,
      );
    case err.status === 401:
      return new Problem(
        'reauth_required',
        'Microsoft Graph no longer accepts this connection; the user must sign in again.',
        graph,
      );
    case err.status === 403:
      return new Problem(
        'forbidden',
        `Microsoft Graph denied access (${err.code}): the user or the app lacks a permission, a licence, or the admin has not consented.`,
        graph,
      );
    case err.status === 404:
      return new Problem(
        'not_found',
        `The item was not found (${err.code}); it may have been moved or deleted.`,
        graph,
      );
    case err.status === 409:
      return new Problem('conflict', `The request conflicts with the current state (${err.code}).`, graph);
    case err.status === 412:
      return new Problem(
        'precondition_failed',
        'The item changed since it was read; read it again and retry.',
        graph,
      );
    case err.status === 413:
      return new Problem(
        'payload_too_large',
        `The request is larger than Microsoft Graph accepts (${err.code}).`,
        graph,
      );
    case err.status === 429: {
      const retryAfter = Math.max(1, Math.ceil((err.retryAfterMs ?? 60000) / 1000));
      return new Problem(
        'throttled',
        `Microsoft Graph is throttling this mailbox; retry after ${retryAfter} s.`,
        { ...graph, retryAfter },
        {
          'retry-after': String(retryAfter),
        },
      );
    }
    case err.status >= 500: {
      const detail = options.idempotent
        ? 'Microsoft Graph is unavailable right now; nothing more can be done until it recovers. Retry later.'
        : 'Microsoft Graph failed while handling the request: the outcome is unknown (it may or may not have taken effect). Check before retrying.';
      const retryAfter =
        err.retryAfterMs !== undefined ? Math.max(1, Math.ceil(err.retryAfterMs / 1000)) : undefined;
      return new Problem(
        'upstream_unavailable',
        detail,
        { ...graph, outcomeUnknown: !options.idempotent, ...(retryAfter ? { retryAfter } : {}) },
        retryAfter ? { 'retry-after': String(retryAfter) } : {},
      );
    }
    default:
      return new Problem('upstream_error', `Microsoft Graph answered ${err.status} (${err.code}).`, graph);
  }
}
