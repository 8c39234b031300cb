/**
 * Identity control routes under /_sandbox/ (tests and demos): auto-approve, refresh token expiry,
 * session revocation, secret expiry and app settings.
 */
import type { Ctx, Sandbox } from '../context';
import { empty, json } from '../http';
import { identityState } from './state';

export function installIdentityControl(sandbox: Sandbox): void {
  const c = sandbox.control;
  const state = identityState(sandbox);

  c.on('GET', '/identity/auto-approve', () => json(200, { enabled: state.autoApprove }));
  c.on('POST', '/identity/auto-approve', async (ctx: Ctx) => {
    const body = await ctx.json<{ enabled?: unknown }>();
    if (typeof body.enabled !== 'boolean') return json(400, { error: 'enabled (boolean) is required' });
    state.autoApprove = body.enabled;
    return json(200, { enabled: state.autoApprove });
  });

  // The user's refresh tokens go past their inactivity window: the next refresh gets AADSTS700082.
  c.on('POST', '/users/:id/expire-refresh-tokens', (ctx: Ctx) => {
    const user = sandbox.directory.findUser(ctx.params.id ?? '');
    if (!user) return json(404, { error: 'no such user' });
    let count = 0;
    for (const rt of sandbox.directory.refreshTokens.values()) {
      if (rt.userId !== user.id) continue;
      rt.expiresAt = sandbox.now() - 1;
      count++;
    }
    return json(200, { expired: count });
  });

  // "Revoke sessions" (revokeSignInSessions): refresh tokens die (AADSTS50173) and Graph rejects
  // access tokens issued before now (reference §7.5, §7.8).
  c.on('POST', '/users/:id/revoke', (ctx: Ctx) => {
    const user = sandbox.directory.findUser(ctx.params.id ?? '');
    if (!user) return json(404, { error: 'no such user' });
    let count = 0;
    for (const rt of sandbox.directory.refreshTokens.values()) {
      if (rt.userId !== user.id) continue;
      rt.revoked = true;
      count++;
    }
    sandbox.directory.revokedBefore.set(user.id, sandbox.now());
    return json(200, { revoked: count });
  });

  c.on('POST', '/apps/:clientId/expire-secret', (ctx: Ctx) => {
    const app = sandbox.directory.apps.get(ctx.params.clientId ?? '');
    if (!app) return json(404, { error: 'no such app' });
    for (const secret of app.secrets) secret.expiresAt = sandbox.now() - 1;
    return empty(204);
  });

  c.on('GET', '/apps/:clientId', (ctx: Ctx) => {
    const app = sandbox.directory.apps.get(ctx.params.clientId ?? '');
    if (!app) return json(404, { error: 'no such app' });
    return json(200, {
      clientId: app.clientId,
      displayName: app.displayName,
      redirectUris: app.redirectUris,
      adminConsentedScopes: app.adminConsentedScopes,
      applicationPermissions: app.applicationPermissions ?? [],
    });
  });

  c.on('PATCH', '/apps/:clientId', async (ctx: Ctx) => {
    const app = sandbox.directory.apps.get(ctx.params.clientId ?? '');
    if (!app) return json(404, { error: 'no such app' });
    const body = await ctx.json<{
      redirectUris?: string[];
      adminConsentedScopes?: string[];
      applicationPermissions?: string[];
      displayName?: string;
    }>();
    if (body.redirectUris) app.redirectUris = body.redirectUris;
    if (body.adminConsentedScopes) app.adminConsentedScopes = body.adminConsentedScopes;
    if (body.applicationPermissions) app.applicationPermissions = body.applicationPermissions;
    if (body.displayName) app.displayName = body.displayName;
    return json(200, { clientId: app.clientId });
  });
}
