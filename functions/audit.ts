import { z } from 'zod';
import { listAudit } from '../shared/audit';
import { authedHandler, jsonResponse } from '../shared/http/handler';
import { parseWith, queryObject } from '../shared/http/validate';
import { registerHttp } from '../shared/runtime/register';

const Query = z
  .object({
    after: z
      .string()
      .regex(/^\d{13}-[0-9a-f-]{36}$/, 'must be the `next` value of a previous page')
      .optional(),
    limit: z.coerce.number().int().min(1).max(500).optional(),
  })
  .strict();

/** GET /api/audit?after=…&limit=…: the caller's own audit entries, newest first. */
export const getAudit = authedHandler(async ({ request, caller }) => {
  const q = queryObject(request);
  delete q.code;
  const input = parseWith(Query, q);
  return jsonResponse(200, await listAudit(caller.userId, input));
});

registerHttp('auditList', { route: 'audit', methods: ['GET'], authLevel: 'function', handler: getAudit });
