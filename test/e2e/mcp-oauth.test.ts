/**
 * Any MCP client connects by the MCP authorization spec (issue 37, part 1), driven by the MCP
 * TypeScript SDK's own OAuth client (an independent implementation: RFC 9728 discovery from the
 * 401, RFC 8414 metadata, dynamic registration, PKCE, token refresh) and a cookie-keeping browser
 * through the sandbox's Microsoft sign-in and our consent screen; then the attacks the spec's
 * security section names, each refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { resetConfig } from '../../shared/config';
import { createGrant, issueTokens } from '../../shared/mcp/oauth/grants';
import { startTestApp, type TestApp } from '../support/app';
import { HostProvider } from '../support/mcp-host';
import { authorizeInBrowser, MiniBrowser } from '../support/oauth-browser';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const REDIRECT = 'http://127.0.0.1:53682/oauth/callback';

let t: TestApp;
const clients: Client[] = [];

const REGISTRATIONS_PER_HOUR = 40;

beforeAll(async () => {
  t = await startTestApp({
    env: {
      MCP_OAUTH_REGISTRATIONS_PER_HOUR: String(REGISTRATIONS_PER_HOUR),
      // The test's metadata documents are served on loopback (never allowed in production).
      MCP_OAUTH_PRIVATE_METADATA_HOSTS: '127.0.0.1',
    },
  });
});
afterAll(async () => {
  await Promise.all(clients.map(async (c) => await c.close().catch(() => undefined)));
  await t.stop();
});

const mcpUrl = () => new URL(`${t.api}/mcp`);
const origin = () => new URL(t.api).origin;

/** An MCP host connecting from nothing: 401 → discovery → registration → browser → code → tokens. */
async function connectAsHost(
  provider: HostProvider,
  upn = ADELE,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const first = new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider });
  await expect(new Client({ name: 'e2e-host', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
    UnauthorizedError,
  );
  expect(provider.authorizationUrl).toBeDefined();
  const browser = new MiniBrowser();
  const { redirect } = await authorizeInBrowser(browser, provider.authorizationUrl!.toString(), {
    upn,
    redirectPrefix: REDIRECT,
  });
  expect(redirect).toBeDefined();
  const code = new URL(redirect!).searchParams.get('code');
  expect(code).toBeTruthy();
  await first.finishAuth(code!);
  const transport = new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider });
  const client = new Client({ name: 'e2e-host', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, transport };
}

describe('discovery', () => {
  test('/api/mcp without credentials answers 401 naming the protected resource metadata, which names this server', async () => {
    const res = await fetch(mcpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate') ?? '';
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    expect(metadataUrl).toBe(`${origin()}/.well-known/oauth-protected-resource/api/mcp`);
    const resource = (await (await fetch(metadataUrl!)).json()) as Json;
    expect(resource).toMatchObject({
      resource: `${origin()}/api/mcp`,
      authorization_servers: [origin()],
      scopes_supported: ['mcp:read', 'mcp:write'],
    });
    const server = (await (await fetch(`${origin()}/.well-known/oauth-authorization-server`)).json()) as Json;
    expect(server).toMatchObject({
      issuer: origin(),
      authorization_endpoint: `${origin()}/api/oauth/authorize`,
      token_endpoint: `${origin()}/api/oauth/token`,
      registration_endpoint: `${origin()}/api/oauth/register`,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
    });
  });
});

describe('an MCP host from no credentials to a tool call', () => {
  test('the SDK client registers, the user signs in with Microsoft and allows it, and its tools read Adele\u2019s mail', async () => {
    const provider = new HostProvider(() => REDIRECT);
    const { client } = await connectAsHost(provider);
    expect(provider.info?.client_id).toMatch(/^mcp_/);
    expect(provider.saved?.scope).toBe('mcp:read mcp:write');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['mail.listMessages', 'mail.sendMessage']),
    );
    const listed = (await client.callTool({ name: 'mail.listMessages', arguments: { top: 3 } })) as Json;
    expect(listed.isError).toBeFalsy();
    expect(listed.structuredContent.items.length).toBeGreaterThan(0);

    // An expired access token: the SDK refreshes (rotating the refresh token) and carries on.
    const before = provider.saved!;
    provider.saved = { ...before, access_token: 'expired.not-a.token' };
    const again = (await client.callTool({ name: 'mail.listMessages', arguments: { top: 1 } })) as Json;
    expect(again.isError).toBeFalsy();
    expect(provider.saved.refresh_token).toBeDefined();
    expect(provider.saved.refresh_token).not.toBe(before.refresh_token);
  });
});

