/**
 * Security checks across the HTTP surface: every route's authLevel and caller-auth requirement,
 * request forgery through cursors, oversized and deeply nested bodies, and header injection.
 */
import { randomBytes } from 'node:crypto';
import '../../shared/services/all';
import { encodeCursor } from '../../shared/actions/cursor';
import { registrations } from '../../shared/runtime/register';
import { FUNCTION_KEY, MASTER_KEY, startTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

/** The routes that must stay anonymous (Microsoft or the browser call them) and why. */
const ANONYMOUS = new Map([
  ['authCallback', 'the browser lands here from Microsoft; the single-use state authenticates it'],
  ['health', 'operators and probes; reports reachability only'],
  ['openapi', 'the API description, no data'],
  ['graphWebhook', 'Graph calls it without credentials; clientState authenticates each item'],
  ['graphLifecycleWebhook', 'as above, for lifecycle events'],
  // MCP clients know no function keys: /api/mcp and the authorization server authenticate themselves.
  ['mcp', 'an MCP access token of this server or the platform caller JWT; 401 with the RFC 9728 challenge'],
  ['oauthProtectedResource', 'RFC 9728 metadata, public by design'],
  ['oauthServerMetadata', 'RFC 8414 metadata, public by design'],
  ['oauthAuthorize', 'the browser of an MCP client user; the client and its redirect URI are checked'],
  ['oauthConsent', 'the browser; the request, its binding cookie and the completion code authenticate it'],
  ['oauthToken', 'MCP clients; a code with its PKCE verifier, or a refresh token, authenticates it'],
  ['oauthRevoke', 'MCP clients (RFC 7009)'],
  ['oauthRegister', 'MCP clients (RFC 7591), rate-limited, off with MCP_OAUTH_REGISTRATION=false'],
  ['oauthMe', "the MCP user's access token"],
  ['oauthRevokeClient', "the MCP user's access token"],
]);

/** The routes only the operator's master key opens (the platform's settings, not a user's) and why. */
const ADMIN = new Map([
  ['eventEndpointsList', "the platform's event endpoints belong to no user"],
  ['eventEndpointsPut', "registering where every user's events go is an operator act"],
  ['eventEndpointsDelete', 'as above'],
  ['eventDeadLetters', 'failed events of every user: operators only'],
]);

test('every HTTP route declares its authLevel: anonymous only where Microsoft or a browser calls it', () => {
  const http = registrations().filter((r) => r.kind === 'http');
  expect(http.length).toBeGreaterThan(8);
  for (const route of http) {
    if (route.kind !== 'http') continue;
    if (route.authLevel === 'anonymous')
      expect({ route: route.name, allowed: ANONYMOUS.has(route.name) }).toEqual({
        route: route.name,
        allowed: true,
      });
    else if (route.authLevel === 'admin')
      expect({ route: route.name, allowed: ADMIN.has(route.name) }).toEqual({
        route: route.name,
        allowed: true,
      });
    else
      expect({ route: route.name, authLevel: route.authLevel }).toEqual({
        route: route.name,
        authLevel: 'function',
      });
  }
});

test('admin routes refuse the function key and a caller JWT: only the master key opens them', async () => {
  const admin = registrations().filter((r) => r.kind === 'http' && r.authLevel === 'admin');
  expect(admin.map((r) => r.name).sort()).toEqual([...ADMIN.keys()].sort());
  for (const route of admin) {
    if (route.kind !== 'http') continue;
    const path = route.route.replace(/\{\*?([^}]+)\}/g, 'x');
    for (const method of route.methods) {
      const res = await fetch(`${t.api}/${path}`, { method, headers: { 'x-functions-key': FUNCTION_KEY } });
      expect({
        route: route.name,
        method,
        status: res.status,
        code: ((await res.json()) as { code: string }).code,
      }).toEqual({
        route: route.name,
        method,
        status: 401,
        code: 'function_key_invalid',
      });
    }
  }
  const listed = await fetch(`${t.api}/events/endpoints`, { headers: { 'x-functions-key': MASTER_KEY } });
  expect(listed.status).toBe(200);
});

test('every function-level route needs the function key, and then a caller JWT', async () => {
  for (const route of registrations()) {
    if (route.kind !== 'http' || route.authLevel !== 'function') continue;
    const path = route.route.replace(/\{\*?([^}]+)\}/g, 'x');
    for (const method of route.methods) {
      const noKey = await fetch(`${t.api}/${path}`, { method });
      expect({ route: route.name, method, status: noKey.status }).toEqual({
        route: route.name,
        method,
        status: 401,
      });
      const noJwt = await fetch(`${t.api}/${path}`, { method, headers: { 'x-functions-key': FUNCTION_KEY } });
      expect({
        route: route.name,
        method,
        status: noJwt.status,
        code: ((await noJwt.json()) as { code: string }).code,
      }).toEqual({ route: route.name, method, status: 401, code: 'unauthenticated' });
    }
  }
});

test('a cursor that does not lead back to Graph is refused before any request is sent', async () => {
  const userId = await t.connect('adele.vance@contoso.test', { features: ['mail'] });
  const before = t.sandbox.log.lastSeq;
  for (const target of [
    'https://evil.example.test/v1.0/me/messages',
    `${t.sandbox.url}/_sandbox/users`,
    'http://127.0.0.1:1/v1.0/me',
  ]) {
    const res = await t.call(userId, 'POST', '/mail/listMessages', {
      cursor: encodeCursor('mail.listMessages', target),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors[0].field).toBe('cursor');
  }
  const forged = await t.call(userId, 'POST', '/mail/listMessages', {
    cursor: encodeCursor('profile.getMe', `${t.sandbox.graphBaseUrl}/me/messages`),
  });
  expect(forged.status).toBe(400);
  // (The background sync started by connect reads message delta; that is not a cursor.)
  expect(
    t.sandbox.log.since(before).filter((e) => e.path.includes('/messages') && !e.path.includes('/delta')),
  ).toEqual([]);
});

test('oversized and deeply nested bodies are refused with problems, not crashes', async () => {
  const userId = `u-${randomBytes(3).toString('hex')}`;
  const big = await t.call(userId, 'POST', '/profile/getMe', { pad: 'x'.repeat(2 * 1024 * 1024) });
  expect(big.status).toBe(413);
  expect((await big.json()).code).toBe('payload_too_large');
  let deep: unknown = 1;
  for (let i = 0; i < 200; i++) deep = { a: deep };
  const nested = await t.call(userId, 'POST', '/profile/getMe', deep);
  expect(nested.status).toBe(400);
  expect((await nested.json()).errors[0].message).toContain('nests deeper');
  const notJson = await t.call(userId, 'POST', '/profile/getMe', undefined, {
    'content-type': 'application/json',
  });
  expect(notJson.status).not.toBe(500);
});

test('header injection through inputs cannot add response headers', async () => {
  const userId = `u-${randomBytes(3).toString('hex')}`;
  const res = await t.call(userId, 'POST', '/auth/microsoft/start', {
    returnUrl: 'https://platform.example.test/return\r\nSet-Cookie: pwned=1',
  });
  expect(res.status).toBe(400);
  expect(res.headers.get('set-cookie')).toBeNull();
  const callback = await fetch(
    `${t.api}/auth/microsoft/callback?state=${encodeURIComponent('x\r\nLocation: https://evil.example.test')}`,
    { redirect: 'manual' },
  );
  expect(callback.status).toBe(400);
  expect(callback.headers.get('location')).toBeNull();
});
