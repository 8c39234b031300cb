/**
 * The sandbox identity platform driven by the real MSAL Node client (reference §7; toolchain.md
 * "MSAL Node against the sandbox"). Each test proves a behaviour the product relies on.
 */
import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  ResponseMode,
  ServerError,
  type AccountInfo,
  type AuthenticationResult,
} from '@azure/msal-node';
import { decodeJwt } from 'jose';
import type { Sandbox } from '../../sandbox';
import { controlCall, requestLog, startTestSandbox, TEST_APP } from '../support/sandbox';

const GRAPH_SCOPES = ['User.Read', 'Mail.ReadWrite'];
const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';

interface AadErrorJson {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

describe('sandbox identity platform with MSAL Node', () => {
  let sandbox: Sandbox;
  const crypto = new CryptoProvider();

  beforeAll(async () => {
    sandbox = await startTestSandbox({ autoApprove: true });
  });
  afterAll(async () => await sandbox.stop());

  function tokenEndpoint(tenant = sandbox.tenantId): string {
    return `${sandbox.authorityHost}/${tenant}/oauth2/v2.0/token`;
  }

  function msal(
    options: { clientSecret?: string; clientId?: string; capabilities?: string[]; tenant?: string } = {},
  ): ConfidentialClientApplication {
    return new ConfidentialClientApplication({
      auth: {
        clientId: options.clientId ?? TEST_APP.clientId,
        clientSecret: options.clientSecret ?? TEST_APP.clientSecret,
        authority: `${sandbox.authorityHost}/${options.tenant ?? sandbox.tenantId}`,
        knownAuthorities: [`127.0.0.1:${sandbox.port}`],
        clientCapabilities: options.capabilities,
      },
    });
  }

  /** getAuthCodeUrl → authorize (auto-approved through login_hint) → the redirect's query. */
  async function authorize(
    cca: ConfidentialClientApplication,
    input: { user: string; scopes?: string[]; challenge?: string; redirectUri?: string; prompt?: string },
  ): Promise<{ redirect: URL; state: string }> {
    const state = crypto.createNewGuid();
    const url = await cca.getAuthCodeUrl({
      scopes: input.scopes ?? GRAPH_SCOPES,
      redirectUri: input.redirectUri ?? TEST_APP.redirectUri,
      codeChallenge: input.challenge,
      codeChallengeMethod: input.challenge ? 'S256' : undefined,
      state,
      loginHint: input.user,
      prompt: input.prompt,
    });
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return { redirect: new URL(res.headers.get('location') ?? ''), state };
  }

  async function signIn(
    cca: ConfidentialClientApplication,
    user: string,
    scopes = GRAPH_SCOPES,
  ): Promise<AuthenticationResult> {
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const { redirect, state } = await authorize(cca, { user, scopes, challenge });
    expect(redirect.searchParams.get('state')).toBe(state);
    return await cca.acquireTokenByCode(
      {
        code: redirect.searchParams.get('code') ?? '',
        redirectUri: TEST_APP.redirectUri,
        scopes,
        codeVerifier: verifier,
        state,
      },
      { code: redirect.searchParams.get('code') ?? '', state },
    );
  }

  async function postToken(
    form: Record<string, string>,
    tenant?: string,
  ): Promise<{ status: number; body: AadErrorJson & Record<string, unknown> }> {
    const res = await fetch(tokenEndpoint(tenant), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as AadErrorJson & Record<string, unknown> };
  }

  /** The real error shape (reference §7.3; reference-error-codes.md "Handling error codes"). */
  function expectAadError(body: AadErrorJson, error: string, code: number): void {
    expect(body.error).toBe(error);
    expect(body.error_codes).toEqual([code]);
    expect(body.error_description).toMatch(
      new RegExp(
        `^AADSTS${code}: .+\\r\\nTrace ID: [0-9a-f-]{36}\\r\\nCorrelation ID: [0-9a-f-]{36}\\r\\nTimestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
        's',
      ),
    );
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error_uri).toBe(`https://login.microsoftonline.com/error?code=${code}`);
  }

  async function caught(promise: Promise<unknown>): Promise<AuthError> {
    try {
      await promise;
    } catch (err) {
      expect(err).toBeInstanceOf(AuthError);
      return err as AuthError;
    }
    throw new Error('expected a rejection');
  }

  function refreshTokensOf(userUpn: string) {
    const user = sandbox.directory.findUser(userUpn)!;
    return [...sandbox.directory.refreshTokens.values()].filter((rt) => rt.userId === user.id);
  }

  test('the plain-http listener serves only the sign-in pages: tokens, Graph and Key Vault answer 404 there', async () => {
    for (const path of ['/common/oauth2/v2.0/token', '/v1.0/me', '/secrets/x', '/_sandbox/faults']) {
      const res = await fetch(`${sandbox.browserUrl}${path}`, {
        method: path.endsWith('token') ? 'POST' : 'GET',
      });
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
    }
    expect((await fetch(`${sandbox.browserUrl}/_sandbox/users`)).status).toBe(200);
  });

  test('publishes OIDC metadata, instance discovery and the JWKS on the sandbox host (§7.1)', async () => {
    for (const tenant of [sandbox.tenantId, 'common', 'organizations', 'consumers', 'contoso.test']) {
      const res = await fetch(`${sandbox.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`);
      expect(res.status).toBe(200);
      const meta = (await res.json()) as Record<string, string>;
      // The browser-facing endpoint is plain http on loopback (no certificate wall); tokens stay https.
      expect(meta.authorization_endpoint).toBe(`${sandbox.browserUrl}/${tenant}/oauth2/v2.0/authorize`);
      expect(meta.authorization_endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
      expect(meta.token_endpoint).toBe(`${sandbox.authorityHost}/${tenant}/oauth2/v2.0/token`);
      expect(meta.jwks_uri).toBe(`${sandbox.authorityHost}/${tenant}/discovery/v2.0/keys`);
      if (tenant === sandbox.tenantId)
        expect(meta.issuer).toBe(`${sandbox.authorityHost}/${sandbox.tenantId}/v2.0`);
      if (tenant === 'common') expect(meta.issuer).toBe(`${sandbox.authorityHost}/{tenantid}/v2.0`);
    }
    const unknown = await fetch(
      `${sandbox.authorityHost}/nobody.example/v2.0/.well-known/openid-configuration`,
    );
    expect(unknown.status).toBe(400);
    expectAadError((await unknown.json()) as AadErrorJson, 'invalid_tenant', 90002);

    const host = `127.0.0.1:${sandbox.port}`;
    const discovery = (await (
      await fetch(
        `${sandbox.authorityHost}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${sandbox.authorityHost}/common/oauth2/v2.0/authorize`)}`,
      )
    ).json()) as Record<string, unknown>;
    expect(discovery).toEqual({
      tenant_discovery_endpoint: `${sandbox.authorityHost}/common/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });

    const jwks = (await (
      await fetch(`${sandbox.authorityHost}/${sandbox.tenantId}/discovery/v2.0/keys`)
    ).json()) as {
      keys: Array<{ kid: string; kty: string; alg: string }>;
    };
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: sandbox.keys.kid, kty: 'RSA', alg: 'RS256' })]);
  });

