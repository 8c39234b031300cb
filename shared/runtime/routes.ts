/**
 * Where an HTTP function lives. host.json's routePrefix is empty so that the RFC 8414 and
 * RFC 9728 documents can be served at `/.well-known/...` (MCP clients look for them at the
 * origin's root); every other route gets the `api/` prefix here, the one place that knows it.
 * No imports: the package's small entry (deferred.ts) uses it before the app loads.
 */
export const API_PREFIX = 'api';

/** The route as the Functions host sees it (relative to an empty routePrefix). */
export function hostRoute(spec: { route: string; root?: boolean }): string {
  return spec.root ? spec.route : `${API_PREFIX}/${spec.route}`;
}
