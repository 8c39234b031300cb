import { z } from 'zod';
import { adminConsentUrl } from '../../shared/auth/connect';
import { FEATURES, getConfig } from '../../shared/config';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { parseWith, queryObject } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';

const Query = z
  .object({
    features: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()))
      .pipe(z.array(z.enum(FEATURES)).min(1))
      .optional(),
    tenant: z
      .string()
      .regex(/^([0-9a-fA-F-]{36}|[A-Za-z0-9.-]+\.[A-Za-z]{2,}|organizations)$/)
      .optional(),
  })
  .strict();

/** GET /api/auth/microsoft/admin-consent-url: the link a tenant administrator opens to consent for everyone. */
export const adminConsent = authedHandler(async ({ request }) => {
  const input = parseWith(Query, queryObject(request));
  const features = input.features ?? getConfig().MICROSOFT_FEATURES;
  return jsonResponse(200, { adminConsentUrl: await adminConsentUrl(features, input.tenant), features });
});

registerHttp('authAdminConsentUrl', {
  route: 'auth/microsoft/admin-consent-url',
  methods: ['GET'],
  authLevel: 'function',
  handler: adminConsent,
});
