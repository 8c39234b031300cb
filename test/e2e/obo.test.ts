/**
 * A platform whose users sign in with Entra ID (issue 37, part 2): it sends the user's Entra access
 * token for this API instead of its own caller JWT, and the app trades it on behalf of the user for
 * Graph tokens (shared/auth/obo.ts): no connect flow, no second consent. What Microsoft refuses
 * comes back as a problem naming what to do.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestApp } from '../support/app';
import { mintToken, sendMailAs } from '../support/sandbox';
import { FUNCTION_KEY, TEST_APP, type TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const API = `api://${TEST_APP.clientId}`;
let t: TestApp;

/** What a user consented to through the platform's sign-in: reading and sending their mail. */
const MAIL_CONSENT = ['openid', 'profile', 'offline_access', 'User.Read', 'Mail.ReadWrite', 'Mail.Send'];

beforeAll(async () => {
  t = await startTestApp({ env: { ENTRA_API_AUDIENCE: API } });
  // Adele consented (through the platform's sign-in) to this app reading and sending her mail.
  t.sandbox.directory.findUser(ADELE)!.consents[TEST_APP.clientId] = [...MAIL_CONSENT];
  await sendMailAs(t.sandbox, MEGAN, ADELE, 'Quarterly numbers');
}, 60000);
afterAll(async () => await t.stop());

/** An action called with an Entra token as the bearer (and the function key). */
async function asEntra(token: string, path: string, body: unknown) {
  const res = await fetch(`${t.api}${path}`, {
    method: 'POST',
    headers: {
      'x-functions-key': FUNCTION_KEY,
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
}

const entraToken = async (
  user: string,
  extra: { lifetimeSeconds?: number; audience?: string; scopes?: string[] } = {},
) =>
  await mintToken(t.sandbox, user, extra.scopes ?? ['access_as_user'], {
    audience: extra.audience ?? API,
    ...(extra.lifetimeSeconds !== undefined ? { lifetimeSeconds: extra.lifetimeSeconds } : {}),
  });

test('an Entra token for the API lists the user’s mail through on-behalf-of, with no connect flow', async () => {
  const token = await entraToken(ADELE);
  const listed = await asEntra(token, '/mail/listMessages', { folder: 'inbox' });
  expect(listed.status).toBe(200);
  expect((listed.body.items as Json[]).some((m) => String(m.subject) === 'Quarterly numbers')).toBe(true);

  // The grant is a connection like any other: the user can see it, audited, exportable.
  const tokenRequests = () =>
    t.sandbox.log.entries.filter((e) => e.grantType === 'urn:ietf:params:oauth:grant-type:jwt-bearer').length;
  const before = tokenRequests();
  expect((await asEntra(token, '/mail/listMessages', { folder: 'inbox' })).status).toBe(200);
  expect(tokenRequests()).toBe(before); // the Graph token is kept, not traded again per call
});

test('a batch and an MCP tool call run on behalf of the same token', async () => {
  const token = await entraToken(ADELE);
  const batch = await asEntra(token, '/batch', {
    items: [
      { id: 'a', action: 'profile.getMe', input: {} },
      { id: 'b', action: 'mail.listMessages', input: { folder: 'inbox', top: 5 } },
    ],
  });
  expect(batch.status).toBe(200);
  expect((batch.body.results as Json[]).map((r) => Number(r.status))).toEqual([200, 200]);

  const client = new Client({ name: 'entra-platform', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${t.api}/mcp`), {
    requestInit: { headers: { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  const tools = await client.listTools();
  expect(tools.tools.map((tool) => tool.name)).toContain('mail.listMessages');
  const result = await client.callTool({ name: 'mail.listMessages', arguments: { folder: 'inbox' } });
  expect(result.isError).toBeFalsy();
  await client.close();
});

test('an expired Entra token and one for another API are 401s saying what to do', async () => {
  const expired = await asEntra(await entraToken(ADELE, { lifetimeSeconds: -120 }), '/mail/listMessages', {});
  expect(expired.status).toBe(401);
  expect(expired.body.code).toBe('unauthenticated');
  expect(String(expired.body.detail)).toMatch(/expired: get a new one/);

  const foreign = await asEntra(
    await entraToken(ADELE, { audience: 'api://another-app' }),
    '/mail/listMessages',
    {},
  );
  expect(foreign.status).toBe(401);
  const scopeless = await asEntra(
    await entraToken(ADELE, { scopes: ['User.Read'] }),
    '/mail/listMessages',
    {},
  );
  expect(scopeless.status).toBe(401);
  expect(String(scopeless.body.detail)).toContain('access_as_user');
});

test('missing consent is 403 consent_required naming the scopes and how to consent', async () => {
  const res = await asEntra(await entraToken(MEGAN), '/mail/listMessages', {});
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({
    code: 'consent_required',
    aadsts: 'AADSTS65001',
    scopes: ['User.Read', 'Mail.ReadWrite', 'Mail.Send'],
  });
  expect(String(res.body.detail)).toContain('knownClientApplications');
  expect(String(res.body.adminConsentUrl)).toContain(`/adminconsent?client_id=${TEST_APP.clientId}`);
});

test('MFA required by policy is 401 interaction_required with the claims for the platform’s sign-in', async () => {
  const lee = t.sandbox.directory.findUser('lee.gu@contoso.test')!;
  lee.consents[TEST_APP.clientId] = [...MAIL_CONSENT];
  lee.requireMfa = true;
  try {
    const res = await asEntra(await entraToken('lee.gu@contoso.test'), '/mail/listMessages', {});
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('interaction_required');
    expect(res.body.claims).toEqual(expect.any(String));
    expect(res.headers.get('www-authenticate')).toContain('insufficient_claims');
  } finally {
    lee.requireMfa = false;
  }
});