  test('auth code + PKCE with cp1, then a forced silent refresh rotates the refresh token; the old one works only within the grace period (§7.3, §7.5, §7.8)', async () => {
    const cca = msal({ capabilities: ['cp1'] });
    const since = (await requestLog(sandbox)).at(-1)?.seq ?? 0;
    const first = await signIn(cca, ADELE);
    const adele = sandbox.directory.findUser(ADELE)!;

    expect(first.account?.homeAccountId).toBe(`${adele.id}.${sandbox.tenantId}`);
    expect(first.account?.username).toBe(ADELE);
    const idClaims = decodeJwt(first.idToken);
    expect(idClaims).toMatchObject({
      aud: TEST_APP.clientId,
      iss: `${sandbox.authorityHost}/${sandbox.tenantId}/v2.0`,
      oid: adele.id,
      tid: sandbox.tenantId,
      preferred_username: ADELE,
      name: 'Adele Vance',
      ver: '2.0',
    });
    const at = decodeJwt(first.accessToken);
    expect(at).toMatchObject({
      oid: adele.id,
      tid: sandbox.tenantId,
      aud: '00000003-0000-0000-c000-000000000000',
    });
    expect(String(at.scp).split(' ')).toEqual(GRAPH_SCOPES);
    expect(at.xms_cc).toEqual(['cp1']);

    const [originalRt] = refreshTokensOf(ADELE).filter((rt) => rt.usedAt === undefined);
    expect(originalRt).toBeDefined();
    const refreshed = await cca.acquireTokenSilent({
      account: first.account as AccountInfo,
      scopes: GRAPH_SCOPES,
      forceRefresh: true,
    });
    expect(refreshed.fromCache).toBe(false);
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(decodeJwt(refreshed.accessToken).xms_cc).toEqual(['cp1']);
    expect(originalRt!.usedAt).toBeDefined();
    const rotated = refreshTokensOf(ADELE).filter(
      (rt) => rt.issuedAt >= originalRt!.issuedAt && rt !== originalRt,
    );
    expect(rotated.length).toBeGreaterThanOrEqual(1);

    // The old refresh token still works inside the grace window...
    const oldForm = {
      grant_type: 'refresh_token',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      refresh_token: originalRt!.token,
      scope: 'openid profile offline_access User.Read',
    };
    const withinGrace = await postToken(oldForm);
    expect(withinGrace.status).toBe(200);
    expect(withinGrace.body).toMatchObject({
      token_type: 'Bearer',
      scope: expect.stringContaining('User.Read'),
    });
    expect(withinGrace.body.refresh_token).toEqual(expect.any(String));
    expect(withinGrace.body.id_token).toEqual(expect.any(String));
    expect(withinGrace.body.refresh_token).not.toBe(originalRt!.token);

    // ...and fails once the sandbox clock passes it.
    sandbox.advanceClock((sandbox.options.refreshTokenGraceSeconds + 1) * 1000);
    const afterGrace = await postToken(oldForm);
    expect(afterGrace.status).toBe(400);
    expectAadError(afterGrace.body, 'invalid_grant', 70008);

    // The newest token keeps MSAL going.
    const again = await cca.acquireTokenSilent({
      account: first.account as AccountInfo,
      scopes: GRAPH_SCOPES,
      forceRefresh: true,
    });
    expect(again.accessToken).toEqual(expect.any(String));

    // The request log counts token requests per grant type and never holds a token.
    const tokenEntries = (await requestLog(sandbox, since)).filter((e) =>
      e.path.endsWith('/oauth2/v2.0/token'),
    );
    expect(tokenEntries.map((e) => e.grantType)).toEqual([
      'authorization_code',
      'refresh_token',
      'refresh_token',
      'refresh_token',
      'refresh_token',
    ]);
    expect(JSON.stringify(tokenEntries)).not.toContain(originalRt!.token);
  });

