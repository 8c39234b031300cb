import { z } from 'zod';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { parseWith, queryObject } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';
import { FEED_SERVICES, listChanges, nameAccounts } from '../../shared/sync/feed';
import { installSyncHooks } from '../../shared/sync/hooks';

installSyncHooks();

const Query = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,15}$/, 'must be a sequence number from a previous nextCursor (or 0)')
      .default('0'),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    service: z.enum(FEED_SERVICES).optional(),
  })
  .strict();

/**
 * GET /api/changes?after=&limit=&service=: the caller's change feed, oldest first. `nextCursor`
 * is the last sequence number returned (or `after` when nothing is new): pass it as `after`.
 */
export const getChanges = authedHandler(async ({ request, caller }) => {
  const query = parseWith(Query, queryObject(request));
  const page = await listChanges(caller.userId, {
    after: Number(query.after),
    limit: query.limit,
    ...(query.service ? { service: query.service } : {}),
  });
  return jsonResponse(200, { ...page, items: await nameAccounts(caller.userId, page.items) });
});

registerHttp('changesList', {
  route: 'changes',
  methods: ['GET'],
  authLevel: 'function',
  handler: getChanges,
});