// ------------------------------------------------------------------ the protocol by hand

const b64 = (b: Buffer) => b.toString('base64url');

async function register(body: Json): Promise<Response> {
  return await fetch(`${t.api}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function registered(redirects = [REDIRECT]): Promise<string> {
  const res = await register({
    client_name: 'Hand-made client',
    redirect_uris: redirects,
    token_endpoint_auth_method: 'none',
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as Json).client_id as string;
}

function authorizationUrl(clientId: string, overrides: Record<string, string | undefined> = {}) {
  const verifier = b64(randomBytes(32));
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: b64(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    state: 'client-state-1',
    resource: `${origin()}/api/mcp`,
    scope: 'mcp:read mcp:write',
    ...overrides,
  };
  const url = new URL(`${t.api}/oauth/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return { url: url.toString(), verifier };
}

async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${t.api}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

/** Authorizes by hand; returns the code, the verifier and the client. */
async function handCode(upn = ADELE, scope = 'mcp:read mcp:write') {
  const clientId = await registered();
  const { url, verifier } = authorizationUrl(clientId, { scope });
  const { redirect } = await authorizeInBrowser(new MiniBrowser(), url, { upn, redirectPrefix: REDIRECT });
  const answer = new URL(redirect!).searchParams;
  expect(answer.get('state')).toBe('client-state-1');
  expect(answer.get('iss')).toBe(origin());
  return { clientId, verifier, code: answer.get('code')! };
}

async function exchange(c: { clientId: string; verifier: string; code: string }) {
  return await tokenRequest({
    grant_type: 'authorization_code',
    client_id: c.clientId,
    code: c.code,
    code_verifier: c.verifier,
    redirect_uri: REDIRECT,
    resource: `${origin()}/api/mcp`,
  });
}

async function toolsWith(accessToken: string): Promise<Response> {
  return await fetch(mcpUrl(), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

describe('attacks refused', () => {
  test('a redirect URI that is not registered, or a loopback one on another path, gets an error page and no redirect', async () => {
    const clientId = await registered();
    for (const redirect of ['https://evil.example/cb', 'http://127.0.0.1:53682/other/path']) {
      const res = await fetch(authorizationUrl(clientId, { redirect_uri: redirect }).url, {
        redirect: 'manual',
      });
      expect({ redirect, status: res.status, location: res.headers.get('location') }).toEqual({
        redirect,
        status: 400,
        location: null,
      });
      expect(await res.text()).toContain('invalid_redirect_uri');
    }
    // RFC 8252 §7.3: another port on the loopback address is the same native app.
    const otherPort = await fetch(
      authorizationUrl(clientId, { redirect_uri: 'http://127.0.0.1:61000/oauth/callback' }).url,
      {
        redirect: 'manual',
      },
    );
    expect(otherPort.status).toBe(302);
    expect(otherPort.headers.get('location')).toContain('/oauth2/v2.0/authorize');
  });

  test('PKCE plain (or none), another resource and another response type are sent back to the client as errors', async () => {
    const clientId = await registered();
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge_method: undefined, code_challenge: undefined }, 'invalid_request'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
    ];
    for (const [overrides, error] of cases) {
      const res = await fetch(authorizationUrl(clientId, overrides).url, { redirect: 'manual' });
      expect(res.status).toBe(302);
      const back = new URL(res.headers.get('location')!);
      expect({
        overrides,
        to: `${back.origin}${back.pathname}`,
        error: back.searchParams.get('error'),
      }).toEqual({
        overrides,
        to: REDIRECT,
        error,
      });
      expect(back.searchParams.get('state')).toBe('client-state-1');
    }
  });

  test('a reused authorization code is refused and revokes what the first use got', async () => {
    const c = await handCode();
    const first = await exchange(c);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', scope: 'mcp:read mcp:write', expires_in: 900 });
    expect((await toolsWith(first.body.access_token as string)).status).toBe(200);
    const second = await exchange(c);
    expect(second).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await toolsWith(first.body.access_token as string)).status).toBe(401);
    const refreshed = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: c.clientId,
      refresh_token: first.body.refresh_token as string,
    });
    expect(refreshed).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('a wrong PKCE verifier, another client or another redirect URI cannot redeem a code', async () => {
    const c = await handCode();
    const wrong = await exchange({ ...c, verifier: b64(randomBytes(32)) });
    expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    const d = await handCode();
    const other = await registered();
    expect(await exchange({ ...d, clientId: other })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
  });

  test('a reused rotated refresh token revokes the whole grant', async () => {
    const tokens = (await exchange(await handCode())).body;
    const clientId = (
      JSON.parse(Buffer.from((tokens.access_token as string).split('.')[1]!, 'base64url').toString()) as Json
    ).client_id as string;
    const rotated = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: tokens.refresh_token as string,
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(tokens.refresh_token);
    expect((await toolsWith(rotated.body.access_token as string)).status).toBe(200);
    // The old one again (a thief, or a client that lost the answer): the family is gone.
    const reused = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: tokens.refresh_token as string,
    });
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await toolsWith(rotated.body.access_token as string)).status).toBe(401);
    const newest = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: clientId,
      refresh_token: rotated.body.refresh_token as string,
    });
    expect(newest).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  test('a refresh may ask for less than the grant (read-only), never for more', async () => {
    const c = await handCode();
    const tokens = (await exchange(c)).body;
    const narrowed = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: c.clientId,
      refresh_token: tokens.refresh_token as string,
      scope: 'mcp:read',
    });
    expect(narrowed.body.scope).toBe('mcp:read');
    expect(await (await toolsWith(narrowed.body.access_token as string)).text()).not.toContain(
      'mail.sendMessage',
    );
    const full = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: c.clientId,
      refresh_token: narrowed.body.refresh_token as string,
    });
    expect(full.body.scope).toBe('mcp:read mcp:write');
    const r = await handCode(ADELE, 'mcp:read');
    const read = (await exchange(r)).body;
    const more = await tokenRequest({
      grant_type: 'refresh_token',
      client_id: r.clientId,
      refresh_token: read.refresh_token as string,
      scope: 'mcp:read mcp:write',
    });
    expect(more.body.scope).toBe('mcp:read');
  });

  test('a token this server issued for another resource is refused at /api/mcp (RFC 8707 audience)', async () => {
    const grant = await createGrant({
      userId: 'mcp:00000000-0000-0000-0000-000000000001:00000000-0000-0000-0000-000000000002',
      clientId: 'mcp_other_resource_client_000',
      clientName: 'Other',
      scope: ['mcp:read', 'mcp:write'],
      resource: 'https://other.example/mcp',
    });
    const tokens = await issueTokens(grant, 0);
    const res = await toolsWith(tokens.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await res.json()) as Json).detail).toContain('another resource');
  });

  test('the consent step in a browser that did not start the authorization connects nothing', async () => {
    const clientId = await registered();
    const { url } = authorizationUrl(clientId);
    const starter = new MiniBrowser();
    // The attacker starts, and sends the Microsoft sign-in link to the victim.
    const first = await starter.request(url);
    const victim = new MiniBrowser();
    const outcome = await authorizeInBrowser(victim, first.location!, {
      upn: MEGAN,
      redirectPrefix: REDIRECT,
    });
    expect(outcome.redirect).toBeUndefined();
    expect(outcome.page?.status).toBe(403);
    expect(outcome.page?.body).toContain('browser_mismatch');
  });

  test('read-only: a client allowed mcp:read sees no write tool and cannot erase the account', async () => {
    const tokens = (await exchange(await handCode(ADELE, 'mcp:read'))).body;
    expect(tokens.scope).toBe('mcp:read');
    const res = await toolsWith(tokens.access_token as string);
    const text = await res.text();
    expect(text).toContain('mail.listMessages');
    expect(text).not.toContain('mail.sendMessage');
    const erase = await fetch(`${t.api}/oauth/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${tokens.access_token as string}` },
    });
    expect(erase.status).toBe(403);
    expect(((await erase.json()) as Json).code).toBe('insufficient_scope');
  });

  test('denying on the consent screen sends access_denied to the client and issues nothing', async () => {
    const clientId = await registered();
    const { url } = authorizationUrl(clientId);
    const { redirect } = await authorizeInBrowser(new MiniBrowser(), url, {
      upn: ADELE,
      decision: 'deny',
      redirectPrefix: REDIRECT,
    });
    const back = new URL(redirect!).searchParams;
    expect(back.get('error')).toBe('access_denied');
    expect(back.get('code')).toBeNull();
  });
});

