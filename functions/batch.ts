import { BatchBody, runBatch } from '../shared/actions/batch';
import { loadAllActions } from '../shared/services';
import { requestTimezone } from '../shared/actions/http';
import { authedHandler, jsonResponse } from '../shared/http/handler';
import { parseWith, readJson } from '../shared/http/validate';
import { registerHttp } from '../shared/runtime/register';

/** POST /api/batch: up to 100 actions, run as Graph $batch calls of at most 20; results in request order. */
export const batch = authedHandler(async ({ request, caller, context }) => {
  loadAllActions();
  const { items, account } = parseWith(BatchBody, await readJson(request, 4 * 1024 * 1024));
  const { results, stats } = await runBatch(items, {
    userId: caller.userId,
    ...(account ? { account } : {}),
    invocationId: context.invocationId,
    log: context,
    headers: request.headers,
    timezone: requestTimezone(request.headers),
    ...(caller.assertion ? { assertion: caller.assertion } : {}),
  });
  context.log(JSON.stringify({ event: 'batch_done', items: items.length, ...stats }));
  return jsonResponse(200, { results, stats });
});

registerHttp('batch', { route: 'batch', methods: ['POST'], authLevel: 'function', handler: batch });
