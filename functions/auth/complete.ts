import { z } from 'zod';
import { audit } from '../../shared/audit';
import { completeConnection } from '../../shared/auth/connect';
import { connectionView, runConnectedHooks } from '../../shared/auth/lifecycle';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { Problem } from '../../shared/http/problem';
import { parseWith, readJson } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';

const CompleteBody = z
  .object({
    completionCode: z
      .string()
      .regex(/^[A-Za-z0-9_-]{20,100}$/, 'must be the completion code from the return URL or the result page'),
  })
  .strict();

/**
 * POST /api/auth/microsoft/complete: the platform, with the signed-in user's caller JWT, confirms
 * the sign-in that came back with `completion=<code>`. Only the user who started it can complete
 * it (docs/security.md, "account linking").
 */
export const completeAuth = authedHandler(async ({ request, caller, context }) => {
  const { completionCode } = parseWith(CompleteBody, await readJson(request));
  const outcome = await completeConnection(caller.userId, completionCode);
  if (outcome.kind === 'mismatch') {
    for (const userId of [caller.userId, outcome.startedBy]) {
      await audit(
        {
          userId,
          action: 'connection.complete',
          outcome: 'failure',
          status: 403,
          code: 'connect_user_mismatch',
          invocationId: context.invocationId,
        },
        context,
      );
    }
    context.warn(JSON.stringify({ event: 'connect_user_mismatch' }));
    throw new Problem(
      'connect_user_mismatch',
      'This sign-in was started by a different user of the app, so it was discarded and nothing was connected. If you want to connect your Microsoft account, start connecting from your own account.',
    );
  }
  await audit(
    {
      userId: caller.userId,
      action: 'connection.complete',
      outcome: 'success',
      status: 200,
      invocationId: context.invocationId,
    },
    context,
  );
  // The account's own principal: its subscriptions, sync and events (shared/storage/accounts.ts).
  await runConnectedHooks(outcome.connection.userId, context);
  return jsonResponse(200, connectionView(outcome.connection));
});

registerHttp('authComplete', {
  route: 'auth/microsoft/complete',
  methods: ['POST'],
  authLevel: 'function',
  handler: completeAuth,
});