describe('the user and their clients', () => {
  test('lists the clients a user allowed, revokes one at once, and erases everything with the connection', async () => {
    const c = await handCode(MEGAN);
    const tokens = (await exchange(c)).body;
    const auth = { authorization: `Bearer ${tokens.access_token as string}` };
    const me = (await (await fetch(`${t.api}/oauth/me`, { headers: auth })).json()) as Json;
    expect(me.userId).toMatch(/^mcp:[0-9a-f-]{36}:[0-9a-f-]{36}$/);
    expect(me.connection).toMatchObject({ status: 'connected', account: { username: MEGAN } });
    const mine = (me.clients as Json[]).find((x) => x.current);
    expect(mine).toMatchObject({
      clientId: c.clientId,
      clientName: 'Hand-made client',
      access: 'read-write',
    });

    // A second client of the same user, revoked by the first one's token.
    const other = await exchange(await handCode(MEGAN));
    const listed = (await (await fetch(`${t.api}/oauth/me`, { headers: auth })).json()) as Json;
    const second = (listed.clients as Json[]).find((x) => !x.current)!;
    const revoked = await fetch(`${t.api}/oauth/me/clients/${second.id as string}`, {
      method: 'DELETE',
      headers: auth,
    });
    expect(revoked.status).toBe(204);
    expect((await toolsWith(other.body.access_token as string)).status).toBe(401);
    expect((await toolsWith(tokens.access_token as string)).status).toBe(200);

    const erased = (await (
      await fetch(`${t.api}/oauth/me`, { method: 'DELETE', headers: auth })
    ).json()) as Json;
    expect(erased.erased).toMatchObject({ connection: 1, mcpClients: 1 });
    expect((await toolsWith(tokens.access_token as string)).status).toBe(401);
  });
});

