import type { HttpResponseInit } from '@azure/functions';
import { audit } from '../../shared/audit';
import { completeCallback } from '../../shared/auth/connect';
import { runConnectedHooks } from '../../shared/auth/lifecycle';
import { resultPage } from '../../shared/auth/pages';
import { httpHandler } from '../../shared/http/handler';
import { mcpCallback } from '../../shared/mcp/oauth/flow';
import { registerHttp } from '../../shared/runtime/register';

/**
 * GET at the path of MICROSOFT_REDIRECT_URI: anonymous by nature (the browser lands here from
 * Microsoft) and self-validating through the single-use state.
 */
export const authCallback = httpHandler(async ({ request, context }): Promise<HttpResponseInit> => {
  const started = Date.now();
  const outcome = await completeCallback(request.query);
  // An MCP client's authorization: the consent screen, or the error back to the client.
  if ((outcome.kind === 'mcp_consent' || outcome.kind === 'error') && outcome.mcpRequest) {
    if (outcome.kind === 'error' && outcome.diagnostic)
      context.warn(
        JSON.stringify({
          event: 'oauth_callback_failed',
          code: outcome.code,
          diagnostic: outcome.diagnostic,
        }),
      );
    return await mcpCallback(outcome, outcome.mcpRequest, request);
  }
  if (outcome.kind === 'mcp_consent') throw new Error('an MCP sign-in without its request');
  if (outcome.userId) {
    await audit(
      {
        userId: outcome.userId,
        action: 'connection.callback',
        outcome: outcome.kind === 'error' ? 'failure' : 'success',
        status: outcome.kind === 'error' ? outcome.status : 200,
        ...(outcome.kind === 'error' ? { code: outcome.code } : {}),
        ...(outcome.kind === 'confirm' ? { code: 'confirmation_pending' } : {}),
        durationMs: Date.now() - started,
        invocationId: context.invocationId,
      },
      context,
    );
  }
  if (outcome.kind === 'error' && outcome.diagnostic) {
    context.warn(
      JSON.stringify({ event: 'oauth_callback_failed', code: outcome.code, diagnostic: outcome.diagnostic }),
    );
  }
  if (outcome.kind === 'connected') await runConnectedHooks(outcome.userId, context);
  if (outcome.returnUrl) {
    const target = new URL(outcome.returnUrl);
    if (outcome.kind === 'connected') target.searchParams.set('status', 'connected');
    else if (outcome.kind === 'confirm') {
      // The platform's return page exchanges this with its signed-in user's caller JWT.
      target.searchParams.set('status', 'confirm');
      target.searchParams.set('completion', outcome.completionCode);
    } else {
      target.searchParams.set('status', 'error');
      target.searchParams.set('code', outcome.code);
    }
    return {
      status: 302,
      headers: { location: target.toString(), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
    };
  }
  if (outcome.kind === 'already_connected') {
    return resultPage(200, 'ok', 'Microsoft 365 is connected', [
      'This sign-in was already completed and the connection is working; nothing was done again.',
      'You can close this window and return to the app.',
    ]);
  }
  if (outcome.kind === 'connected') {
    return resultPage(200, 'ok', 'Microsoft 365 is connected', [
      `Signed in as ${outcome.connection.username}.`,
      'You can close this window and return to the app.',
    ]);
  }
  if (outcome.kind === 'confirm') {
    return resultPage(
      200,
      'ok',
      'One step left: confirm in the app',
      [
        `You signed in to Microsoft as ${outcome.username}. It is not linked to any app account yet; it will be linked to the app account ${outcome.accountLabel ? `"${outcome.accountLabel}"` : 'that started this sign-in'} once that account confirms.`,
        `Only if you started connecting yourself, enter this completion code in the app you started from. It works once, for the account that started, until ${outcome.expiresAt}. If someone sent you this link, close this window: nothing was connected.`,
      ],
      undefined,
      { label: 'Completion code', value: outcome.completionCode },
    );
  }
  return resultPage(
    outcome.status,
    'err',
    'Microsoft 365 could not be connected',
    [outcome.message],
    outcome.code,
  );
});

function callbackRoute(): string {
  const configured = process.env.MICROSOFT_REDIRECT_URI;
  if (configured && URL.canParse(configured)) {
    const path = new URL(configured).pathname.replace(/^\/+/, '');
    return path.startsWith('api/') ? path.slice(4) : path;
  }
  return 'auth/microsoft/callback';
}

registerHttp('authCallback', {
  route: callbackRoute(),
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: authCallback,
});
