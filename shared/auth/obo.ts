/**
 * On-behalf-of for platforms whose users sign in with Entra ID
 * (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-on-behalf-of-flow): the caller's
 * Entra access token for this API (shared/http/caller.ts) is traded with MSAL
 * `acquireTokenOnBehalfOf` for a Graph token with the scopes of the features the action needs,
 * plus those the user already has through this app. Nothing to consent twice and no connect flow:
 * the user's consent to the platform's app covers this API when it lists this app's client id in
 * `knownClientApplications` (docs/deployment.md). The grant is kept as a connection row like any
 * other (`grant: 'obo'`, MSAL cache encrypted), so isolation, audit, export and erase apply as
 * they are; its Graph token is held by the token vault while the row is unchanged.
 *
 * What Microsoft answers becomes a problem the platform can act on: an expired or foreign
 * assertion (401, get a new token), missing consent (403 consent_required with the scopes and the
 * admin consent URL), MFA or Conditional Access (401 interaction_required with the claims to pass
 * to the platform's own sign-in).
 */
import type * as Msal from '@azure/msal-node';
import { FEATURES, getConfig, type Feature } from '../config';
import { decrypt, encrypt } from '../crypto/envelope';
import { Problem } from '../http/problem';
import { getConnection, saveConnection, type Connection } from '../storage/connections';
import { CACHE_PURPOSE, encryptionKeys } from './keys';
import { createMsalApp, UserCachePlugin } from './msal';
import { grantedFeatures, resourceScopes, scopesFor, shortScope } from './scopes';
import { heldToken, rememberToken } from './token-vault';

/** The connection an Entra caller's action runs on, its Graph token held for the row. */
export async function oboConnection(
  userId: string,
  assertion: string,
  needed: readonly Feature[],
): Promise<Connection> {
  const existing = await getConnection(userId);
  const granted = existing ? grantedFeatures(existing.scopes.split(' ')) : [];
  if (
    existing?.status === 'connected' &&
    existing.grant === 'obo' &&
    needed.every((f) => granted.includes(f)) &&
    heldToken(userId, existing)
  ) {
    return existing;
  }
  const features = FEATURES.filter((f) => needed.includes(f) || granted.includes(f));
  const keys = await encryptionKeys();
  const plugin = new UserCachePlugin(
    existing?.grant === 'obo'
      ? decrypt(
          { keyId: existing.cacheKeyId, data: existing.cacheData },
          { userId, purpose: CACHE_PURPOSE },
          keys,
        )
      : undefined,
  );
  const app = await createMsalApp(plugin);
  let result: Msal.AuthenticationResult | null;
  try {
    result = await app.acquireTokenOnBehalfOf({
      oboAssertion: assertion,
      scopes: resourceScopes(scopesFor(features)),
    });
  } catch (err) {
    throw oboProblem(err, features);
  }
  if (!result?.account)
    throw new Problem('upstream_error', 'Microsoft answered the on-behalf-of grant without an account.');
  const now = new Date().toISOString();
  const sealed = encrypt(plugin.serialized ?? '', { userId, purpose: CACHE_PURPOSE }, keys);
  const connection: Connection = {
    userId,
    status: 'connected',
    grant: 'obo',
    homeAccountId: result.account.homeAccountId,
    username: result.account.username,
    displayName: result.account.name ?? result.account.username,
    tenantId: result.account.tenantId,
    accountType: 'work',
    scopes: ['openid', 'profile', 'offline_access', ...result.scopes.map(shortScope)].join(' '),
    connectedAt: existing?.connectedAt ?? now,
    lastRefreshAt: now,
    cacheKeyId: sealed.keyId,
    cacheData: sealed.data,
  };
  connection.etag = await saveConnection(connection, { replace: true });
  rememberToken(userId, connection, {
    token: result.accessToken,
    expiresOn: result.expiresOn ?? new Date(Date.now() + 300_000),
  });
  return connection;
}

function oboProblem(err: unknown, features: readonly Feature[]): Problem {
  const e = err as { errorCode?: string; errorMessage?: string; subError?: string; claims?: string };
  const text = `${e.errorCode ?? ''} ${e.errorMessage ?? ''}`;
  const aadsts = /AADSTS\d+/.exec(text)?.[0];
  if (aadsts === 'AADSTS500133' || aadsts === 'AADSTS50013') {
    return new Problem(
      'unauthenticated',
      aadsts === 'AADSTS500133'
        ? 'Microsoft says the Entra access token has expired: get a new one for this API (MSAL acquireTokenSilent) and retry.'
        : 'Microsoft did not accept the Entra access token as an assertion for this API: send a token issued for this API (ENTRA_API_AUDIENCE).',
      { aadsts },
      { 'www-authenticate': 'Bearer realm="m365-integration", error="invalid_token"' },
    );
  }
  if (aadsts === 'AADSTS65001' || e.subError === 'consent_required') {
    const config = getConfig();
    const scopes = resourceScopes(scopesFor(features));
    return new Problem(
      'consent_required',
      `The user has not consented to this app using Microsoft Graph (${scopes.join(', ')}) on their behalf. List this app's client id in knownClientApplications of the platform's app registration so one sign-in consents to both, or have an administrator grant consent at adminConsentUrl.`,
      {
        aadsts: aadsts ?? 'AADSTS65001',
        scopes,
        adminConsentUrl: `${config.MICROSOFT_AUTHORITY_HOST.replace(/\/$/, '')}/${config.MICROSOFT_TENANT_ID}/adminconsent?client_id=${encodeURIComponent(config.MICROSOFT_CLIENT_ID)}`,
      },
    );
  }
  if (e.errorCode === 'interaction_required' || e.claims) {
    return new Problem(
      'interaction_required',
      'Microsoft requires the user to complete multi-factor authentication or a Conditional Access step: sign them in again in the platform with the claims given here (MSAL: claims request parameter), then send the new token.',
      { aadsts: aadsts ?? null, claims: e.claims ?? null },
      {
        'www-authenticate': `Bearer realm="m365-integration", error="insufficient_claims"${e.claims ? `, claims="${Buffer.from(e.claims).toString('base64')}"` : ''}`,
      },
    );
  }
  return new Problem(
    'upstream_error',
    `The on-behalf-of grant failed${aadsts ? ` (${aadsts})` : ''}; retry later.`,
  );
}