describe('client ID metadata documents', () => {
  let docs: HttpsServer;
  let base: string;
  const served = new Map<string, Json>();

  beforeAll(async () => {
    const dir = process.env.SANDBOX_CERT_DIR ?? join(process.cwd(), '.local', 'certs');
    docs = createHttpsServer(
      {
        cert: readFileSync(join(dir, 'sandbox-server.pem')),
        key: readFileSync(join(dir, 'sandbox-server.key')),
      },
      (req, res) => {
        const doc = served.get(req.url ?? '');
        if (req.url === '/moved.json') return res.writeHead(302, { location: `${base}/client.json` }).end();
        if (!doc) return res.writeHead(404).end();
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc));
      },
    );
    await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(docs.address() as AddressInfo).port}`;
    served.set('/client.json', {
      client_id: `${base}/client.json`,
      client_name: 'Documented Client',
      client_uri: 'https://client.example',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    served.set('/liar.json', { client_id: `${base}/someone-else.json`, redirect_uris: [REDIRECT] });
  });
  afterAll(async () => await new Promise((resolve) => docs.close(resolve)));

  test('an https client_id serving its own document authorizes with no registration, and the consent names it', async () => {
    const clientId = `${base}/client.json`;
    const { url, verifier } = authorizationUrl(clientId);
    const { redirect, consent } = await authorizeInBrowser(new MiniBrowser(), url, {
      upn: ADELE,
      redirectPrefix: REDIRECT,
    });
    expect(consent?.body).toContain('Documented Client');
    expect(consent?.body).toContain(clientId);
    const code = new URL(redirect!).searchParams.get('code')!;
    const tokens = await exchange({ clientId, verifier, code });
    expect(tokens.status).toBe(200);
    expect((await toolsWith(tokens.body.access_token as string)).status).toBe(200);
  });

  test('refused: a non-https URL, a document naming another client_id, a redirect, a private address not allowed', async () => {
    const cases: Array<[string, string]> = [
      [`http://127.0.0.1:${new URL(base).port}/client.json`, 'must be https'],
      [`${base}/liar.json`, 'names another client_id'],
      [`${base}/moved.json`, 'could not be fetched'],
      // localhost resolves to loopback and is not in MCP_OAUTH_PRIVATE_METADATA_HOSTS.
      [`https://localhost:${new URL(base).port}/client.json`, 'private address'],
    ];
    for (const [clientId, says] of cases) {
      const res = await fetch(authorizationUrl(clientId).url, { redirect: 'manual' });
      const text = await res.text();
      expect({
        clientId,
        status: res.status,
        location: res.headers.get('location'),
        says: text.includes(says),
      }).toEqual({
        clientId,
        status: 400,
        location: null,
        says: true,
      });
    }
  });

  test('with dynamic registration off, registering is refused and metadata documents still work', async () => {
    process.env.MCP_OAUTH_REGISTRATION = 'false';
    resetConfig();
    try {
      const server = (await (
        await fetch(`${origin()}/.well-known/oauth-authorization-server`)
      ).json()) as Json;
      expect(server.registration_endpoint).toBeUndefined();
      const res = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
      expect(res.status).toBe(403);
      expect(((await res.json()) as Json).error_description).toContain('client ID metadata document');
      const start = await fetch(authorizationUrl(`${base}/client.json`).url, { redirect: 'manual' });
      expect(start.status).toBe(302);
    } finally {
      delete process.env.MCP_OAUTH_REGISTRATION;
      resetConfig();
    }
  });
});