  test('MSAL signs in on the common and organizations authorities too (§7.1)', async () => {
    for (const tenant of ['common', 'organizations']) {
      const result = await signIn(msal({ tenant }), LEE);
      const lee = sandbox.directory.findUser(LEE)!;
      expect(result.account?.homeAccountId).toBe(`${lee.id}.${sandbox.tenantId}`);
      expect(result.tenantId).toBe(sandbox.tenantId);
    }
  });

  test('codes live 10 minutes on the sandbox clock and are bound to their redirect_uri (§7.2)', async () => {
    const cca = msal();
    const form = (code: string, redirectUri = TEST_APP.redirectUri) => ({
      grant_type: 'authorization_code',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      code,
      redirect_uri: redirectUri,
      scope: 'User.Read',
    });
    const stale = (await authorize(cca, { user: LEE })).redirect.searchParams.get('code') ?? '';
    sandbox.advanceClock(11 * 60 * 1000);
    const expired = await postToken(form(stale));
    expect(expired.status).toBe(400);
    expectAadError(expired.body, 'invalid_grant', 70008);

    const other = (await authorize(cca, { user: LEE })).redirect.searchParams.get('code') ?? '';
    const mismatch = await postToken(form(other, 'http://127.0.0.1:7071/other'));
    expectAadError(mismatch.body, 'invalid_grant', 500112);
  });

