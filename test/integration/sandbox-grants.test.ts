/**
 * The grants platforms use (issue 20): on-behalf-of (a middle tier trades its user's token for a
 * Graph token) with its documented errors, and @azure/identity's credentials pointed at the
 * sandbox unmodified (OnBehalfOfCredential, ClientSecretCredential, AuthorizationCodeCredential).
 */
import { AuthorizationCodeCredential, ClientSecretCredential, OnBehalfOfCredential } from '@azure/identity';
import type { Sandbox } from '../../sandbox';
import { mintToken, startTestSandbox, TEST_APP } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
let sandbox: Sandbox;
/** Adele's token for the middle tier's own API (what the platform's front end sends it). */
let userAssertion: string;

beforeAll(async () => {
  // Auto-approve: an authorize request with a login hint answers with a code at once.
  sandbox = await startTestSandbox({ autoApprove: true });
  userAssertion = await mintToken(sandbox, ADELE, ['access_as_user'], {
    audience: `api://${TEST_APP.clientId}`,
  });
  // Adele consented to the middle tier reading her profile and mail (not sending).
  const adele = sandbox.directory.findUser(ADELE)!;
  adele.consents[TEST_APP.clientId] = ['openid', 'profile', 'offline_access', 'User.Read', 'Mail.Read'];
});
afterAll(async () => await sandbox.stop());

async function obo(fields: Record<string, string>): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sandbox.authorityHost}/${sandbox.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      requested_token_use: 'on_behalf_of',
      assertion: userAssertion,
      scope: 'https://graph.microsoft.com/User.Read offline_access',
      ...fields,
    }),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function me(token: string): Promise<Json> {
  const res = await fetch(`${sandbox.graphBaseUrl}/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

test('on-behalf-of: the user token for the middle tier becomes a Graph token for the same user', async () => {
  const res = await obo({});
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    token_type: 'Bearer',
    access_token: expect.any(String),
    refresh_token: expect.any(String),
  });
  expect(String(res.body.scope)).toContain('User.Read');
  expect((await me(res.body.access_token as string)).userPrincipalName).toBe(ADELE);
});

test('on-behalf-of errors as documented: audience, consent, parameters, signature', async () => {
  // A token for Graph itself is not an assertion for this middle tier.
  const graphToken = await mintToken(sandbox, ADELE, ['User.Read']);
  const wrongAudience = await obo({ assertion: graphToken });
  expect(wrongAudience.status).toBe(400);
  expect(wrongAudience.body.error).toBe('invalid_grant');
  expect(wrongAudience.body.error_codes).toEqual([50013]);
  expect(wrongAudience.body.error_description).toMatch(/^AADSTS50013: Assertion audience does not match/);

  const notConsented = await obo({ scope: 'https://graph.microsoft.com/Mail.Send' });
  expect(notConsented.status).toBe(400);
  expect(notConsented.body).toMatchObject({
    error: 'invalid_grant',
    error_codes: [65001],
    suberror: 'consent_required',
  });

  const noUse = await obo({ requested_token_use: '' });
  expect(noUse.body.error_codes).toEqual([900144]);

  const tampered = await obo({ assertion: `${userAssertion.slice(0, -4)}AAAA` });
  expect(tampered.body).toMatchObject({ error: 'invalid_grant', error_codes: [50013] });
});

test('@azure/identity OnBehalfOfCredential and ClientSecretCredential work against the sandbox unmodified', async () => {
  const options = { authorityHost: sandbox.authorityHost, disableInstanceDiscovery: true };
  const onBehalf = new OnBehalfOfCredential({
    tenantId: sandbox.tenantId,
    clientId: TEST_APP.clientId,
    clientSecret: TEST_APP.clientSecret,
    userAssertionToken: userAssertion,
    ...options,
  });
  const delegated = await onBehalf.getToken('https://graph.microsoft.com/User.Read');
  expect((await me(delegated.token)).userPrincipalName).toBe(ADELE);

  const app = new ClientSecretCredential(sandbox.tenantId, TEST_APP.clientId, TEST_APP.clientSecret, options);
  const appOnly = await app.getToken('https://graph.microsoft.com/.default');
  const claims = JSON.parse(Buffer.from(appOnly.token.split('.')[1]!, 'base64url').toString()) as Json;
  expect(claims).toMatchObject({ aud: '00000003-0000-0000-c000-000000000000', appid: TEST_APP.clientId });
  expect(claims.scp).toBeUndefined();
});

test('@azure/identity AuthorizationCodeCredential redeems a code from the sandbox sign-in', async () => {
  const authorize = new URL(`${sandbox.authorityHost}/${sandbox.tenantId}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: TEST_APP.clientId,
    response_type: 'code',
    redirect_uri: TEST_APP.redirectUri,
    scope: 'openid offline_access https://graph.microsoft.com/User.Read',
    login_hint: ADELE,
    state: 'grant-test',
  }))
    authorize.searchParams.set(k, v);
  const res = await fetch(authorize, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const code = new URL(res.headers.get('location')!).searchParams.get('code');
  expect(code).toBeTruthy();
  const credential = new AuthorizationCodeCredential(
    sandbox.tenantId,
    TEST_APP.clientId,
    TEST_APP.clientSecret,
    code!,
    TEST_APP.redirectUri,
    { authorityHost: sandbox.authorityHost, disableInstanceDiscovery: true },
  );
  const token = await credential.getToken('https://graph.microsoft.com/User.Read');
  expect((await me(token.token)).userPrincipalName).toBe(ADELE);
});
