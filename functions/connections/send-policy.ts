/**
 * The user's own send policy (docs/assistants.md#guarded-sends): what needs their confirmation
 * and how long every send waits, cancellable. The platform sets it for the verified caller; it
 * can only tighten the operator's SEND_* settings. Not an action, so no MCP tool can loosen it.
 */
import { audit } from '../../shared/audit';
import { getConfig } from '../../shared/config';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { invalidInput, readJson } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';
import {
  combinedSendPolicy,
  getUserSendPolicy,
  parseUserSendPolicy,
  saveUserSendPolicy,
  type UserSendPolicy,
} from '../../shared/storage/send-policies';

function view(own: UserSendPolicy) {
  const config = getConfig();
  const { confirm, undoSeconds } = combinedSendPolicy(own);
  return {
    own,
    operator: {
      confirm: config.SEND_CONFIRM,
      undoSeconds: config.SEND_UNDO_SECONDS,
      allowedDomains: config.SEND_ALLOWED_DOMAINS,
      internalDomains: config.SEND_INTERNAL_DOMAINS,
    },
    effective: { confirm, undoSeconds },
  };
}

/** GET /api/connections/me/send-policy: the user's own policy, the operator's and what applies. */
export const getSendPolicy = authedHandler(async ({ caller }) =>
  jsonResponse(200, view(await getUserSendPolicy(caller.userId))),
);

/** PUT /api/connections/me/send-policy: replaces the user's own policy. */
export const putSendPolicy = authedHandler(async ({ caller, request, context }) => {
  const { policy, errors } = parseUserSendPolicy(await readJson(request));
  if (!policy) throw invalidInput(errors);
  const saved = await saveUserSendPolicy(caller.userId, policy);
  await audit(
    {
      userId: caller.userId,
      action: 'connection.sendPolicy',
      outcome: 'success',
      status: 200,
      invocationId: context.invocationId,
    },
    context,
  );
  return jsonResponse(200, view(saved));
});

registerHttp('sendPolicyGet', {
  route: 'connections/me/send-policy',
  methods: ['GET'],
  authLevel: 'function',
  handler: getSendPolicy,
});
registerHttp('sendPolicyPut', {
  route: 'connections/me/send-policy',
  methods: ['PUT'],
  authLevel: 'function',
  handler: putSendPolicy,
});
