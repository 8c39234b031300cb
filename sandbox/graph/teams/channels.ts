/**
 * Channels and members: channel create / update / delete (channel-post.md, channel-patch.md,
 * channel-delete.md), team members (team-list-members.md, team-post-members.md,
 * team-delete-members.md), channel members of private channels (channel-list-members.md,
 * channel-post-members.md, channel-delete-members.md) and chat members (chat-post-members.md,
 * chat-delete-members.md).
 *
 * Behaviour reproduced:
 * - Channel names: 1–50 characters, none of `~ # % & * { } + / \ : < > ? | ' "`, not ending in a
 *   dot, unique in the team (400 "Channel name already existed"); the General channel cannot be
 *   renamed or deleted.
 * - Private channels: `membershipType: private`; the delegated caller becomes an owner; members
 *   given as `aadUserConversationMember` with `user@odata.bind` must be members of the team. Only
 *   their members see them (lists and reads; a non-member gets 404).
 * - Team and private channel membership changes need an owner (403 otherwise); the last owner
 *   cannot be removed (400). A standard channel's members are the team's: adding to it is 400.
 * - Chat members: group chats only (a one-on-one chat's members are fixed: 400); any member of a
 *   group chat may add or remove.
 * - Member ids are the base64 of `{container}##{userId}` (as renderMember writes them).
 */
import type { Sandbox } from '../../context';
import { empty, json } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, odataContext, type GraphCtx } from '../core';
import { accessDenied, badRequest, notFound } from '../errors';
import type { Entity } from '../store';
import {
  channelId as newChannelId,
  isMember,
  membersOf,
  renderChannel,
  renderMember,
  visibleChat,
  visibleTeam,
  type Member,
  type TeamRefs,
} from './model';
import type { TeamsRouting } from './manage';

const CHANNEL_CREATE = { anyOf: ['Channel.Create', 'Group.ReadWrite.All'], app: ['Channel.Create'] };
const CHANNEL_SETTINGS = {
  anyOf: ['ChannelSettings.ReadWrite.All', 'Group.ReadWrite.All'],
  app: ['ChannelSettings.ReadWrite.All'],
};
const CHANNEL_DELETE = { anyOf: ['Channel.Delete.All', 'Group.ReadWrite.All'], app: ['Channel.Delete.All'] };
const TEAM_MEMBERS_READ = {
  anyOf: ['TeamMember.Read.All', 'TeamMember.ReadWrite.All', 'Group.Read.All'],
  app: ['TeamMember.Read.All'],
};
const TEAM_MEMBERS_WRITE = { anyOf: ['TeamMember.ReadWrite.All'], app: ['TeamMember.ReadWrite.All'] };
const CHANNEL_MEMBERS_READ = {
  anyOf: ['ChannelMember.Read.All', 'ChannelMember.ReadWrite.All'],
  app: ['ChannelMember.Read.All'],
};
const CHANNEL_MEMBERS_WRITE = {
  anyOf: ['ChannelMember.ReadWrite.All'],
  app: ['ChannelMember.ReadWrite.All'],
};
const CHAT_MEMBERS_WRITE = {
  anyOf: ['ChatMember.ReadWrite', 'Chat.ReadWrite'],
  app: ['ChatMember.ReadWrite.All'],
};

