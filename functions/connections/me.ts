import { audit } from '../../shared/audit';
import { connectionView, runDisconnectingHooks } from '../../shared/auth/lifecycle';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { z } from 'zod';
import { Problem } from '../../shared/http/problem';
import { parseWith, readJson } from '../../shared/http/validate';
import { eraseAccountData, eraseUserData, exportUserData } from '../../shared/privacy';
import { chooseAccount } from '../../shared/auth/accounts';
import { listAccounts, removeAccount, setDefaultAccount } from '../../shared/storage/accounts';
import { registerHttp } from '../../shared/runtime/register';
import { getConnection, patchConnection } from '../../shared/storage/connections';
import { feedHealthOf } from '../../shared/webhooks/silence';

/**
 * GET /api/connections/me: not_connected / connected / reauth_required, with account and grant,
 * and whether change notifications are keeping up (`feed`, shared/webhooks/silence.ts).
 */
export const getMyConnection = authedHandler(async ({ caller }) => {
  const { accounts, defaultId } = await listAccounts(caller.userId);
  const chosen = accounts.find((a) => a.id === defaultId);
  const c = chosen ? await getConnection(chosen.principal) : await getConnection(caller.userId);
  if (!c) return jsonResponse(200, { status: 'not_connected' });
  // The default account at the top level (as before several accounts existed), then every account.
  const listed = [];
  for (const a of accounts) {
    const connection = a.principal === c.userId ? c : await getConnection(a.principal);
    if (!connection) continue;
    listed.push({ id: a.id, default: a.id === defaultId, ...connectionView(connection) });
  }
  return jsonResponse(200, { ...connectionView(c), feed: await feedHealthOf(c.userId), accounts: listed });
});

/**
 * DELETE /api/connections/me/accounts/{id}: disconnects one Microsoft account: its subscriptions
 * are deleted at Microsoft, everything kept for it erased; the others keep working, and the
 * default moves to the oldest one left.
 */
export const deleteMyAccount = authedHandler(async ({ request, caller, context }) => {
  const { accounts } = await listAccounts(caller.userId);
  const account = accounts.find((a) => a.id === request.params.id);
  if (!account)
    throw new Problem(
      'account_not_found',
      'You have no connected Microsoft account with this id; GET /api/connections/me lists them.',
      {
        accounts: accounts.map((a) => ({ id: a.id, username: a.username })),
      },
    );
  await runDisconnectingHooks(account.principal, context);
  const erased = await eraseAccountData(account.principal);
  await removeAccount(caller.userId, account.id);
  await audit(
    {
      userId: caller.userId,
      action: 'connection.account_removed',
      outcome: 'success',
      status: 200,
      targetIds: [account.id],
      invocationId: context.invocationId,
    },
    context,
  );
  return jsonResponse(200, { id: account.id, status: 'not_connected', erased });
});

/** PUT /api/connections/me/default {"account": email or id}: the account actions use when none is named. */
export const putDefaultAccount = authedHandler(async ({ request, caller }) => {
  const { account } = parseWith(DefaultBody, await readJson(request));
  const chosen = await chooseAccount(caller.userId, account);
  if (!chosen)
    throw new Problem(
      'not_connected',
      'No Microsoft account is connected: start with POST /api/auth/microsoft/start.',
    );
  await setDefaultAccount(caller.userId, chosen.id);
  // The user's own row names the default, so the usual request reads one row (token-vault.ts).
  const own = await getConnection(caller.userId);
  if (own)
    await patchConnection(caller.userId, {
      defaultPrincipal: chosen.principal === caller.userId ? '' : chosen.principal,
    });
  return jsonResponse(200, { default: chosen.id, username: chosen.username });
});

const DefaultBody = z.object({ account: z.string().min(1).max(320) }).strict();

/** DELETE /api/connections/me: erases everything held for the user; one pseudonymous erasure record stays. */
export const deleteMyConnection = authedHandler(async ({ caller, context }) => {
  for (const a of (await listAccounts(caller.userId)).accounts)
    if (a.principal !== caller.userId) await runDisconnectingHooks(a.principal, context);
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
registerHttp('connectionAccountDelete', {
  route: 'connections/me/accounts/{id}',
  methods: ['DELETE'],
  authLevel: 'function',
  handler: deleteMyAccount,
});
registerHttp('connectionDefaultPut', {
  route: 'connections/me/default',
  methods: ['PUT'],
  authLevel: 'function',
  handler: putDefaultAccount,
});
registerHttp('connectionExport', {
  route: 'connections/me/export',
  methods: ['GET'],
  authLevel: 'function',
  handler: exportMyData,
});