test('with MCP_OAUTH=false the metadata is gone, tokens of this server stop working, and the platform JWT is what /api/mcp takes', async () => {
  const tokens = (await exchange(await handCode())).body;
  process.env.MCP_OAUTH = 'false';
  resetConfig();
  try {
    expect((await fetch(`${origin()}/.well-known/oauth-authorization-server`)).status).toBe(404);
    expect((await fetch(`${origin()}/.well-known/oauth-protected-resource/api/mcp`)).status).toBe(404);
    const res = await toolsWith(tokens.access_token as string);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).not.toContain('resource_metadata');
    const authorize = await fetch(authorizationUrl('mcp_anything').url, { redirect: 'manual' });
    expect(authorize.status).toBe(404);
  } finally {
    delete process.env.MCP_OAUTH;
    resetConfig();
  }
  expect((await toolsWith(tokens.access_token as string)).status).toBe(200);
});

// Last: the rate-limit test spends this hour's registrations.
describe('registration', () => {
  test('refuses redirect URIs that are not https, loopback or a private-use scheme', async () => {
    for (const uri of ['http://evil.example/cb', 'javascript:alert(1)', 'https://ok.example/cb#frag']) {
      const res = await register({
        client_name: 'x',
        redirect_uris: [uri],
        token_endpoint_auth_method: 'none',
      });
      expect({ uri, status: res.status, error: ((await res.json()) as Json).error }).toEqual({
        uri,
        status: 400,
        error: 'invalid_redirect_uri',
      });
    }
    const native = await register({
      redirect_uris: ['vscode://mcp/callback'],
      token_endpoint_auth_method: 'none',
    });
    expect(native.status).toBe(201);
  });

  test('is rate-limited per address: 429 with Retry-After', async () => {
    let last: Response | undefined;
    for (let i = 0; i <= REGISTRATIONS_PER_HOUR; i++) {
      last = await register({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
      if (last.status === 429) break;
      expect(last.status).toBe(201);
    }
    expect(last!.status).toBe(429);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await last!.json()) as Json).error_description).toContain('client ID metadata document');
  });
});