const BAD_NAME = /[~#%&*{}+/\\:<>?|'"]/;

function channelName(value: unknown): string {
  const name = typeof value === 'string' ? value.trim() : '';
  if (!name) throw badRequest('teams', 'displayName is required.');
  if (name.length > 50) throw badRequest('teams', 'Channel name must be 50 characters or fewer.');
  if (BAD_NAME.test(name) || name.endsWith('.')) {
    throw badRequest(
      'teams',
      `Channel name contains invalid characters: ~ # % & * { } + / \\ : < > ? | ' " or ends with a dot.`,
    );
  }
  return name;
}

/** `https://graph.microsoft.com/v1.0/users('{id}')` (or /users/{id}) → the sandbox user. */
function boundUser(sandbox: Sandbox, raw: unknown): SandboxUser {
  const m = typeof raw === 'string' ? /\/users(?:\('([^']+)'\)|\/([^/?#]+))$/.exec(raw) : null;
  const key = m ? decodeURIComponent(m[1] ?? m[2] ?? '') : '';
  const user = key ? (sandbox.directory.users.get(key) ?? sandbox.directory.findUser(key)) : undefined;
  if (!user)
    throw badRequest(
      'teams',
      "Each member needs user@odata.bind naming a user: https://graph.microsoft.com/v1.0/users('{id}').",
    );
  return user;
}

function memberInput(sandbox: Sandbox, raw: unknown): Member {
  const m = (raw ?? {}) as Record<string, unknown>;
  const type = m['@odata.type'];
  if (type !== '#microsoft.graph.aadUserConversationMember') {
    throw badRequest('teams', "A member needs @odata.type '#microsoft.graph.aadUserConversationMember'.");
  }
  const roles = m.roles === undefined ? [] : m.roles;
  if (!Array.isArray(roles) || roles.some((r) => r !== 'owner' && r !== 'guest')) {
    throw badRequest('teams', "roles is a list of 'owner' (or 'guest'); an empty list makes a member.");
  }
  return { userId: boundUser(sandbox, m['user@odata.bind']).id, roles: roles as string[] };
}

function userOfMemberId(containerId: string, id: string): string | undefined {
  const text = Buffer.from(id, 'base64').toString('utf8');
  const [container, userId] = text.split('##');
  return container === containerId ? userId : undefined;
}

function isOwner(entity: Entity, userId: string): boolean {
  return membersOf(entity).some((m) => m.userId === userId && m.roles.includes('owner'));
}

function requireOwner(ctx: GraphCtx, entity: Entity, what: string): void {
  if (ctx.auth.appOnly) return;
  if (!ctx.caller || !isOwner(entity, ctx.caller.id)) {
    throw accessDenied('teams', `Only an owner of the ${what} can change its members.`);
  }
}

function memberList(ctx: GraphCtx, sandbox: Sandbox, containerId: string, entity: Entity, context: string) {
  const value = membersOf(entity).map((m) => renderMember(sandbox, containerId, m, null));
  return json(200, { '@odata.context': odataContext(ctx, context), '@odata.count': value.length, value });
}

export function installChannelsAndMembers(sandbox: Sandbox, kit: TeamsRouting): void {
  const team = (ctx: GraphCtx, refs: TeamRefs) =>
    visibleTeam(ctx.graph.store, refs, ctx.params.teamId!, ctx.caller);

  // https://learn.microsoft.com/graph/api/channel-post: 201 channel.
  kit.teamsRoute(
    sandbox,
    'POST',
    '/teams/:teamId/channels',
    { scopes: CHANNEL_CREATE },
    async (ctx, refs) => {
      const t = team(ctx, refs);
      const body = await ctx.json<Record<string, unknown>>();
      const name = channelName(body.displayName);
      const membershipType = body.membershipType ?? 'standard';
      if (membershipType !== 'standard' && membershipType !== 'private') {
        throw badRequest(
          'teams',
          `membershipType '${typeof membershipType === 'string' ? membershipType : '?'}' is not supported here: standard or private.`,
        );
      }
      const existing = ctx.graph.store.list(refs.channels(t.id));
      if (existing.some((c) => String(c.displayName).toLowerCase() === name.toLowerCase())) {
        throw badRequest('teams', 'Channel name already existed, please use other name.');
      }
      let members: Member[] | undefined;
      if (membershipType === 'private') {
        const given = body.members === undefined ? [] : body.members;
        if (!Array.isArray(given)) throw badRequest('teams', 'members must be an array.');
        members = given.map((m) => memberInput(sandbox, m));
        for (const m of members) {
          if (!isMember(t, m.userId))
            throw badRequest('teams', `User '${m.userId}' is not a member of the team.`);
        }
        // The delegated caller owns the private channel it creates.
        if (ctx.caller && !members.some((m) => m.userId === ctx.caller!.id))
          members.unshift({ userId: ctx.caller.id, roles: ['owner'] });
        members = members.map((m) => (m.userId === ctx.caller?.id ? { ...m, roles: ['owner'] } : m));
        if (!members.some((m) => m.roles.includes('owner')))
          throw badRequest('teams', 'A private channel needs an owner.');
      } else if (body.members !== undefined) {
        throw badRequest('teams', 'Members can only be given for private channels.');
      }
      const id = newChannelId();
      const created = ctx.graph.store.insert(refs.channels(t.id), {
        id,
        createdDateTime: new Date(sandbox.now()).toISOString(),
        displayName: name,
        description: typeof body.description === 'string' ? body.description : null,
        isFavoriteByDefault: false,
        email: '',
        tenantId: ctx.auth.tenantId,
        webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(id)}/${encodeURIComponent(name)}?groupId=${t.id}&tenantId=${ctx.auth.tenantId}`,
        membershipType,
        ...(members ? { members } : {}),
      });
      return entityResponse(ctx, renderChannel(created), {
        status: 201,
        context: `teams('${t.id}')/channels/$entity`,
      });
    },
  );

  // https://learn.microsoft.com/graph/api/channel-patch: 204.
  kit.teamsRoute(
    sandbox,
    'PATCH',
    '/teams/:teamId/channels/:channelId',
    { scopes: CHANNEL_SETTINGS },
    async (ctx, refs) => {
      const { team: t, channel } = kit.channelOf(ctx, refs);
      const body = await ctx.json<Record<string, unknown>>();
      const patch: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(body)) {
        if (key === 'displayName') {
          if (channel.displayName === 'General')
            throw badRequest('teams', 'The General channel cannot be renamed.');
          const name = channelName(value);
          const clash = ctx.graph.store
            .list(refs.channels(t.id))
            .some((c) => c.id !== channel.id && String(c.displayName).toLowerCase() === name.toLowerCase());
          if (clash) throw badRequest('teams', 'Channel name already existed, please use other name.');
          patch.displayName = name;
        } else if (key === 'description') {
          if (value !== null && (typeof value !== 'string' || value.length > 1024))
            throw badRequest('teams', 'description must be a string of at most 1024 characters.');
          patch.description = value;
        } else if (key === 'isFavoriteByDefault') {
          if (typeof value !== 'boolean')
            throw badRequest('teams', 'isFavoriteByDefault must be true or false.');
          patch.isFavoriteByDefault = value;
        } else throw badRequest('teams', `Property '${key}' cannot be updated.`);
      }
      ctx.graph.store.update(refs.channels(t.id), channel.id, patch);
      return empty(204);
    },
  );

  // https://learn.microsoft.com/graph/api/channel-delete: 204.
  kit.teamsRoute(
    sandbox,
    'DELETE',
    '/teams/:teamId/channels/:channelId',
    { scopes: CHANNEL_DELETE },
    (ctx, refs) => {
      const { team: t, channel } = kit.channelOf(ctx, refs);
      if (channel.displayName === 'General')
        throw badRequest('teams', 'The General channel cannot be deleted.');
      ctx.graph.store.remove(refs.channels(t.id), channel.id);
      return empty(204);
    },
  );

  // ------------------------------------------------------------ team members

  kit.teamsRoute(sandbox, 'GET', '/teams/:teamId/members', { scopes: TEAM_MEMBERS_READ }, (ctx, refs) => {
    const t = team(ctx, refs);
    return memberList(ctx, sandbox, t.id, t, `teams('${t.id}')/members`);
  });
  kit.teamsRoute(
    sandbox,
    'POST',
    '/teams/:teamId/members',
    { scopes: TEAM_MEMBERS_WRITE },
    async (ctx, refs) => {
      const t = team(ctx, refs);
      requireOwner(ctx, t, 'team');
      const member = memberInput(sandbox, await ctx.json());
      const user = sandbox.directory.users.get(member.userId)!;
      if (user.tenantId !== ctx.auth.tenantId && !member.roles.includes('guest')) member.roles = ['guest'];
      const members = [...membersOf(t).filter((m) => m.userId !== member.userId), member];
      ctx.graph.store.update(refs.teams, t.id, { members });
      return entityResponse(ctx, renderMember(sandbox, t.id, member, null), {
        status: 201,
        context: `teams('${t.id}')/members/$entity`,
      });
    },
  );
  kit.teamsRoute(
    sandbox,
    'DELETE',
    '/teams/:teamId/members/:memberId',
    { scopes: TEAM_MEMBERS_WRITE },
    (ctx, refs) => {
      const t = team(ctx, refs);
      requireOwner(ctx, t, 'team');
      const userId = userOfMemberId(t.id, ctx.params.memberId!);
      if (!userId || !isMember(t, userId))
        throw notFound('teams', `Member '${ctx.params.memberId}' was not found.`);
      const remaining = membersOf(t).filter((m) => m.userId !== userId);
      if (!remaining.some((m) => m.roles.includes('owner')))
        throw badRequest('teams', 'The last owner of a team cannot be removed.');
      ctx.graph.store.update(refs.teams, t.id, { members: remaining });
      // Removed from the team means removed from its private channels too.
      for (const c of ctx.graph.store.list(refs.channels(t.id))) {
        if (c.membershipType === 'private' && isMember(c, userId)) {
          ctx.graph.store.update(refs.channels(t.id), c.id, {
            members: membersOf(c).filter((m) => m.userId !== userId),
          });
        }
      }
      return empty(204);
    },
  );

  // ------------------------------------------------------------ channel members

  const channelMembers = (channel: Entity, t: Entity) => (channel.membershipType === 'private' ? channel : t);
  kit.teamsRoute(
    sandbox,
    'GET',
    '/teams/:teamId/channels/:channelId/members',
    { scopes: CHANNEL_MEMBERS_READ },
    (ctx, refs) => {
      const { team: t, channel, path } = kit.channelOf(ctx, refs);
      return memberList(ctx, sandbox, channel.id, channelMembers(channel, t), `${path}/members`);
    },
  );
  kit.teamsRoute(
    sandbox,
    'POST',
    '/teams/:teamId/channels/:channelId/members',
    { scopes: CHANNEL_MEMBERS_WRITE },
    async (ctx, refs) => {
      const { team: t, channel, path } = kit.channelOf(ctx, refs);
      if (channel.membershipType !== 'private') {
        throw badRequest(
          'teams',
          "A standard channel's members are the team's: add the person to the team instead.",
        );
      }
      requireOwner(ctx, channel, 'channel');
      const member = memberInput(sandbox, await ctx.json());
      if (!isMember(t, member.userId))
        throw badRequest('teams', `User '${member.userId}' is not a member of the team.`);
      const members = [...membersOf(channel).filter((m) => m.userId !== member.userId), member];
      ctx.graph.store.update(refs.channels(t.id), channel.id, { members });
      return entityResponse(ctx, renderMember(sandbox, channel.id, member, null), {
        status: 201,
        context: `${path}/members/$entity`,
      });
    },
  );
  kit.teamsRoute(
    sandbox,
    'DELETE',
    '/teams/:teamId/channels/:channelId/members/:memberId',
    { scopes: CHANNEL_MEMBERS_WRITE },
    (ctx, refs) => {
      const { team: t, channel } = kit.channelOf(ctx, refs);
      if (channel.membershipType !== 'private') {
        throw badRequest(
          'teams',
          "A standard channel's members are the team's: remove the person from the team instead.",
        );
      }
      requireOwner(ctx, channel, 'channel');
      const userId = userOfMemberId(channel.id, ctx.params.memberId!);
      if (!userId || !isMember(channel, userId))
        throw notFound('teams', `Member '${ctx.params.memberId}' was not found.`);
      const remaining = membersOf(channel).filter((m) => m.userId !== userId);
      if (!remaining.some((m) => m.roles.includes('owner')))
        throw badRequest('teams', 'The last owner of a private channel cannot be removed.');
      ctx.graph.store.update(refs.channels(t.id), channel.id, { members: remaining });
      return empty(204);
    },
  );

  // ------------------------------------------------------------ chat members

  kit.teamsRoute(
    sandbox,
    'POST',
    '/chats/:chatId/members',
    { scopes: CHAT_MEMBERS_WRITE },
    async (ctx, refs) => {
      const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
      if (chat.chatType !== 'group') throw badRequest('teams', 'Members can be added to group chats only.');
      const member = memberInput(sandbox, await ctx.json());
      const members = [...membersOf(chat).filter((m) => m.userId !== member.userId), member];
      ctx.graph.store.update(refs.chats, chat.id, { members });
      return entityResponse(ctx, renderMember(sandbox, chat.id, member, null), {
        status: 201,
        context: `chats('${chat.id}')/members/$entity`,
      });
    },
  );
  kit.teamsRoute(
    sandbox,
    'DELETE',
    '/chats/:chatId/members/:memberId',
    { scopes: CHAT_MEMBERS_WRITE },
    (ctx, refs) => {
      const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
      if (chat.chatType !== 'group')
        throw badRequest('teams', 'Members can be removed from group chats only.');
      const userId = userOfMemberId(chat.id, ctx.params.memberId!);
      if (!userId || !isMember(chat, userId))
        throw notFound('teams', `Member '${ctx.params.memberId}' was not found.`);
      ctx.graph.store.update(refs.chats, chat.id, {
        members: membersOf(chat).filter((m) => m.userId !== userId),
      });
      return empty(204);
    },
  );
}
