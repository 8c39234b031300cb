/**
 * POST /api/events/replay `{after, endpointId?}`: sends the caller's events again from a cursor of
 * their change feed (`nextCursor` of GET /api/changes, or an event's `data.seq`), to every enabled
 * endpoint or one. The same entries go out with the same `webhook-id`s, in order.
 */
import { replayEvents } from '../../shared/events/deliver';
import { authedHandler, jsonResponse } from '../../shared/http/handler';
import { invalidInput, readJson } from '../../shared/http/validate';
import { registerHttp } from '../../shared/runtime/register';
import { latestSeq } from '../../shared/sync/feed';

export const replay = authedHandler(async ({ caller, request }) => {
  const body = (await readJson(request)) as { after?: unknown; endpointId?: unknown } | null;
  const after = body?.after;
  const latest = await latestSeq(caller.userId);
  if (typeof after !== 'string' || !/^\d{1,15}$/.test(after) || Number(after) > latest) {
    throw invalidInput([
      {
        field: 'after',
        message: `must be a cursor of your change feed: a nextCursor from GET /api/changes (0 to ${latest})`,
      },
    ]);
  }
  const endpointId = body?.endpointId;
  if (endpointId !== undefined && (typeof endpointId !== 'string' || !/^ep_[\w-]{16}$/.test(endpointId))) {
    throw invalidInput([
      { field: 'endpointId', message: 'must be an endpoint id from GET /api/events/endpoints' },
    ]);
  }
  const endpoints = await replayEvents(caller.userId, Number(after), endpointId);
  return jsonResponse(202, { after, endpoints });
});

registerHttp('eventsReplay', {
  route: 'events/replay',
  methods: ['POST'],
  authLevel: 'function',
  handler: replay,
});
