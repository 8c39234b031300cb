import { audit } from '../../shared/audit';
import { connectionView, runDisconnectingHooks } from '../../shared/auth/lifecycle';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { eraseUserData, exportUserData } from '../../shared/privacy';
import { registerHttp } from '../../shared/runtime/register';
import { getConnection } from '../../shared/storage/connections';
import { feedHealthOf } from '../../shared/webhooks/silence';

/**
 * GET /api/connections/me: not_connected / connected / reauth_required, with account and grant,
 * and whether change notifications are keeping up (`feed`, shared/webhooks/silence.ts).
 */
export const getMyConnection = authedHandler(async ({ caller }) => {
  const c = await getConnection(caller.userId);
  if (!c) return jsonResponse(200, { status: 'not_connected' });
  return jsonResponse(200, { ...connectionView(c), feed: await feedHealthOf(caller.userId) });
});

/** DELETE /api/connections/me: erases everything held for the user; one pseudonymous erasure record stays. */
export const deleteMyConnection = authedHandler(async ({ caller, context }) => {
  await runDisconnectingHooks(caller.userId, context);
  const erased = await eraseUserData(caller.userId, context.invocationId);
  context.log(JSON.stringify({ event: 'user_data_erased', stores: Object.keys(erased).length }));
  return jsonResponse(200, { status: 'not_connected', erased });
});

/** GET /api/connections/me/export: every stored datum about the user, except secrets (GDPR access). */
export const exportMyData = authedHandler(async ({ caller, context }) => {
  const data = await exportUserData(caller.userId);
  await audit(
    {
      userId: caller.userId,
      action: 'connection.export',
      outcome: 'success',
      status: 200,
      invocationId: context.invocationId,
    },
    context,
  );
  return jsonResponse(
    200,
    { userId: caller.userId, exportedAt: new Date().toISOString(), data },
    {
      'content-disposition': 'attachment; filename="m365-integration-export.json"',
    },
  );
});

registerHttp('connectionGet', {
  route: 'connections/me',
  methods: ['GET'],
  authLevel: 'function',
  handler: getMyConnection,
});
registerHttp('connectionDelete', {
  route: 'connections/me',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: deleteMyConnection,
});
registerHttp('connectionExport', {
  route: 'connections/me/export',
  methods: ['GET'],
  authLevel: 'function',
  handler: exportMyData,
});
