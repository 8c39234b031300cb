/**
 * Inputs an attacker or a careless client controls, through the real host: each answers a clear
 * 4xx naming what is wrong, never a 500 (issue 35, items 8, 14 and 16; docs/security.md).
 */
import { resetConfig } from '../../shared/config';
import { mintCallerToken } from '../../shared/http/caller';
import { keyVaultSecretName, resetSecrets } from '../../shared/secrets';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { controlCall, injectFault, requestLog } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({ env: { MCP_ALLOWED_ORIGINS: 'https://app.example.test' } });
});
afterAll(async () => await t.stop());

const ROUTES: Array<[string, string, unknown]> = [
  ['GET', '/connections/me', undefined],
  ['POST', '/mail/listMessages', {}],
  ['GET', '/audit', undefined],
  ['GET', '/changes?after=0', undefined],
  ['DELETE', '/connections/me', undefined],
  ['POST', '/auth/microsoft/start', {}],
  ['POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' }],
];

test.each([
  ['empty', ''],
  ['a slash', 'a/b'],
  ['a hash', 'a#b'],
  ['a quote', "a'b"],
  ['a tilde', 'a~b'],
  ['NUL', 'a\u0000b'],
  ['non-ASCII', 'ünïcødé'],
  ['129 characters', 'x'.repeat(129)],
])('a caller JWT whose sub has %s answers 401 naming the rule on every route', async (_name, sub) => {
  const token = await mintCallerToken(sub);
  for (const [method, path, body] of ROUTES) {
    const res = await fetch(`${t.api}${path}`, {
      method,
      headers: {
        'x-functions-key': FUNCTION_KEY,
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect({ path, status: res.status }).toEqual({ path, status: 401 });
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('unauthenticated');
    expect(problem.detail).toContain('"sub"');
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=.*error="invalid_token"/);
  }
});

test('files.deleteItem with CR/LF or non-Latin-1 in eTag answers 400 naming eTag at once; nothing reaches Graph', async () => {
  const userId = await t.connect(ADELE, { features: ['files'] });
  for (const eTag of ['"{abc},1"\r\nX-Injected: 1', '"{abc},1"\n', 'ünï', '"\u2028"']) {
    const from = t.sandbox.log.lastSeq;
    const started = Date.now();
    const res = await t.call(userId, 'POST', '/files/deleteItem', { itemId: 'ITEM1', eTag });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; errors: Array<{ field: string }> };
    expect(problem.code).toBe('invalid_input');
    expect(problem.errors.map((e) => e.field)).toEqual(['eTag']);
    expect(Date.now() - started).toBeLessThan(10_000); // was ~45 s of retries: no retry loop now
    // (The first sync rounds a connect starts may be running: only the delete matters here.)
    const sent = (await requestLog(t.sandbox, from)).filter(
      (e) => e.method === 'DELETE' || e.path.includes('ITEM1'),
    );
    expect(sent).toEqual([]);
  }
});

describe('/api/mcp', () => {
  const post = async (body: string, headers: Record<string, string> = {}) =>
    await fetch(`${t.api}/mcp`, {
      method: 'POST',
      headers: {
        'x-functions-key': FUNCTION_KEY,
        authorization: `Bearer ${await t.tokenFor('mcp-hardening')}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body,
    });
  const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

  test('a browser origin not in MCP_ALLOWED_ORIGINS (or null) is refused with 403; an allowed one and servers are served', async () => {
    for (const origin of ['http://evil.test', 'null', 'https://app.example.test.evil.test']) {
      const res = await post(list, { origin });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { code: string }).code).toBe('origin_not_allowed');
    }
    expect((await post(list, { origin: 'https://app.example.test' })).status).toBe(200);
    expect((await post(list)).status).toBe(200);
  });

  test('bodies over the documented limit answer 413: 3 MB tools/list, 12 MB tools/call of a 1 MiB action', async () => {
    const bigList = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { padding: 'x'.repeat(3 * 1024 * 1024) },
    });
    const listed = await post(bigList);
    expect(listed.status).toBe(413);
    expect(((await listed.json()) as { code: string }).code).toBe('payload_too_large');
    const bigCall = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'mail.listMessages', arguments: { search: 'x'.repeat(12 * 1024 * 1024) } },
    });
    expect((await post(bigCall)).status).toBe(413);
  });

  test('tools/call with arguments that are not an object is -32602 invalid params, without a schema dump', async () => {
    for (const args of ['"text"', '[1,2]', '42']) {
      const res = await post(
        `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"mail.listMessages","arguments":${args}}}`,
      );
      const text = await res.text();
      const message = JSON.parse(/^data: (.*)$/m.exec(text)?.[1] ?? text) as {
        error?: { code: number; message: string };
      };
      expect(message.error?.code).toBe(-32602);
      expect(message.error?.message.length).toBeLessThan(300);
    }
  });
});

test('the function key as ?code= (Azure documented alternative) works on query-input routes too', async () => {
  const token = await t.tokenFor('code-query');
  for (const path of ['/audit', '/changes?after=0', '/auth/microsoft/admin-consent-url']) {
    const url = new URL(`${t.api}${path}`);
    url.searchParams.set('code', FUNCTION_KEY);
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
  }
});

describe('Key Vault unavailable at cold start', () => {
  const saved = { ...process.env };
  afterAll(() => {
    for (const k of [
      'KEY_VAULT_URL',
      'AZURE_TENANT_ID',
      'AZURE_CLIENT_ID',
      'AZURE_CLIENT_SECRET',
      'AZURE_AUTHORITY_HOST',
    ]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    resetConfig();
    resetSecrets();
  });

  test.each([503, 403])(
    'a vault answering %i: 503 configuration_unavailable naming Key Vault, not a 401',
    async (status) => {
      const token = await t.tokenFor('vault-user'); // minted while the secret comes from settings
      for (const name of [
        'CALLER_TOKEN_SECRET',
        'TOKEN_ENCRYPTION_KEYS',
        'MICROSOFT_CLIENT_SECRET',
      ] as const) {
        await controlCall(t.sandbox, 'PUT', `/keyvault/secrets/${keyVaultSecretName(name)}`, {
          value: process.env[name],
        });
      }
      process.env.KEY_VAULT_URL = t.sandbox.keyVaultUrl;
      process.env.AZURE_TENANT_ID = t.sandbox.tenantId;
      process.env.AZURE_CLIENT_ID = process.env.MICROSOFT_CLIENT_ID;
      process.env.AZURE_CLIENT_SECRET = process.env.MICROSOFT_CLIENT_SECRET;
      process.env.AZURE_AUTHORITY_HOST = t.sandbox.authorityHost;
      resetConfig();
      resetSecrets(); // a cold start: nothing cached
      await injectFault(t.sandbox, { path: '^/secrets/', status, count: 100 });
      try {
        const res = await fetch(`${t.api}/connections/me`, {
          headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${token}` },
        });
        expect(res.status).toBe(503);
        const problem = (await res.json()) as { code: string; detail: string; setting: string };
        expect(problem.code).toBe('configuration_unavailable');
        expect(problem.detail).toContain('Key Vault');
        expect(problem.setting).toBe('CALLER_TOKEN_SECRET');
        expect(res.headers.get('retry-after')).toBe('30');
      } finally {
        await controlCall(t.sandbox, 'DELETE', '/faults');
        delete process.env.KEY_VAULT_URL;
        resetConfig();
        resetSecrets();
      }
    },
  );
});

