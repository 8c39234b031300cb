/**
 * Graph errors as values the route wrapper turns into Graph's envelope (reference §1.1), with the
 * code casing of the workload that would answer: Outlook/Exchange `ErrorPascalCase`, OneDrive and
 * generic `camelCase`, directory `Request_*` / `Authorization_*`, Teams plain PascalCase
 * (https://learn.microsoft.com/graph/errors: "codes are not normalized across workloads").
 */

export type Workload = 'outlook' | 'drive' | 'directory' | 'teams' | 'planner' | 'generic';

/** Throw this from a Graph handler; the wrapper answers with Graph's error envelope. */
export class GraphHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: { headers?: Record<string, string>; innerCode?: string } = {},
  ) {
    super(message);
    this.name = 'GraphHttpError';
  }
}

type ErrorKind = 'badRequest' | 'badQuery' | 'notFound' | 'accessDenied' | 'conflict' | 'invalidId';

const CODES: Record<Workload, Record<ErrorKind, string>> = {
  outlook: {
    badRequest: 'ErrorInvalidRequest',
    // Outlook answers malformed OData options with ErrorInvalidUrlQuery(Filter) (observed).
    badQuery: 'ErrorInvalidUrlQuery',
    notFound: 'ErrorItemNotFound',
    accessDenied: 'ErrorAccessDenied',
    conflict: 'ErrorConflict',
    invalidId: 'ErrorInvalidIdMalformed',
  },
  drive: {
    badRequest: 'invalidRequest',
    badQuery: 'invalidRequest',
    notFound: 'itemNotFound',
    accessDenied: 'accessDenied',
    conflict: 'nameAlreadyExists',
    invalidId: 'invalidRequest',
  },
  directory: {
    badRequest: 'Request_BadRequest',
    badQuery: 'Request_UnsupportedQuery',
    notFound: 'Request_ResourceNotFound',
    accessDenied: 'Authorization_RequestDenied',
    conflict: 'Request_MultipleObjectsWithSameKeyValue',
    invalidId: 'Request_BadRequest',
  },
  teams: {
    badRequest: 'BadRequest',
    badQuery: 'BadRequest',
    notFound: 'NotFound',
    accessDenied: 'Forbidden',
    conflict: 'Conflict',
    invalidId: 'BadRequest',
  },
  // Planner answers with an empty code and a message (json-batching.md's Planner 403 example;
  // planner-overview.md names codes only for its limits, e.g. MaximumChecklistItemsOnTask).
  planner: {
    badRequest: '',
    badQuery: '',
    notFound: '',
    accessDenied: '',
    conflict: '',
    invalidId: '',
  },
  generic: {
    badRequest: 'BadRequest',
    badQuery: 'BadRequest',
    notFound: 'itemNotFound',
    accessDenied: 'accessDenied',
    conflict: 'conflict',
    invalidId: 'invalidRequest',
  },
};

/** The code a workload uses for a kind of failure (e.g. `errorCode('outlook', 'notFound')`). */
export function errorCode(workload: Workload, kind: ErrorKind): string {
  return CODES[workload][kind];
}

export function badRequest(workload: Workload, message: string): GraphHttpError {
  return new GraphHttpError(400, errorCode(workload, 'badRequest'), message);
}

/** 400 for an unsupported or malformed query option ($filter, $top, $orderby, ...). */
export function badQuery(workload: Workload, message: string, code?: string): GraphHttpError {
  return new GraphHttpError(400, code ?? errorCode(workload, 'badQuery'), message);
}

export function notFound(workload: Workload, message?: string): GraphHttpError {
  const defaults: Record<Workload, string> = {
    // Observed Exchange wording (graph-behaviour.md §1.1).
    outlook: 'The specified object was not found in the store.',
    drive: 'Item not found',
    directory: 'Resource does not exist or one of its queried reference-property objects are not present.',
    teams: 'Not found',
    planner: 'The requested item is not found.',
    generic: 'The resource could not be found.',
  };
  return new GraphHttpError(404, errorCode(workload, 'notFound'), message ?? defaults[workload]);
}

export function accessDenied(workload: Workload, message?: string): GraphHttpError {
  const defaults: Record<Workload, string> = {
    outlook: 'Access is denied. Check credentials and try again.',
    drive: 'Access denied',
    directory: 'Insufficient privileges to complete the operation.',
    teams: 'Forbidden',
    planner: 'You do not have the required permissions to access this item.',
    generic: 'Access denied',
  };
  return new GraphHttpError(403, errorCode(workload, 'accessDenied'), message ?? defaults[workload]);
}

/** Formats a Retry-After value in seconds the way Graph does: integers plain, fractions kept. */
export function formatRetryAfter(seconds: number): string {
  const rounded = Math.max(0, Math.round(seconds * 1000) / 1000);
  return Number.isInteger(rounded) ? String(rounded) : rounded.toString();
}

/**
 * A throttled answer (reference §2.2, https://learn.microsoft.com/graph/throttling): 429 with a
 * Retry-After header and an innerError carrying code "429" and status "429".
 */
export function throttled(code: string, message: string, retryAfterSeconds: number): GraphHttpError {
  return new GraphHttpError(429, code, message, {
    headers: { 'retry-after': formatRetryAfter(retryAfterSeconds) },
    innerCode: '429',
  });
}
