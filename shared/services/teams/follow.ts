/**
 * Channels in the change feed: the user chooses which channels to follow (a team can have
 * hundreds, and Graph allows one subscription per app per channel, graph-behaviour.md §6.7). A
 * followed channel syncs by channel message delta (chatmessage-delta.md) and gets its own
 * subscription after its first round; its new and edited top-level messages reach the feed as
 * service "teams" (shared/sync/teams.ts). Chats need no choice: the user's chats are followed
 * with the teams feature.
 */
import { z } from 'zod';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { eraseIndexed } from '../../sync/items';
import { enqueueSyncJob } from '../../sync/jobs';
import { deleteSyncState, type SyncState } from '../../sync/state';
import { channelKey, followedChannels } from '../../sync/teams';
import { channelId, channelPath, teamId, teamsErrors } from './common';

const FollowedOut = z.object({
  resource: z.string().describe('The sync resource key: the change feed entries of the channel carry it.'),
  teamId: z.string(),
  channelId: z.string(),
  status: z.string().describe('idle, running or failed (first round pending: running).'),
  lastSyncedAt: z.string().nullable(),
});

function followedOut(teamId: string, channelId: string, state?: SyncState): z.infer<typeof FollowedOut> {
  return {
    resource: channelKey(teamId, channelId),
    teamId,
    channelId,
    status: state?.status ?? 'running',
    lastSyncedAt: state?.lastSuccessAt ?? null,
  };
}

const HISTORY = ['ChannelMessage.Read.All'];
const NOT_FOUND = 'No such team or channel, or the user cannot see it.';
const FORBIDDEN =
  'Following a channel reads its messages: that needs ChannelMessage.Read.All, which an administrator must consent to (feature teams-history).';

// https://learn.microsoft.com/graph/api/chatmessage-delta + teams-changenotifications-chatmessage
defineAction({
  id: 'teams.followChannel',
  service: 'teams',
  summary: 'Follow a channel in the change feed',
  description:
    'Starts following a channel: from then on its new, edited and deleted top-level messages appear in the change feed (GET /api/changes, m365://changes, signed events) as service "teams", each with the sender, the channel, the first characters and whether the user is mentioned. What was posted before is not reported. The user’s chats are followed already; channels are chosen one by one. Needs the teams-history feature. Returns {resource, teamId, channelId, status}.',
  input: z.object({ teamId, channelId }).strict(),
  output: FollowedOut,
  feature: 'teams-history',
  scopes: HISTORY,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    // The channel must exist and be visible to the user (private channels: members only).
    await ctx.graph({
      method: 'GET',
      url: channelPath(input.teamId, input.channelId),
      query: { $select: 'id' },
    });
    ctx.targets.push(input.teamId, input.channelId);
    const resource = channelKey(input.teamId, input.channelId);
    await enqueueSyncJob({ userId: ctx.userId, resource, reason: 'manual' });
    return followedOut(input.teamId, input.channelId);
  },
  mapError: teamsErrors(FORBIDDEN, NOT_FOUND),
});

defineAction({
  id: 'teams.listFollowedChannels',
  service: 'teams',
  summary: 'List the channels followed in the change feed',
  description:
    'Lists the channels whose messages reach the change feed {resource, teamId, channelId, status, lastSyncedAt}.',
  input: z.object({}).strict(),
  output: z.object({ items: z.array(FollowedOut) }),
  feature: 'teams-history',
  scopes: HISTORY,
  kind: 'read',
  idempotent: true,
  run: async (_input, ctx: ActionContext) => ({
    items: (await followedChannels(ctx.userId)).map((c) => followedOut(c.teamId, c.channelId, c.state)),
  }),
});

defineAction({
  id: 'teams.unfollowChannel',
  service: 'teams',
  summary: 'Stop following a channel in the change feed',
  description:
    'Stops following a channel: no more feed entries come from it and what the sync knew of it is erased (the feed keeps its past entries). Its subscription goes at the next renewal sweep; notifications until then are ignored. Returns {teamId, channelId, stopped: true}.',
  input: z.object({ teamId, channelId }).strict(),
  output: z.object({ teamId: z.string(), channelId: z.string(), stopped: z.literal(true) }),
  feature: 'teams-history',
  scopes: HISTORY,
  kind: 'destructive',
  idempotent: true,
  run: async (input, ctx) => {
    const resource = channelKey(input.teamId, input.channelId);
    ctx.targets.push(input.teamId, input.channelId);
    await deleteSyncState(ctx.userId, resource);
    await eraseIndexed(ctx.userId, resource);
    return { teamId: input.teamId, channelId: input.channelId, stopped: true as const };
  },
});
