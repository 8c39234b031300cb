/**
 * People and presence (model.ts says how each is computed):
 *
 * - `GET /me/people`, `/users/{id}/people` (api/user-list-people): People.Read for one's own,
 *   People.Read.All for another user's; `$search`, `$top` (default 10), `$skip`, `$select`.
 * - `GET /me/presence` (Presence.Read), `GET /users/{id}/presence` (Presence.Read.All),
 *   `POST /communications/getPresencesByUserId` with `{ids}` (Presence.Read.All; at most 650 ids,
 *   api/cloudcommunications-getpresencesbyuserid).
 * - Control: `PUT /_sandbox/presence/{user}` `{availability, activity, statusMessage?}`.
 */
import type { Sandbox } from '../../context';
import { json } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, graphRoute, odataContext, type GraphCtx } from '../core';
import { badRequest, notFound } from '../errors';
import { collection } from '../paging';
import { ACTIVITY, AVAILABILITY, peopleState, personMatches, presenceOf, rankedPeople } from './model';

/** Most ids one getPresencesByUserId call takes (cloudcommunications-getpresencesbyuserid.md). */
export const PRESENCE_IDS_MAX = 650;

export function installPeople(sandbox: Sandbox): void {
  graphRoute(
    sandbox,
    'GET',
    '/me/people',
    {
      scopes: {
        anyOf: ['People.Read', 'People.Read.All'],
        other: ['People.Read.All'],
        app: ['People.Read.All'],
      },
      workload: 'generic',
      otherUsers: 'directory',
      throttle: 'none',
    },
    (ctx: GraphCtx) => {
      const user = ctx.user;
      if (!user) throw notFound('generic');
      return collection(ctx, rankedPeople(sandbox, user), {
        kind: 'outlook',
        defaultTop: 10,
        maxTop: 1000,
        search: personMatches,
        supports: { orderby: false },
      });
    },
  );

  graphRoute(
    sandbox,
    'GET',
    '/me/presence',
    {
      scopes: {
        anyOf: ['Presence.Read', 'Presence.Read.All'],
        other: ['Presence.Read.All'],
        app: ['Presence.Read.All'],
      },
      workload: 'generic',
      otherUsers: 'directory',
      throttle: 'none',
    },
    (ctx: GraphCtx) => {
      const user = ctx.user;
      if (!user) throw notFound('generic');
      return entityResponse(ctx, presenceOf(sandbox, user), {
        context: `users('${user.id}')/presence/$entity`,
      });
    },
  );

  graphRoute(
    sandbox,
    'POST',
    '/communications/getPresencesByUserId',
    { scopes: { anyOf: ['Presence.Read.All'] }, workload: 'generic', throttle: 'none' },
    async (ctx: GraphCtx) => {
      const body = await ctx.json<{ ids?: unknown }>();
      const ids = body?.ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.some((id) => typeof id !== 'string')) {
        throw badRequest('generic', "The request body needs 'ids', a non-empty array of user ids.");
      }
      if (ids.length > PRESENCE_IDS_MAX) {
        throw badRequest('generic', `At most ${PRESENCE_IDS_MAX} ids can be requested at once.`);
      }
      const tenant = ctx.auth.tenantId;
      const value = (ids as string[])
        .map((id) => sandbox.directory.users.get(id))
        .filter((u): u is SandboxUser => u !== undefined && u.tenantId === tenant)
        .map((u) => presenceOf(sandbox, u));
      return json(200, {
        '@odata.context': odataContext(ctx, 'Collection(microsoft.graph.presence)'),
        value,
      });
    },
  );

  sandbox.control.on('PUT', '/presence/:userId', async (ctx) => {
    const user = sandbox.directory.findUser(ctx.params.userId ?? '');
    if (!user) return json(404, { error: 'user (id or UPN) not found' });
    const body = await ctx.json<{ availability?: string; activity?: string; statusMessage?: string }>();
    const availability = body?.availability ?? 'Available';
    const activity = body?.activity ?? availability;
    if (!(AVAILABILITY as readonly string[]).includes(availability))
      return json(400, { error: `availability must be one of ${AVAILABILITY.join(', ')}` });
    if (!(ACTIVITY as readonly string[]).includes(activity))
      return json(400, { error: `activity must be one of ${ACTIVITY.join(', ')}` });
    const state = {
      availability,
      activity,
      ...(body?.statusMessage ? { statusMessage: body.statusMessage } : {}),
    };
    peopleState(sandbox).presence.set(user.id, state);
    return json(200, presenceOf(sandbox, user));
  });
}
