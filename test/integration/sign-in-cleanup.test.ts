/**
 * The daily sign-in cleanup (shared/mcp/oauth/cleanup.ts) against Azurite: what expired or went
 * unused goes, what is live stays.
 */
import { registerClient } from '../../shared/mcp/oauth/clients';
import { cleanUpSignIns } from '../../shared/mcp/oauth/cleanup';
import { createGrant, getGrant, issueCode } from '../../shared/mcp/oauth/grants';
import { saveState } from '../../shared/storage/oauth-states';
import { startTestApp, type TestApp } from '../support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

const DAY = 24 * 3600 * 1000;

test('removes expired states, authorizations and counters, idle grants and unused clients; keeps the live ones', async () => {
  await saveState('s'.repeat(43), {
    userId: 'cleanup-user',
    verifierKeyId: 'k',
    verifierData: 'd',
    nonce: 'n',
    scopes: 'openid',
    features: '',
    expiresAt: new Date().toISOString(),
  });
  await issueCode({
    userId: 'mcp:a:b',
    grantId: '0'.repeat(32),
    grantVersion: 'v',
    clientId: 'c',
    redirectUri: 'http://127.0.0.1/cb',
    codeChallenge: 'x'.repeat(43),
    resource: 'http://127.0.0.1/api/mcp',
  });
  const used = (
    await registerClient({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }, 'a')
  ).body.client_id as string;
  await registerClient({ redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'none' }, 'a');
  const grant = await createGrant({
    userId: 'mcp:tenant:user',
    clientId: used,
    clientName: 'Used',
    scope: ['mcp:read'],
    resource: 'http://127.0.0.1/api/mcp',
  });

  // Today nothing has expired yet.
  expect(await cleanUpSignIns()).toEqual({
    states: 0,
    authorizations: 0,
    registrationCounters: 0,
    idleGrants: 0,
    unusedClients: 0,
  });
  // Eight days on: the states, the code and the counters have expired; the client without a grant goes.
  expect(await cleanUpSignIns(Date.now() + 8 * DAY)).toEqual({
    states: 1,
    authorizations: 1,
    registrationCounters: 2,
    idleGrants: 0,
    unusedClients: 1,
  });
  expect(await getGrant(grant.userId, grant.grantId)).toBeDefined();
  // A grant nobody refreshed for 90 days goes, and with it its client (now without any grant).
  expect(await cleanUpSignIns(Date.now() + 91 * DAY)).toMatchObject({ idleGrants: 1, unusedClients: 1 });
  expect(await getGrant(grant.userId, grant.grantId)).toBeUndefined();
});