describe('percent signs and malformed escapes', () => {
  test('a % in OneDrive folder and file names: upload, listChildren, getItem, listRecent and search all answer 200 with the right path', async () => {
    const userId = await t.connect(ADELE, { features: ['files'] });
    const qs = new URLSearchParams({ path: '/50% off/100%zz done.txt' });
    const up = await fetch(`${t.api}/files/upload?${qs.toString()}`, {
      method: 'POST',
      headers: {
        'x-functions-key': FUNCTION_KEY,
        authorization: `Bearer ${await t.tokenFor(userId)}`,
        'content-type': 'application/octet-stream',
      },
      body: 'hello',
    });
    expect(up.status).toBe(200);
    const item = (await up.json()) as { id: string; path: string };
    expect(item.path).toBe('/50% off/100%zz done.txt');
    const calls: Array<[string, unknown]> = [
      ['/files/listChildren', { path: '/50% off' }],
      ['/files/getItem', { itemId: item.id }],
      ['/files/getItem', { path: '/50% off/100%zz done.txt' }],
      ['/files/listRecent', {}],
      ['/files/search', { query: '100%zz' }],
    ];
    for (const [path, body] of calls) {
      const res = await t.call(userId, 'POST', path, body);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(await res.text()).toContain('/50% off/100%zz done.txt');
    }
  });

  test('a forged To Do cursor with a malformed escape is a 400 naming cursor', async () => {
    const userId = await t.connect(ADELE, { features: ['todo'] });
    const forged = Buffer.from(
      JSON.stringify({ a: 'todo.listTasks', u: `${t.sandbox.graphBaseUrl}/me/todo/lists/%zz/tasks` }),
    ).toString('base64url');
    const res = await t.call(userId, 'POST', '/todo/listTasks', { cursor: forged });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: Array<{ field: string }> }).errors[0]!.field).toBe('cursor');
  });

  test('a malformed percent-escape in a route answers 400, not 500', async () => {
    for (const path of ['/mail/%zz', '/files/list%', '/%E0%A4%A']) {
      const res = await t.call('route-user', 'POST', path, {});
      expect(res.status).toBeLessThan(500);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });

  test("a % in the sandbox token endpoint's Basic credentials is invalid_client (401), not a 500", async () => {
    const basic = Buffer.from('11111111-2222-4333-8444-555555555555:100%zz').toString('base64');
    const res = await fetch(`${t.sandbox.authorityHost}/common/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
  });
});
