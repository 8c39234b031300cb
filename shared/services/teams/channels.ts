/**
 * Channels and members: create and change channels (standard or private with members), list, add
 * and remove team and private channel members (channel-post.md, channel-patch.md,
 * team-post-members.md, channel-post-members.md ...), and chat members (chat-list-members.md,
 * chat-post-members.md).
 *
 * Team and channel management needs the admin-consented `teams-manage` feature; chat members need
 * only `teams` (Chat.ReadWrite). People are named by their sign-in address or Entra object id and
 * bound as `users('{id or upn}')`, which Graph accepts for both.
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { graphBase, seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { Problem } from '../../http/problem';
import { invalidInput } from '../../http/validate';
import { channelId, channelPath, chatId, GUID, graphInfo, teamId } from './common';
import { paceKey, paceTeams } from './pacer';
import { ChannelOut, toChannel } from './shape';

const MANAGE_SCOPES = [
  'Channel.Create',
  'ChannelSettings.ReadWrite.All',
  'ChannelMember.ReadWrite.All',
  'TeamMember.ReadWrite.All',
];

const person = z
  .string()
  .min(3)
  .max(320)
  .refine(
    (v) => GUID.test(v) || /^[^@\s]+@[^@\s]+$/.test(v),
    'must be a sign-in address or an Entra object id',
  )
  .describe('The person: their sign-in address (e.g. megan@contoso.com) or Entra object id.');

const bind = (who: string) => `${graphBase()}/users('${encodeURIComponent(who)}')`;

function memberBody(who: string, owner: boolean): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    roles: owner ? ['owner'] : [],
    'user@odata.bind': bind(who),
  };
}

const GraphMembership = z
  .object({
    id: z.string(),
    userId: z.string().nullish(),
    displayName: z.string().nullish(),
    email: z.string().nullish(),
    roles: z.array(z.string()).nullish(),
  })
  .passthrough();

const MemberOut = z.object({
  memberId: z.string().describe('The membership id (to remove the member).'),
  userId: z.string().nullable(),
  displayName: untrusted(z.string().nullable(), 'teams'),
  email: z.string().nullable(),
  roles: z.array(z.string()).describe('owner, guest, or none for a member.'),
});

function toMembership(raw: unknown): z.infer<typeof MemberOut> {
  const m = GraphMembership.parse(raw);
  return {
    memberId: m.id,
    userId: m.userId ?? null,
    displayName: m.displayName ?? null,
    email: m.email ?? null,
    roles: m.roles ?? [],
  };
}

function manageErrors(doing: string) {
  return (err: GraphError): Problem | undefined => {
    if (err.status === 403) {
      return new Problem(
        'forbidden',
        `Microsoft Graph refused to ${doing}: the user must be an owner of the team (or private channel) and the connection needs the teams-manage feature (admin consent).`,
        graphInfo(err),
      );
    }
    if (err.status === 404)
      return new Problem('not_found', 'No such team, channel or member for this user.', graphInfo(err));
    if (err.status === 400 && /already existed/i.test(err.message)) {
      return new Problem('conflict', 'A channel with this name already exists in the team.', graphInfo(err));
    }
    return undefined;
  };
}

const teamPaced = <T>(team: string, fn: () => Promise<T>) => paceTeams(paceKey.team(team), fn);

// https://learn.microsoft.com/graph/api/channel-post: 201.
defineAction({
  id: 'teams.createChannel',
  service: 'teams',
  summary: 'Create a channel in a team (standard or private)',
  description:
    'Creates a channel in a team. A private channel is seen only by its members: the user (its owner) and the members given, who must be in the team. Names are unique in the team (409 conflict) and may not contain ~ # % & * { } + / \\ : < > ? | \' ". Returns the channel.',
  input: z
    .object({
      teamId,
      name: z.string().trim().min(1).max(50).describe('The channel name (at most 50 characters).'),
      description: z.string().max(1024).optional().describe('What the channel is for.'),
      private: z
        .boolean()
        .optional()
        .describe('A private channel (default false: everyone in the team sees it).'),
      members: z
        .array(person)
        .max(50)
        .optional()
        .describe('Private channels: the other members (team members).'),
    })
    .strict(),
  output: ChannelOut,
  feature: 'teams-manage',
  scopes: MANAGE_SCOPES,
  invalidates: ['teamsChannels'],
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  run: async (input, ctx) => {
    if (input.members?.length && !input.private) {
      throw invalidInput([
        { field: 'members', message: 'only private channels take members (a standard channel has the team)' },
      ]);
    }
    const body: Record<string, unknown> = {
      displayName: input.name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      membershipType: input.private ? 'private' : 'standard',
      ...(input.private ? { members: (input.members ?? []).map((m) => memberBody(m, false)) } : {}),
    };
    const res = await teamPaced(input.teamId, () =>
      ctx.graph({ method: 'POST', url: `/teams/${seg(input.teamId)}/channels`, body }),
    );
    const channel = toChannel(res.body, input.teamId);
    ctx.targets.push(input.teamId, channel.id);
    return channel;
  },
  mapError: manageErrors('create the channel'),
});

// https://learn.microsoft.com/graph/api/channel-patch: 204.
defineAction({
  id: 'teams.updateChannel',
  service: 'teams',
  summary: 'Rename a channel or change its description',
  description:
    "Changes a channel's name or description (the General channel cannot be renamed). Returns the channel.",
  input: z
    .object({
      teamId,
      channelId,
      name: z.string().trim().min(1).max(50).optional().describe('The new name.'),
      description: z.string().max(1024).optional().describe('The new description.'),
    })
    .strict(),
  output: ChannelOut,
  feature: 'teams-manage',
  scopes: MANAGE_SCOPES,
  invalidates: ['teamsChannels'],
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    const body: Record<string, unknown> = {};
    if (input.name !== undefined) body.displayName = input.name;
    if (input.description !== undefined) body.description = input.description;
    if (Object.keys(body).length === 0)
      throw invalidInput([{ field: 'name', message: 'give name or description' }]);
    ctx.targets.push(input.teamId, input.channelId);
    const url = channelPath(input.teamId, input.channelId);
    await paceTeams(paceKey.channel(input.teamId, input.channelId), () =>
      ctx.graph({ method: 'PATCH', url, body }),
    );
    const read = await paceTeams(paceKey.channel(input.teamId, input.channelId), () =>
      ctx.graph({ method: 'GET', url }),
    );
    return toChannel(read.body, input.teamId);
  },
  mapError: manageErrors('change the channel'),
});

const membersUrl = (input: { teamId: string; channelId?: string | undefined }) =>
  input.channelId
    ? `${channelPath(input.teamId, input.channelId)}/members`
    : `/teams/${seg(input.teamId)}/members`;

async function members(ctx: ActionContext, input: { teamId: string; channelId?: string | undefined }) {
  const res = await teamPaced(input.teamId, () =>
    ctx.graph<{ value: unknown[] }>({ method: 'GET', url: membersUrl(input) }),
  );
  return res.body.value.map(toMembership);
}

const where = {
  teamId,
  channelId: channelId.optional().describe('A private channel of the team, instead of the team itself.'),
};

// https://learn.microsoft.com/graph/api/team-list-members, channel-list-members
defineAction({
  id: 'teams.listMembers',
  service: 'teams',
  summary: 'List the members of a team or private channel',
  description:
    'Lists the members of a team, or of one of its private channels (channelId), with their roles (owner, guest). Returns {items}.',
  input: z.object(where).strict(),
  output: z.object({ items: z.array(MemberOut) }),
  feature: 'teams-manage',
  scopes: MANAGE_SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => ({ items: await members(ctx, input) }),
  mapError: manageErrors('list the members'),
});

// https://learn.microsoft.com/graph/api/team-post-members, channel-post-members: 201.
defineAction({
  id: 'teams.addMember',
  service: 'teams',
  summary: 'Add someone to a team or private channel',
  description:
    'Adds a person to a team, or to a private channel (they must be in the team first), as a member or owner. The user must be an owner. Returns the membership.',
  input: z
    .object({
      ...where,
      user: person,
      owner: z.boolean().optional().describe('Make them an owner (default false).'),
    })
    .strict(),
  output: MemberOut,
  feature: 'teams-manage',
  scopes: MANAGE_SCOPES,
  invalidates: ['teamsChannels'],
  kind: 'write',
  idempotent: true,
  successStatus: 201,
  run: async (input, ctx) => {
    ctx.targets.push(input.teamId, ...(input.channelId ? [input.channelId] : []));
    const res = await teamPaced(input.teamId, () =>
      ctx.graph({
        method: 'POST',
        url: membersUrl(input),
        body: memberBody(input.user, input.owner ?? false),
      }),
    );
    return toMembership(res.body);
  },
  mapError: manageErrors('add the member'),
});

// https://learn.microsoft.com/graph/api/team-delete-members, channel-delete-members: 204.
defineAction({
  id: 'teams.removeMember',
  service: 'teams',
  summary: 'Remove someone from a team or private channel',
  description:
    'Removes a person from a team (and so from its private channels) or from one private channel. The user must be an owner; the last owner cannot be removed. Returns {removed: true, user}.',
  input: z.object({ ...where, user: person }).strict(),
  output: z.object({ removed: z.literal(true), user: z.string() }),
  feature: 'teams-manage',
  scopes: MANAGE_SCOPES,
  invalidates: ['teamsChannels'],
  kind: 'destructive',
  idempotent: true,
  run: async (input, ctx) => {
    const key = input.user.toLowerCase();
    const found = (await members(ctx, input)).find(
      (m) => m.userId?.toLowerCase() === key || m.email?.toLowerCase() === key,
    );
    if (!found) throw new Problem('not_found', `${input.user} is not a member there.`);
    ctx.targets.push(input.teamId, found.memberId);
    await teamPaced(input.teamId, () =>
      ctx.graph({ method: 'DELETE', url: `${membersUrl(input)}/${seg(found.memberId)}` }),
    );
    return { removed: true as const, user: input.user };
  },
  mapError: manageErrors('remove the member'),
});

// https://learn.microsoft.com/graph/api/chat-list-members
defineAction({
  id: 'teams.listChatMembers',
  service: 'teams',
  summary: 'List the members of a chat',
  description: 'Lists the people in a chat with their roles. Returns {items}.',
  input: z.object({ chatId }).strict(),
  output: z.object({ items: z.array(MemberOut) }),
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'read',
  idempotent: true,
  toGraph: (input) => ({ method: 'GET', url: `/chats/${seg(input.chatId)}/members` }),
  fromGraph: (res) => ({
    items: z
      .object({ value: z.array(z.unknown()) })
      .parse(res.body)
      .value.map(toMembership),
  }),
});

// https://learn.microsoft.com/graph/api/chat-post-members: 201.
defineAction({
  id: 'teams.addChatMember',
  service: 'teams',
  summary: 'Add someone to a group chat',
  description:
    'Adds a person to a group chat (one-on-one chats cannot grow: start a group chat with teams.createChat). shareHistory true lets them see the earlier messages. Returns the membership.',
  input: z
    .object({
      chatId,
      user: person,
      shareHistory: z
        .boolean()
        .optional()
        .describe('Show them the chat history (default false: only new messages).'),
    })
    .strict(),
  output: MemberOut,
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'write',
  idempotent: true,
  successStatus: 201,
  run: async (input, ctx) => {
    ctx.targets.push(input.chatId);
    const res = await ctx.graph({
      method: 'POST',
      url: `/chats/${seg(input.chatId)}/members`,
      body: {
        ...memberBody(input.user, false),
        roles: ['owner'],
        visibleHistoryStartDateTime: input.shareHistory ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
      },
    });
    return toMembership(res.body);
  },
  mapError: manageErrors('add the chat member'),
});