  test('response_mode=form_post answers with a self-submitting form allowed by a script hash, not unsafe-inline', async () => {
    const url = new URL(
      await msal().getAuthCodeUrl({
        scopes: GRAPH_SCOPES,
        redirectUri: TEST_APP.redirectUri,
        loginHint: LEE,
        state: 'fp',
        responseMode: ResponseMode.FORM_POST,
      }),
    );
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(csp).toContain(`form-action 'self' ${new URL(TEST_APP.redirectUri).origin}`);
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).toContain(`action="${TEST_APP.redirectUri}"`);
    expect(html).toMatch(/name="code" value="[^"]+"/);
    expect(html).toContain('name="state" value="fp"');
  });

  test('a redeemed code cannot be redeemed again: AADSTS54005 (§7.2)', async () => {
    const cca = msal();
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const { redirect } = await authorize(cca, { user: MEGAN, challenge });
    const code = redirect.searchParams.get('code') ?? '';
    const request = { code, redirectUri: TEST_APP.redirectUri, scopes: GRAPH_SCOPES, codeVerifier: verifier };
    await cca.acquireTokenByCode(request);

    const raw = await postToken({
      grant_type: 'authorization_code',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      code,
      redirect_uri: TEST_APP.redirectUri,
      code_verifier: verifier,
      scope: 'User.Read',
    });
    expect(raw.status).toBe(400);
    expectAadError(raw.body, 'invalid_grant', 54005);

    const err = await caught(cca.acquireTokenByCode(request));
    expect(err).toBeInstanceOf(ServerError);
    expect(err.errorCode).toBe('invalid_grant');
    expect(err.errorMessage).toContain('AADSTS54005');
  });

  test('a code_verifier that does not match the challenge fails: AADSTS501481 (§7.4)', async () => {
    const cca = msal();
    const { challenge } = await crypto.generatePkceCodes();
    const other = await crypto.generatePkceCodes();
    const { redirect } = await authorize(cca, { user: MEGAN, challenge });
    const err = await caught(
      cca.acquireTokenByCode({
        code: redirect.searchParams.get('code') ?? '',
        redirectUri: TEST_APP.redirectUri,
        scopes: GRAPH_SCOPES,
        codeVerifier: other.verifier,
      }),
    );
    expect(err).toBeInstanceOf(ServerError);
    expect(err.errorCode).toBe('invalid_grant');
    expect(err.errorMessage).toContain('AADSTS501481');

    const plain = await authorize(cca, { user: MEGAN, challenge: undefined });
    const raw = await postToken({
      grant_type: 'authorization_code',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      code: plain.redirect.searchParams.get('code') ?? '',
      redirect_uri: TEST_APP.redirectUri,
      scope: 'User.Read',
    });
    expect(raw.status).toBe(200);
  });

  test('a PKCE mismatch has the real error JSON shape', async () => {
    const cca = msal();
    const { challenge } = await crypto.generatePkceCodes();
    const { redirect } = await authorize(cca, { user: LEE, challenge });
    const raw = await postToken({
      grant_type: 'authorization_code',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      code: redirect.searchParams.get('code') ?? '',
      redirect_uri: TEST_APP.redirectUri,
      code_verifier: 'not-the-verifier-not-the-verifier-not-the-verifier',
      scope: 'User.Read',
    });
    expect(raw.status).toBe(400);
    expectAadError(raw.body, 'invalid_grant', 501481);
  });

  test('a wrong client secret is invalid_client AADSTS7000215 (HTTP 401), with Basic auth too (§7.4)', async () => {
    const cca = msal({ clientSecret: 'not-the-secret' });
    const { verifier, challenge } = await crypto.generatePkceCodes();
    const { redirect } = await authorize(cca, { user: LEE, challenge });
    const err = await caught(
      cca.acquireTokenByCode({
        code: redirect.searchParams.get('code') ?? '',
        redirectUri: TEST_APP.redirectUri,
        scopes: GRAPH_SCOPES,
        codeVerifier: verifier,
      }),
    );
    expect(err).toBeInstanceOf(ServerError);
    expect(err.errorCode).toBe('invalid_client');
    expect(err.errorMessage).toContain('AADSTS7000215');

    const res = await fetch(tokenEndpoint(), {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${TEST_APP.clientId}:wrong`).toString('base64')}`,
      },
      body: 'grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default',
    });
    expect(res.status).toBe(401);
    expectAadError((await res.json()) as AadErrorJson, 'invalid_client', 7000215);

    const unknown = await postToken({
      grant_type: 'client_credentials',
      client_id: '99999999-9999-4999-8999-999999999999',
      client_secret: 'x',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(unknown.status).toBe(400);
    expectAadError(unknown.body, 'unauthorized_client', 700016);
  });

  test('an expired client secret is invalid_client AADSTS7000222 (§7.4)', async () => {
    const clientId = 'aaaaaaaa-2222-4333-8444-000000000222';
    sandbox.directory.addApp({
      clientId,
      secrets: [{ value: 'expiring-secret-value', expiresAt: sandbox.now() + 3600_000 }],
      redirectUris: [TEST_APP.redirectUri],
    });
    const cca = msal({ clientId, clientSecret: 'expiring-secret-value' });
    const ok = await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
    expect(ok?.accessToken).toEqual(expect.any(String));

    await controlCall(sandbox, 'POST', `/apps/${clientId}/expire-secret`);
    const raw = await postToken({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: 'expiring-secret-value',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(raw.status).toBe(401);
    expectAadError(raw.body, 'invalid_client', 7000222);
    const err = await caught(
      msal({ clientId, clientSecret: 'expiring-secret-value' }).acquireTokenByClientCredential({
        scopes: ['https://graph.microsoft.com/.default'],
      }),
    );
    expect(err.errorCode).toBe('invalid_client');
    expect(err.errorMessage).toContain('AADSTS7000222');
  });

  test('client credentials give an app-only token with the granted roles (§7.6)', async () => {
    await controlCall(sandbox, 'PATCH', `/apps/${TEST_APP.clientId}`, {
      applicationPermissions: ['Mail.Read'],
    });
    const result = await msal().acquireTokenByClientCredential({
      scopes: ['https://graph.microsoft.com/.default'],
    });
    const claims = decodeJwt(result?.accessToken ?? '');
    expect(claims.roles).toEqual(['Mail.Read']);
    expect(claims.scp).toBeUndefined();
    expect(claims.aud).toBe('00000003-0000-0000-c000-000000000000');

    const bad = await postToken({
      grant_type: 'client_credentials',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      scope: 'Mail.Read',
    });
    expectAadError(bad.body, 'invalid_scope', 1002012);
  });

  test('an expired refresh token fails with AADSTS700082 and MSAL asks for interaction (§7.4, §7.9)', async () => {
    const cca = msal();
    const first = await signIn(cca, LEE);
    const lee = sandbox.directory.findUser(LEE)!;
    await controlCall(sandbox, 'POST', `/users/${lee.id}/expire-refresh-tokens`);
    const err = await caught(
      cca.acquireTokenSilent({
        account: first.account as AccountInfo,
        scopes: GRAPH_SCOPES,
        forceRefresh: true,
      }),
    );
    // [INT] §7.9: InteractionRequiredAuthError or ServerError invalid_grant both mean "sign in again".
    expect(err instanceof InteractionRequiredAuthError || err instanceof ServerError).toBe(true);
    expect(err.errorCode).toBe('invalid_grant');
    expect(err.errorMessage).toContain('AADSTS700082');

    const rt = refreshTokensOf(LEE).at(-1)!;
    const raw = await postToken({
      grant_type: 'refresh_token',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      refresh_token: rt.token,
      scope: 'User.Read',
    });
    expectAadError(raw.body, 'invalid_grant', 700082);
  });

  test('MFA required: refresh fails with AADSTS50076 (InteractionRequiredAuthError), a new sign-in satisfies it (§7.4)', async () => {
    const cca = msal();
    const first = await signIn(cca, MEGAN);
    const megan = sandbox.directory.findUser(MEGAN)!;
    await controlCall(sandbox, 'PATCH', `/users/${megan.id}`, { requireMfa: true });

    const err = await caught(
      cca.acquireTokenSilent({
        account: first.account as AccountInfo,
        scopes: GRAPH_SCOPES,
        forceRefresh: true,
      }),
    );
    expect(err).toBeInstanceOf(InteractionRequiredAuthError);
    expect(err.errorMessage).toContain('AADSTS50076');
    expect(err.subError).toBe('basic_action');

    const rt = refreshTokensOf(MEGAN).at(-1)!;
    const raw = await postToken({
      grant_type: 'refresh_token',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      refresh_token: rt.token,
      scope: 'User.Read',
    });
    expectAadError(raw.body, 'invalid_grant', 50076);
    expect(raw.body.suberror).toBe('basic_action');

    const again = await signIn(cca, MEGAN);
    expect(again.accessToken).toEqual(expect.any(String));
    expect(sandbox.directory.findUser(MEGAN)!.requireMfa).toBe(false);
  });

  test('admin-only scopes need admin consent: consent_required at authorize until /adminconsent grants them (§7.6)', async () => {
    const cca = msal();
    const scopes = ['ChannelMessage.Read.All'];
    const denied = await authorize(cca, { user: ADELE, scopes });
    expect(denied.redirect.searchParams.get('error')).toBe('consent_required');
    expect(denied.redirect.searchParams.get('error_description')).toMatch(/^AADSTS65001: /);
    expect(denied.redirect.searchParams.get('state')).toBe(denied.state);
    expect(denied.redirect.searchParams.get('code')).toBeNull();

    const consent = await fetch(
      `${sandbox.authorityHost}/${sandbox.tenantId}/v2.0/adminconsent?client_id=${TEST_APP.clientId}&scope=${encodeURIComponent('https://graph.microsoft.com/ChannelMessage.Read.All')}&redirect_uri=${encodeURIComponent(TEST_APP.redirectUri)}&state=admin-1`,
      { redirect: 'manual' },
    );
    expect(consent.status).toBe(302);
    const back = new URL(consent.headers.get('location') ?? '');
    expect(back.origin + back.pathname).toBe(TEST_APP.redirectUri);
    expect(back.searchParams.get('admin_consent')).toBe('True');
    expect(back.searchParams.get('tenant')).toBe(sandbox.tenantId);
    expect(back.searchParams.get('state')).toBe('admin-1');

    const result = await signIn(cca, ADELE, scopes);
    expect(decodeJwt(result.accessToken).scp).toBe('ChannelMessage.Read.All');
  });

  test('consent withdrawn: refresh fails with AADSTS65001 suberror consent_required (§7.3)', async () => {
    const cca = msal();
    const first = await signIn(cca, LEE, ['Calendars.ReadWrite']);
    const lee = sandbox.directory.findUser(LEE)!;
    await controlCall(sandbox, 'PATCH', `/users/${lee.id}`, { consents: {} });
    const err = await caught(
      cca.acquireTokenSilent({
        account: first.account as AccountInfo,
        scopes: ['Calendars.ReadWrite'],
        forceRefresh: true,
      }),
    );
    expect(err).toBeInstanceOf(InteractionRequiredAuthError);
    expect(err.subError).toBe('consent_required');
    expect(err.errorMessage).toContain('AADSTS65001');
    const rt = refreshTokensOf(LEE).at(-1)!;
    const raw = await postToken({
      grant_type: 'refresh_token',
      client_id: TEST_APP.clientId,
      client_secret: TEST_APP.clientSecret,
      refresh_token: rt.token,
      scope: 'Calendars.ReadWrite',
    });
    expectAadError(raw.body, 'invalid_grant', 65001);
    expect(raw.body.suberror).toBe('consent_required');
  });

  test('revoking sessions kills refresh tokens (AADSTS50173) and marks older access tokens revoked (§7.5)', async () => {
    const cca = msal();
    const first = await signIn(cca, ADELE);
    const adele = sandbox.directory.findUser(ADELE)!;
    await controlCall(sandbox, 'POST', `/users/${adele.id}/revoke`);
    expect(sandbox.directory.revokedBefore.get(adele.id)).toBeGreaterThanOrEqual(
      (decodeJwt(first.accessToken).iat ?? 0) * 1000,
    );
    const err = await caught(
      cca.acquireTokenSilent({
        account: first.account as AccountInfo,
        scopes: GRAPH_SCOPES,
        forceRefresh: true,
      }),
    );
    expect(err.errorCode).toBe('invalid_grant');
    expect(err.errorMessage).toContain('AADSTS50173');
  });

  describe('the sign-in and consent page', () => {
    beforeAll(async () => {
      await controlCall(sandbox, 'POST', '/identity/auto-approve', { enabled: false });
    });
    afterAll(async () => {
      await controlCall(sandbox, 'POST', '/identity/auto-approve', { enabled: true });
    });

    async function openPage(scopes = ['Mail.Send', 'Files.ReadWrite']) {
      const url = await msal().getAuthCodeUrl({
        scopes,
        redirectUri: TEST_APP.redirectUri,
        state: 'page-state',
        loginHint: MEGAN,
      });
      const res = await fetch(url, { redirect: 'manual' });
      return { res, html: await res.text() };
    }

    function pendingId(html: string): string {
      return /name="sandbox_request" value="([^"]+)"/.exec(html)?.[1] ?? '';
    }

    async function decide(html: string, decision: 'accept' | 'cancel', userId: string) {
      const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? '';
      return await fetch(`${sandbox.authorityHost}${action}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ sandbox_request: pendingId(html), decision, user: userId }).toString(),
      });
    }

    test('lists the requested scopes and the user, under a CSP without inline scripts', async () => {
      const { res, html } = await openPage();
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/html');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(html).not.toMatch(/<script/i);
      expect(html).toContain('<html lang="en">');
      for (const scope of ['Mail.Send', 'Files.ReadWrite', 'openid', 'offline_access'])
        expect(html).toContain(scope);
      expect(html).toContain(MEGAN);
      const megan = sandbox.directory.findUser(MEGAN)!;
      expect(html).toMatch(new RegExp(`value="${megan.id}" checked`));
      expect(html).toMatch(/<button type="submit" name="decision" value="accept"/);
      expect(html).toMatch(/<button type="submit" name="decision" value="cancel"/);
    });

    test('Accept redirects with a code; Cancel redirects with access_denied AADSTS65004 (§7.2)', async () => {
      const megan = sandbox.directory.findUser(MEGAN)!;
      const accepted = await decide((await openPage()).html, 'accept', megan.id);
      expect(accepted.status).toBe(302);
      const ok = new URL(accepted.headers.get('location') ?? '');
      expect(ok.searchParams.get('code')).toEqual(expect.any(String));
      expect(ok.searchParams.get('state')).toBe('page-state');
      expect(megan.consents[TEST_APP.clientId]).toEqual(
        expect.arrayContaining(['Mail.Send', 'Files.ReadWrite']),
      );

      const { html } = await openPage();
      const cancelled = await decide(html, 'cancel', megan.id);
      expect(cancelled.status).toBe(302);
      const back = new URL(cancelled.headers.get('location') ?? '');
      expect(back.origin + back.pathname).toBe(TEST_APP.redirectUri);
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('error_description')).toMatch(/^AADSTS65004: /);
      expect(back.searchParams.get('state')).toBe('page-state');
      expect(back.searchParams.get('code')).toBeNull();

      // The pending request is single use.
      const replay = await decide(html, 'accept', megan.id);
      expect(replay.status).toBe(400);
    });

    test('a redirect_uri that is not registered gets an error page, never a redirect (AADSTS50011)', async () => {
      const url = await msal().getAuthCodeUrl({
        scopes: GRAPH_SCOPES,
        redirectUri: 'https://evil.example/callback',
        loginHint: MEGAN,
      });
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('AADSTS50011');
      expect(html).not.toContain('evil.example/callback?');
    });
  });

  test('personal accounts cannot sign in on the tenant authority, work accounts not on consumers (§7.1)', async () => {
    const personal = await controlCall<{ id: string }>(sandbox, 'POST', '/users', {
      userPrincipalName: 'sam.personal@outlook.test',
      displayName: 'Sam Personal',
      accountType: 'personal',
    });
    const onTenant = await fetch(
      await msal().getAuthCodeUrl({
        scopes: GRAPH_SCOPES,
        redirectUri: TEST_APP.redirectUri,
        loginHint: 'sam.personal@outlook.test',
      }),
      { redirect: 'manual' },
    );
    expect(onTenant.status).toBe(400);
    expect(await onTenant.text()).toContain('AADSTS500200');

    const consumers = msal({ tenant: 'consumers' });
    const workOnConsumers = await fetch(
      await consumers.getAuthCodeUrl({
        scopes: GRAPH_SCOPES,
        redirectUri: TEST_APP.redirectUri,
        loginHint: ADELE,
      }),
      { redirect: 'manual' },
    );
    expect(workOnConsumers.status).toBe(400);

    const result = await signIn(consumers, 'sam.personal@outlook.test');
    expect(result.account?.homeAccountId).toBe(`${personal.id}.9188040d-6c67-4c5b-b112-36a304b66dad`);
  });
});
