import { z } from 'zod';
import { audit } from '../../shared/audit';
import { startConnect } from '../../shared/auth/connect';
import { FEATURES } from '../../shared/config';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { parseWith, readJson } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';

const StartBody = z
  .object({
    features: z.array(z.enum(FEATURES)).min(1).max(FEATURES.length).optional(),
    returnUrl: z.string().url().max(2048).optional(),
    loginHint: z.string().min(1).max(256).optional(),
    prompt: z.enum(['login', 'consent', 'select_account', 'none']).optional(),
    /** How the platform names this user (e.g. their e-mail there), shown on the confirmation page. */
    accountLabel: z
      .string()
      .min(1)
      .max(128)
      .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters')
      .optional(),
  })
  .strict();

/** POST /api/auth/microsoft/start → { authorizationUrl, expiresAt, features } for the calling user. */
export const startAuth = authedHandler(async ({ request, caller, context }) => {
  const input = parseWith(StartBody, await readJson(request));
  const result = await startConnect(caller.userId, input);
  await audit(
    {
      userId: caller.userId,
      action: 'connection.start',
      outcome: 'success',
      status: 200,
      invocationId: context.invocationId,
    },
    context,
  );
  return jsonResponse(200, result);
});

registerHttp('authStart', {
  route: 'auth/microsoft/start',
  methods: ['POST'],
  authLevel: 'function',
  handler: startAuth,
});
