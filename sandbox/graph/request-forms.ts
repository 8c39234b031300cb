/**
 * The request forms Graph accepts besides the bare ones the sandbox's routes are written for, so
 * any client works (Microsoft's Kiota SDKs, other OData clients), not only ours:
 *
 * - bound functions called with parentheses (`delta()`) and bound operations with their
 *   namespace (`microsoft.graph.delta()`, `microsoft.graph.sendMail`), as OData allows
 *   (https://learn.microsoft.com/graph/query-parameters, OData URL conventions §4.5);
 * - `items/root` for the root item of a drive (`/drives/{id}/items/root/children`,
 *   `/me/drive/items/root:/path:/content`), as driveItem paths document;
 * - action parameters in any case: the API description declares many as PascalCase
 *   (`sendMail(Message, SaveToSentItems)`, which Kiota SDKs send) and Graph matches them
 *   case-insensitively; the routes read the camelCase form.
 *
 * The canonical path is what the routes match and what links are built from.
 */
import { BOUND_ACTIONS } from './metadata/actions';

/** Lower-cased action name → (lower-cased parameter → the name the routes read). */
const ACTION_PARAMS = new Map<string, Map<string, string>>(
  Object.entries(BOUND_ACTIONS).map(([name, params]) => [
    name.toLowerCase(),
    new Map(params.map((p) => [p.toLowerCase(), p[0]!.toLowerCase() + p.slice(1)])),
  ]),
);

/** `/v1.0/me/microsoft.graph.delta()` → `/v1.0/me/delta`; `items/root` → `root`. */
export function canonicalGraphPath(path: string): string {
  if (!/^\/v1\.0(\/|$)/i.test(path)) return path;
  // Between colons is a drive path (`root:/Reports/q1().txt:`): file names are left alone.
  const chunks = path.split(':').map((chunk, i) =>
    i % 2 === 1
      ? chunk
      : chunk
          .split('/')
          .map((seg) => {
            const s = seg.replace(/^microsoft\.graph\./i, '');
            // A bound function called with no parameters: `delta()`. (`search(q='x')` keeps its own.)
            return /^[A-Za-z]\w*\(\)$/.test(s) ? s.slice(0, -2) : s;
          })
          .join('/'),
  );
  // `items/root` (followed by `/`, `:` or the end) is the drive's root item; it comes before any
  // drive path, so only the first chunk is looked at.
  chunks[0] = chunks[0]!.replace(/\/items\/root(?=$|\/)/i, '/root');
  return chunks.join(':');
}

/** The action a POST calls (its last path segment), when it is one Graph declares. */
export function boundActionOf(method: string, canonicalPath: string): string | undefined {
  if (method !== 'POST') return undefined;
  const last = canonicalPath.replace(/\/$/, '').split('/').pop() ?? '';
  return ACTION_PARAMS.has(last.toLowerCase()) ? last.toLowerCase() : undefined;
}

/**
 * The action's JSON body with its top-level parameter names as the routes read them. Anything
 * that is not a JSON object (or names no declared parameter) passes through untouched, so the
 * route still answers its own errors.
 */
export function normaliseActionBody(action: string, body: Buffer): Buffer {
  const params = ACTION_PARAMS.get(action);
  if (!params || body.length === 0) return body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return body;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return body;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const name = params.get(key.toLowerCase()) ?? key;
    if (name !== key) changed = true;
    out[name] = value;
  }
  return changed ? Buffer.from(JSON.stringify(out), 'utf8') : body;
}

/**
 * The segment Graph names for a path no route serves: the first one after the longest prefix
 * that a route does serve (`/me/foo/bar` → `foo`).
 */
export function unknownSegment(path: string, served: (prefix: string) => boolean): string {
  const segments = path.split('/');
  for (let n = segments.length - 1; n >= 2; n--) {
    if (served(segments.slice(0, n).join('/'))) return decodeURIComponent(segments[n] ?? '');
  }
  return decodeURIComponent(segments[2] ?? segments[segments.length - 1] ?? '');
}

/** What a path no route serves answers, as Graph does: 400 BadRequest naming the segment. */
export function resourceNotFound(
  path: string,
  served: (prefix: string) => boolean,
): { status: number; code: string; message: string } {
  if (!/^\/v1\.0(\/|$)/i.test(path))
    return { status: 404, code: 'UnknownError', message: `No sandbox route for ${path}` };
  return {
    status: 400,
    code: 'BadRequest',
    message: `Resource not found for the segment '${unknownSegment(path, served)}'.`,
  };
}

/** `https://{Host}` of the request when it names a host other than the sandbox's own. */
export function calledOrigin(host: string | undefined, own: string): string | undefined {
  if (!host || !/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) return undefined;
  const origin = `https://${host.toLowerCase()}`;
  return origin === own ? undefined : origin;
}

/**
 * Links in a response (`@odata.nextLink`, `@odata.deltaLink`, `@odata.context`, upload and
 * download URLs, `Location`) on the origin the client called: a client that reaches the sandbox
 * under another name (Microsoft's host names through a hosts entry, `localhost`) keeps following
 * them to the same place.
 */
export function rebaseLinks<T>(value: T, from: readonly string[], to: string): T {
  const rebase = (s: string): string => {
    for (const f of from) if (s.startsWith(f)) return to + s.slice(f.length);
    return s;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return rebase(v);
    if (Array.isArray(v)) return v.map(walk);
    if (
      v !== null &&
      typeof v === 'object' &&
      !Buffer.isBuffer(v) &&
      Object.getPrototypeOf(v) === Object.prototype
    )
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
