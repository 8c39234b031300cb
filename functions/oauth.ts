import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { connectionView, runDisconnectingHooks } from '../shared/auth/lifecycle';
import { getConfig } from '../shared/config';
import { httpHandler, jsonResponse } from '../shared/http/handler';
import { Problem } from '../shared/http/problem';
import { mcpAuthedHandler } from '../shared/mcp/oauth/bearer';
import { OAuthError, registerClient } from '../shared/mcp/oauth/clients';
import { authorize, consent, revoke, token } from '../shared/mcp/oauth/flow';
import { listGrants, revokeGrant } from '../shared/mcp/oauth/grants';
import { authorizationServerMetadata, protectedResourceMetadata } from '../shared/mcp/oauth/metadata';
import { eraseUserData } from '../shared/privacy';
import { registerHttp } from '../shared/runtime/register';
import { getConnection } from '../shared/storage/connections';

/**
 * This app as the authorization server of /api/mcp (shared/mcp/oauth): the RFC 9728 and RFC 8414
 * documents at the origin's /.well-known/, authorization, consent, token, registration and
 * revocation under /api/oauth/, and the signed-in MCP user's own view of their clients.
 * Anonymous at the host: each endpoint authenticates what it needs itself (a client, a PKCE
 * verifier, a refresh token, the browser-binding cookie, an access token).
 */

// Public documents and token endpoints: any origin may read them (no cookies involved).
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version',
  'access-control-max-age': '600',
};

function oauthJson(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return {
    status,
    jsonBody: body,
    headers: { 'cache-control': 'no-store', pragma: 'no-cache', ...CORS, ...headers },
  };
}

/** OAuth endpoints answer errors as RFC 6749 §5.2 JSON, not problem+json: that is what clients parse. */
function oauthEndpoint(fn: (request: HttpRequest) => Promise<HttpResponseInit>) {
  return httpHandler(async ({ request }) => {
    if (request.method === 'OPTIONS') return { status: 204, headers: CORS };
    try {
      return await fn(request);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      const auth: Record<string, string> =
        err.status === 401 ? { 'www-authenticate': 'Basic realm="m365-integration"' } : {};
      return oauthJson(err.status, err.body(), { ...auth, ...err.headers });
    }
  });
}

function notFound(): HttpResponseInit {
  throw new Problem('not_found', 'There is no such metadata document here.');
}

registerHttp('oauthProtectedResource', {
  route: '.well-known/oauth-protected-resource/{*path}',
  root: true,
  methods: ['GET', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: oauthEndpoint(async (request) => {
    const path = (request.params.path ?? '').replace(/\/+$/, '');
    if (!getConfig().MCP_OAUTH || (path !== '' && path !== 'api/mcp')) return notFound();
    return oauthJson(200, protectedResourceMetadata(), { 'cache-control': 'public, max-age=300' });
  }),
});

registerHttp('oauthServerMetadata', {
  route: '.well-known/oauth-authorization-server/{*path}',
  root: true,
  methods: ['GET', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: oauthEndpoint(async (request) => {
    if (!getConfig().MCP_OAUTH || (request.params.path ?? '') !== '') return notFound();
    return oauthJson(200, authorizationServerMetadata(), { 'cache-control': 'public, max-age=300' });
  }),
});

registerHttp('oauthAuthorize', {
  route: 'oauth/authorize',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: httpHandler(async ({ request }) => await authorize(request)),
});

registerHttp('oauthConsent', {
  route: 'oauth/consent',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: httpHandler(async ({ request, context }) => await consent(request, context)),
});

registerHttp('oauthToken', {
  route: 'oauth/token',
  methods: ['POST', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: oauthEndpoint(async (request) => oauthJson(200, await token(request))),
});

registerHttp('oauthRevoke', {
  route: 'oauth/revoke',
  methods: ['POST', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: oauthEndpoint(async (request) => {
    await revoke(request);
    return oauthJson(200, {});
  }),
});

/** The caller's address for the registration limit: the first X-Forwarded-For hop (Azure's front end sets it). */
function addressOf(request: HttpRequest): string {
  const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  return (forwarded || request.headers.get('x-client-ip') || 'direct').replace(/:\d+$/, '');
}

registerHttp('oauthRegister', {
  route: 'oauth/register',
  methods: ['POST', 'OPTIONS'],
  authLevel: 'anonymous',
  handler: oauthEndpoint(async (request) => {
    if (!getConfig().MCP_OAUTH)
      throw new OAuthError('access_denied', 'MCP authorization is off on this server.', 403);
    const text = await request.text();
    if (text.length > 16 * 1024)
      throw new OAuthError('invalid_client_metadata', 'The metadata is larger than 16 KiB.');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OAuthError('invalid_client_metadata', 'The body is not JSON.');
    }
    const result = await registerClient(body, addressOf(request));
    return oauthJson(result.status, result.body);
  }),
});

// ------------------------------------------------------------------ the MCP user's own view

/** GET /api/oauth/me: the signed-in MCP user, their connection and the clients they allowed. */
registerHttp('oauthMe', {
  route: 'oauth/me',
  methods: ['GET', 'DELETE'],
  authLevel: 'anonymous',
  handler: mcpAuthedHandler(async ({ request, caller, context }) => {
    if (request.method === 'DELETE') {
      // Erasing everything is a write: a read-only client cannot do it.
      if (caller.client && !caller.client.scope.includes('mcp:write'))
        throw new Problem(
          'insufficient_scope',
          'This client was allowed to read only; erasing the account needs a client allowed to read and write.',
        );
      await runDisconnectingHooks(caller.userId, context);
      const erased = await eraseUserData(caller.userId, context.invocationId);
      return jsonResponse(200, { status: 'not_connected', erased });
    }
    const connection = await getConnection(caller.userId);
    const clients = (await listGrants(caller.userId)).map((g) => ({
      id: g.grantId,
      clientId: g.clientId,
      clientName: g.clientName,
      access: g.scope.includes('mcp:write') ? 'read-write' : 'read-only',
      authorizedAt: g.createdAt,
      lastUsedAt: g.lastUsedAt,
      current: g.grantId === caller.client?.grantId,
    }));
    return jsonResponse(200, {
      userId: caller.userId,
      connection: connection ? connectionView(connection) : { status: 'not_connected' },
      clients,
    });
  }),
});

/** DELETE /api/oauth/me/clients/{id}: revokes one client's grant (its tokens stop working at once). */
registerHttp('oauthRevokeClient', {
  route: 'oauth/me/clients/{id}',
  methods: ['DELETE'],
  authLevel: 'anonymous',
  handler: mcpAuthedHandler(async ({ request, caller }) => {
    const id = request.params.id ?? '';
    if (!/^[0-9a-f]{32}$/.test(id) || !(await revokeGrant(caller.userId, id)))
      throw new Problem('not_found', 'You have no MCP client with this id; GET /api/oauth/me lists them.');
    return { status: 204 };
  }),
});
