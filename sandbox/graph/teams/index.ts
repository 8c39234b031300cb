/**
 * Graph Teams endpoints (reference §8.4, §2.3 Teams limits, §7.6 delegated-only): joined teams,
 * channels, channel messages and replies (with @mentions), chats, chat members and chat messages.
 *
 * Store layout and collection names: see model.ts (shared data lives under pseudo-owners:
 * the tenant id for `teams`/`chats`, the team id for `channels`, `channelMessages:{channelId}` and
 * `channelReplies:{channelId}:{messageId}`, the chat id for `chatMessages`).
 *
 * Behaviour reproduced:
 * - Error codes in Teams casing: `Forbidden`, `NotFound`, `BadRequest` (reference §1.1).
 * - 4 requests per second per app on a team or channel → 429 TooManyRequests + Retry-After
 *   (§2.3); at most 3,000 channel messages per app per channel per day.
 * - `joinedTeams` with a delegated token is `me`-only (§7.6, user-list-joinedteams.md).
 * - Sending chat or channel messages is delegated-only: an app-only token without
 *   Teamwork.Migrate.All gets 403, with it 401 "Message POST is allowed in application-only
 *   context only for import purposes" (observed, microsoft-graph-docs-contrib#1914, msteams-docs#12852).
 * - Channel messages: default page 20, `$top` ≤ 50, `$skiptoken` paging, `$expand=replies`, no
 *   other query options; chats and chat messages: `$top` ≤ 50 (§4.1, §8.4).
 * - Personal (consumer) accounts have no Teams: 403 Forbidden (model.ts `assertWorkAccount`).
 */
import { createHash } from 'node:crypto';
import type { Sandbox } from '../../context';
import { persisted } from '../../persist';
import { safeDecode, json, type SandboxResponse } from '../../http';
import { SANDBOX_TENANT_ID } from '../../state';
import type { SandboxUser } from '../../state';
import {
  entityResponse,
  graphRoute,
  graphState,
  odataContext,
  type GraphCtx,
  type GraphRouteOptions,
} from '../core';
import { accessDenied, badQuery, badRequest, GraphHttpError, notFound, throttled } from '../errors';
import { deltaResponse } from '../delta';
import { parseODataQuery } from '../odata';
import { collection } from '../paging';
import type { CollectionRef, Entity } from '../store';
import {
  assertWorkAccount,
  channelVisibleTo,
  channelId as newChannelId,
  groupChatId,
  isMember,
  membersOf,
  newMessage,
  oneOnOneChatId,
  renderChannel,
  renderChat,
  renderJoinedTeam,
  renderMember,
  renderMessage,
  renderTeam,
  teamRefs,
  throttleTeamsKey,
  validateMessage,
  visibleChannel,
  visibleChat,
  visibleTeam,
  type Member,
  type MessageBody,
  type TeamRefs,
} from './model';
import { installChannelsAndMembers } from './channels';
import { checkHostedContents, installMessageManagement, storeHostedContents } from './manage';

export { TEAMS_COLLECTIONS } from './model';

// Permission tables of the Graph API pages (delegated least → most privileged; application).
const TEAM_READ = {
  anyOf: [
    'Team.ReadBasic.All',
    'TeamSettings.Read.All',
    'TeamSettings.ReadWrite.All',
    'Group.Read.All',
    'Directory.Read.All',
  ],
  app: [
    'Team.ReadBasic.All',
    'TeamSettings.Read.All',
    'TeamSettings.ReadWrite.All',
    'Group.Read.All',
    'Directory.Read.All',
  ],
};
const JOINED_TEAMS = {
  anyOf: [
    'Team.ReadBasic.All',
    'TeamSettings.Read.All',
    'TeamSettings.ReadWrite.All',
    'User.Read.All',
    'Directory.Read.All',
  ],
  app: [
    'Team.ReadBasic.All',
    'TeamSettings.Read.All',
    'TeamSettings.ReadWrite.All',
    'User.Read.All',
    'Directory.Read.All',
  ],
};
const CHANNEL_READ = {
  anyOf: [
    'Channel.ReadBasic.All',
    'ChannelSettings.Read.All',
    'ChannelSettings.ReadWrite.All',
    'Group.Read.All',
    'Directory.Read.All',
  ],
  app: [
    'Channel.ReadBasic.All',
    'ChannelSettings.Read.All',
    'ChannelSettings.ReadWrite.All',
    'Group.Read.All',
    'Directory.Read.All',
  ],
};
// channel-list-messages.md: delegated ChannelMessage.Read.All (admin consent); app also the RSC permission.
const CHANNEL_MESSAGE_READ = {
  anyOf: ['ChannelMessage.Read.All', 'Group.Read.All', 'Group.ReadWrite.All'],
  app: ['ChannelMessage.Read.Group', 'ChannelMessage.Read.All', 'Group.Read.All'],
};
// channel-post-messages.md: delegated ChannelMessage.Send; application only Teamwork.Migrate.All (import).
const CHANNEL_MESSAGE_SEND = {
  anyOf: ['ChannelMessage.Send', 'Group.ReadWrite.All'],
  app: ['Teamwork.Migrate.All'],
};
const CHAT_LIST = {
  anyOf: ['Chat.ReadBasic', 'Chat.Read', 'Chat.ReadWrite'],
  app: ['Chat.ReadBasic.All', 'Chat.Read.All', 'Chat.ReadWrite.All'],
};
const CHAT_CREATE = { anyOf: ['Chat.Create', 'Chat.ReadWrite'], app: ['Chat.Create'] };
const CHAT_MESSAGE_READ = {
  anyOf: ['Chat.Read', 'Chat.ReadWrite'],
  app: ['Chat.Read.All', 'Chat.ReadWrite.All'],
};
const CHAT_MESSAGE_SEND = { anyOf: ['ChatMessage.Send', 'Chat.ReadWrite'], app: ['Teamwork.Migrate.All'] };

/** At most 3,000 messages per app per day to a channel (reference §2.3). */
const CHANNEL_DAILY_MESSAGES = 3000;
const DAY_MS = 24 * 3600 * 1000;
/** Channel message lists: default page 20, $top ≤ 50 (channel-list-messages.md, reference §4.1). */
const MESSAGE_PAGE = { kind: 'skiptoken' as const, defaultTop: 20, maxTop: 50 };

interface TeamsState {
  /** Send times per `clientId|teamId|channelId` inside the last day (the daily cap). */
  daily: Map<string, number[]>;
}

function teamsState(sandbox: Sandbox): TeamsState {
  let state = sandbox.modules.teams as TeamsState | undefined;
  if (!state) {
    const s = (state = { daily: new Map() });
    sandbox.modules.teams = s;
    s.daily = persisted(sandbox, 'teams', () => s.daily) ?? s.daily;
  }
  return state;
}

/** Every Teams route: Teams error casing, no Outlook mailbox limits, work accounts only. */
function teamsRoute(
  sandbox: Sandbox,
  method: string,
  pattern: string,
  options: Omit<GraphRouteOptions, 'workload' | 'throttle'>,
  handler: (ctx: GraphCtx, refs: TeamRefs) => Promise<SandboxResponse> | SandboxResponse,
): void {
  graphRoute(sandbox, method, pattern, { ...options, workload: 'teams', throttle: 'none' }, (ctx) => {
    assertWorkAccount(ctx.caller);
    return handler(ctx, teamRefs(ctx.graph.store, ctx.auth.tenantId));
  });
}

/** Rejects query options a Teams list doesn't support (channel-list-messages.md: only $top and $expand). */
function onlyOptions(ctx: GraphCtx, allowed: string[]): void {
  for (const key of ctx.query.keys()) {
    const k = key.toLowerCase();
    if (k.startsWith('$') && !allowed.includes(k)) {
      throw badQuery('teams', `Query option '${key}' is not supported for this request.`);
    }
  }
}

function requireCaller(ctx: GraphCtx): SandboxUser {
  if (!ctx.caller) throw accessDenied('teams');
  return ctx.caller;
}

/**
 * Sending is delegated-only (reference §7.6): with Teamwork.Migrate.All (the only application
 * permission the route accepts) Graph still refuses outside migration mode, with a 401.
 */
function refuseAppOnlySend(ctx: GraphCtx): SandboxUser {
  if (ctx.auth.appOnly) {
    throw new GraphHttpError(
      401,
      'Unauthorized',
      'Message POST is allowed in application-only context only for import purposes. Refer to https://docs.microsoft.com/microsoftteams/platform/graph-api/import-messages/import-external-messages-to-teams for more details.',
    );
  }
  return requireCaller(ctx);
}

function countDaily(ctx: GraphCtx, sandbox: Sandbox, key: string): void {
  const daily = teamsState(sandbox).daily;
  const now = sandbox.now();
  const k = `${ctx.auth.clientId}|${key}`;
  const sent = (daily.get(k) ?? []).filter((t) => t > now - DAY_MS);
  if (sent.length >= CHANNEL_DAILY_MESSAGES) {
    const oldest = sent[sent.length - CHANNEL_DAILY_MESSAGES] ?? now;
    throw throttled(
      'TooManyRequests',
      'Too many messages to this channel today.',
      (oldest + DAY_MS - now) / 1000,
    );
  }
  sent.push(now);
  daily.set(k, sent);
}

/** Paths and contexts Graph uses for Teams resources. */
const ctxPath = {
  channel: (t: string, c: string) => `teams('${t}')/channels('${encodeURIComponent(c)}')`,
  chat: (c: string) => `chats('${encodeURIComponent(c)}')`,
};

function channelMessageList(
  ctx: GraphCtx,
  refs: TeamRefs,
  teamId: string,
  channelId: string,
  items: Entity[],
  context: string,
  withReplies: boolean,
): SandboxResponse {
  return collection(ctx, items, {
    ...MESSAGE_PAGE,
    supports: { filter: false, orderby: false, select: false, count: false },
    // Newest first, as Teams lists conversations.
    defaultOrder: (a, b) =>
      String(b.createdDateTime).localeCompare(String(a.createdDateTime)) || Number(b.id) - Number(a.id),
    render: (m) => {
      const out = renderMessage(m);
      if (!withReplies) return out;
      // $expand=replies returns up to 1,000 replies (channel-list-messages.md).
      const replies = ctx.graph.store.list(refs.channelReplies(teamId, channelId, m.id)).slice(0, 1000);
      return {
        ...out,
        'replies@odata.context': odataContext(ctx, `${context}('${m.id}')/replies`),
        replies: replies.map(renderMessage),
      };
    },
    context,
  });
}

function expandReplies(ctx: GraphCtx): boolean {
  const q = parseODataQuery(ctx.query, 'teams');
  if (q.expand === undefined) return false;
  if (q.expand.trim().toLowerCase() !== 'replies') {
    throw badQuery('teams', `Expand '${q.expand}' is not supported; only 'replies' can be expanded.`);
  }
  return true;
}

function lastMessagePreview(ctx: GraphCtx, refs: TeamRefs, chatId: string): Record<string, unknown> | null {
  const messages = ctx.graph.store.list(refs.chatMessages(chatId));
  const last = messages[messages.length - 1];
  if (!last) return null;
  return {
    id: last.id,
    createdDateTime: last.createdDateTime,
    isDeleted: false,
    messageType: last.messageType,
    eventDetail: null,
    body: last.body,
    from: last.from,
  };
}

/** `user@odata.bind` values: `https://graph.microsoft.com/v1.0/users('{id | upn}')` (chat-post.md). */
function boundUser(sandbox: Sandbox, bind: unknown): SandboxUser {
  const m = typeof bind === 'string' ? /users\('([^']+)'\)/i.exec(bind) : null;
  if (!m?.[1])
    throw badRequest(
      'teams',
      "Each member needs 'user@odata.bind' like https://graph.microsoft.com/v1.0/users('{id}').",
    );
  const user = sandbox.directory.findUser(safeDecode(m[1]));
  if (!user) throw notFound('teams', `User '${m[1]}' was not found.`);
  return user;
}

/**
 * The team and channel a `/teams/{teamId}/channels/{channelId}/...` request names, visible to the
 * caller (404 otherwise), with Teams' per-channel throttling applied; `path` is the OData context
 * path of the channel.
 */
function channelOf(ctx: GraphCtx, refs: TeamRefs): { team: Entity; channel: Entity; path: string } {
  const team = visibleTeam(ctx.graph.store, refs, ctx.params.teamId!, ctx.caller);
  const channel = visibleChannel(ctx.graph.store, refs, team, ctx.params.channelId!, ctx.caller);
  throttleTeamsKey(ctx, `${team.id}:${channel.id}`);
  return { team, channel, path: ctxPath.channel(team.id, channel.id) };
}

/** One stored message (or reply) by the `:messageId`-style param, 404 in Teams' words otherwise. */
function messageIn(ctx: GraphCtx, ref: CollectionRef, id: string, what = 'Message'): Entity {
  const message = ctx.graph.store.get(ref, id);
  if (!message) throw notFound('teams', `${what} '${id}' was not found.`);
  return message;
}

/** Posts a channel message or reply: app-only refused, body validated, the daily cap counted. */
async function postToChannel(
  ctx: GraphCtx,
  sandbox: Sandbox,
  into: CollectionRef,
  where: { teamId: string; channelId: string; replyToId?: string },
  context: string,
): Promise<SandboxResponse> {
  const sender = refuseAppOnlySend(ctx);
  const input = await ctx.json<MessageBody>();
  const fields = validateMessage(sandbox, input);
  const hosted = checkHostedContents(input.hostedContents, input.body ?? {});
  countDaily(ctx, sandbox, `${where.teamId}|${where.channelId}`);
  let stored = ctx.graph.store.insert(into, newMessage(sandbox, sender, fields, where));
  if (hosted.length) {
    const channel = `teams('${where.teamId}')/channels('${where.channelId}')`;
    const url = `teams/${where.teamId}/channels/${encodeURIComponent(where.channelId)}/messages`;
    const at = where.replyToId
      ? {
          key: `${channel}/messages('${where.replyToId}')/replies('${stored.id}')`,
          url: `${url}/${where.replyToId}/replies/${stored.id}`,
        }
      : { key: `${channel}/messages('${stored.id}')`, url: `${url}/${stored.id}` };
    const body = storeHostedContents(
      sandbox,
      hosted,
      stored.body as { contentType: string; content: string },
      at,
    );
    stored = ctx.graph.store.update(into, stored.id, { body }) as Entity;
  }
  return entityResponse(ctx, renderMessage(stored), { status: 201, context });
}

export function installTeams(sandbox: Sandbox): void {
  // Literal routes before the `:messageId` ones that would take "delta" as an id.
  installMessageDelta(sandbox);
  installMessageManagement(sandbox, { teamsRoute, channelOf, messageIn });
  installChannelsAndMembers(sandbox, { teamsRoute, channelOf, messageIn });
  // ------------------------------------------------------------ teams and channels

  // https://learn.microsoft.com/graph/api/user-list-joinedteams: delegated tokens work for `me` only;
  // "This method does not support the OData query parameters" (they are ignored).
  teamsRoute(sandbox, 'GET', '/me/joinedTeams', { scopes: JOINED_TEAMS, otherUsers: 'deny' }, (ctx, refs) => {
    const user = ctx.user;
    if (!user) throw notFound('teams');
    const teams = ctx.graph.store.list(refs.teams).filter((t) => isMember(t, user.id));
    return json(200, {
      '@odata.context': odataContext(ctx, 'teams'),
      '@odata.count': teams.length,
      value: teams.map(renderJoinedTeam),
    });
  });

  // https://learn.microsoft.com/graph/api/team-get
  teamsRoute(sandbox, 'GET', '/teams/:teamId', { scopes: TEAM_READ }, (ctx, refs) => {
    const team = visibleTeam(ctx.graph.store, refs, ctx.params.teamId!, ctx.caller);
    throttleTeamsKey(ctx, team.id);
    return entityResponse(ctx, renderTeam(team), { context: 'teams/$entity' });
  });

  // https://learn.microsoft.com/graph/api/channel-list: $filter (membershipType) and $select; no paging.
  teamsRoute(sandbox, 'GET', '/teams/:teamId/channels', { scopes: CHANNEL_READ }, (ctx, refs) => {
    const team = visibleTeam(ctx.graph.store, refs, ctx.params.teamId!, ctx.caller);
    throttleTeamsKey(ctx, team.id);
    const channels = ctx.graph.store
      .list(refs.channels(team.id))
      .filter((c) => !ctx.caller || channelVisibleTo(c, ctx.caller.id));
    return collection(ctx, channels.map(renderChannel), {
      kind: 'skiptoken',
      defaultTop: 1000,
      maxTop: 1000,
      supports: { orderby: false, count: false },
      context: `teams('${team.id}')/channels`,
    });
  });

  teamsRoute(sandbox, 'GET', '/teams/:teamId/channels/:channelId', { scopes: CHANNEL_READ }, (ctx, refs) => {
    const team = visibleTeam(ctx.graph.store, refs, ctx.params.teamId!, ctx.caller);
    const channel = visibleChannel(ctx.graph.store, refs, team, ctx.params.channelId!, ctx.caller);
    throttleTeamsKey(ctx, `${team.id}:${channel.id}`);
    return entityResponse(ctx, renderChannel(channel), { context: `teams('${team.id}')/channels/$entity` });
  });

  // ------------------------------------------------------------ channel messages

  // https://learn.microsoft.com/graph/api/channel-list-messages: top-level messages only, newest
  // first; default page 20, $top ≤ 50, $expand=replies; other options unsupported.
  teamsRoute(
    sandbox,
    'GET',
    '/teams/:teamId/channels/:channelId/messages',
    { scopes: CHANNEL_MESSAGE_READ },
    (ctx, refs) => {
      const { team, channel, path } = channelOf(ctx, refs);
      onlyOptions(ctx, ['$top', '$skiptoken', '$expand']);
      const withReplies = expandReplies(ctx);
      const items = ctx.graph.store.list(refs.channelMessages(team.id, channel.id));
      return channelMessageList(ctx, refs, team.id, channel.id, items, `${path}/messages`, withReplies);
    },
  );

  // https://learn.microsoft.com/graph/api/channel-post-messages → 201 chatMessage.
  teamsRoute(
    sandbox,
    'POST',
    '/teams/:teamId/channels/:channelId/messages',
    { scopes: CHANNEL_MESSAGE_SEND },
    async (ctx, refs) => {
      const { team, channel, path } = channelOf(ctx, refs);
      return await postToChannel(
        ctx,
        sandbox,
        refs.channelMessages(team.id, channel.id),
        { teamId: team.id, channelId: channel.id },
        `${path}/messages/$entity`,
      );
    },
  );

  teamsRoute(
    sandbox,
    'GET',
    '/teams/:teamId/channels/:channelId/messages/:messageId',
    { scopes: CHANNEL_MESSAGE_READ },
    (ctx, refs) => {
      const { team, channel, path } = channelOf(ctx, refs);
      const message = messageIn(ctx, refs.channelMessages(team.id, channel.id), ctx.params.messageId!);
      return entityResponse(ctx, renderMessage(message), { context: `${path}/messages/$entity` });
    },
  );

  // https://learn.microsoft.com/graph/api/chatmessage-list-replies: $top ≤ 50.
  teamsRoute(
    sandbox,
    'GET',
    '/teams/:teamId/channels/:channelId/messages/:messageId/replies',
    { scopes: CHANNEL_MESSAGE_READ },
    (ctx, refs) => {
      const { team, channel, path } = channelOf(ctx, refs);
      onlyOptions(ctx, ['$top', '$skiptoken']);
      const parent = messageIn(ctx, refs.channelMessages(team.id, channel.id), ctx.params.messageId!);
      const replies = ctx.graph.store.list(refs.channelReplies(team.id, channel.id, parent.id));
      const context = `${path}/messages('${parent.id}')/replies`;
      return channelMessageList(ctx, refs, team.id, channel.id, replies, context, false);
    },
  );

  // https://learn.microsoft.com/graph/api/chatmessage-post-replies → 201, replyToId = the parent.
  teamsRoute(
    sandbox,
    'POST',
    '/teams/:teamId/channels/:channelId/messages/:messageId/replies',
    { scopes: CHANNEL_MESSAGE_SEND },
    async (ctx, refs) => {
      const { team, channel, path } = channelOf(ctx, refs);
      refuseAppOnlySend(ctx);
      // Replies hang off top-level messages only: a reply's id is not a message of the channel.
      const parent = messageIn(ctx, refs.channelMessages(team.id, channel.id), ctx.params.messageId!);
      return await postToChannel(
        ctx,
        sandbox,
        refs.channelReplies(team.id, channel.id, parent.id),
        { teamId: team.id, channelId: channel.id, replyToId: parent.id },
        `${path}/messages('${parent.id}')/replies/$entity`,
      );
    },
  );

  teamsRoute(
    sandbox,
    'GET',
    '/teams/:teamId/channels/:channelId/messages/:messageId/replies/:replyId',
    { scopes: CHANNEL_MESSAGE_READ },
    (ctx, refs) => {
      const { team, channel, path } = channelOf(ctx, refs);
      const replies = refs.channelReplies(team.id, channel.id, ctx.params.messageId!);
      const reply = messageIn(ctx, replies, ctx.params.replyId!, 'Reply');
      return entityResponse(ctx, renderMessage(reply), {
        context: `${path}/messages('${ctx.params.messageId}')/replies/$entity`,
      });
    },
  );

  // ------------------------------------------------------------ chats

  // https://learn.microsoft.com/graph/api/chat-list: $top ≤ 50, $expand=members|lastMessagePreview,
  // $filter, and $orderby only `lastMessagePreview/createdDateTime desc`. Delegated: own chats only.
  teamsRoute(sandbox, 'GET', '/me/chats', { scopes: CHAT_LIST, otherUsers: 'deny' }, (ctx, refs) => {
    const user = ctx.user;
    if (!user) throw notFound('teams');
    const q = parseODataQuery(ctx.query, 'teams');
    const expand = new Set(
      (q.expand ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
    for (const e of expand) {
      if (e !== 'members' && e !== 'lastMessagePreview') {
        throw badQuery('teams', `Expand '${e}' is not supported; use members or lastMessagePreview.`);
      }
    }
    if (q.orderby) {
      const [first, ...rest] = q.orderby;
      if (rest.length > 0 || first?.path.join('/') !== 'lastMessagePreview/createdDateTime' || !first.desc) {
        throw badQuery('teams', "$orderby supports only 'lastMessagePreview/createdDateTime desc'.");
      }
    }
    const chats = ctx.graph.store
      .list(refs.chats)
      .filter((c) => isMember(c, user.id))
      .map((c): Record<string, unknown> => ({
        ...renderChat(c),
        lastMessagePreview: lastMessagePreview(ctx, refs, c.id),
        members: membersOf(c).map((m) => renderMember(sandbox, c.id, m, null)),
      }));
    return collection(ctx, chats, {
      kind: 'skiptoken',
      defaultTop: 20,
      maxTop: 50,
      supports: { count: false },
      defaultOrder: (a, b) => String(b.lastUpdatedDateTime).localeCompare(String(a.lastUpdatedDateTime)),
      render: (c) => {
        const out: Record<string, unknown> = { ...c };
        if (!expand.has('members')) delete out.members;
        if (!expand.has('lastMessagePreview')) delete out.lastMessagePreview;
        return out;
      },
      context: 'chats',
    });
  });

  // https://learn.microsoft.com/graph/api/chat-post: the caller must be a member; a one-on-one chat
  // that already exists is returned instead of a new one.
  teamsRoute(sandbox, 'POST', '/chats', { scopes: CHAT_CREATE }, async (ctx, refs) => {
    const body = await ctx.json<{ chatType?: unknown; topic?: unknown; members?: unknown }>();
    const chatType = body.chatType;
    if (chatType !== 'oneOnOne' && chatType !== 'group') {
      throw badRequest('teams', "chatType must be 'oneOnOne' or 'group'.");
    }
    if (!Array.isArray(body.members) || body.members.length === 0)
      throw badRequest('teams', 'members is required.');
    const members: Member[] = [];
    for (const raw of body.members as Array<Record<string, unknown>>) {
      if (raw?.['@odata.type'] !== '#microsoft.graph.aadUserConversationMember') {
        throw badRequest(
          'teams',
          "Each member needs '@odata.type': '#microsoft.graph.aadUserConversationMember'.",
        );
      }
      const roles = Array.isArray(raw.roles) ? raw.roles.map(String) : [];
      if (!roles.some((r) => r === 'owner' || r === 'guest')) {
        throw badRequest('teams', "Each member must have the role 'owner' or 'guest'.");
      }
      const user = boundUser(sandbox, raw['user@odata.bind']);
      if (members.some((m) => m.userId === user.id))
        throw badRequest('teams', `User '${user.id}' is listed twice.`);
      members.push({ userId: user.id, roles });
    }
    const caller = ctx.caller;
    if (caller && !members.some((m) => m.userId === caller.id)) {
      // https://learn.microsoft.com/answers/questions/612528 ("the caller must be one of the members").
      throw accessDenied('teams', 'The caller must be one of the members of the chat.');
    }
    if (chatType === 'oneOnOne') {
      if (members.length !== 2) throw badRequest('teams', 'A oneOnOne chat must have exactly two members.');
      if (body.topic !== undefined && body.topic !== null) {
        throw badRequest('teams', 'A topic can only be set on a group chat.');
      }
    } else if (members.length < 3) {
      throw badRequest('teams', 'A group chat needs at least three members.');
    }
    if (body.topic !== undefined && body.topic !== null && typeof body.topic !== 'string') {
      throw badRequest('teams', 'topic must be a string.');
    }
    let chat: Entity | undefined;
    if (chatType === 'oneOnOne')
      chat = ctx.graph.store.get(refs.chats, oneOnOneChatId(members[0]!.userId, members[1]!.userId));
    if (!chat) {
      const id =
        chatType === 'oneOnOne' ? oneOnOneChatId(members[0]!.userId, members[1]!.userId) : groupChatId();
      const at = new Date(sandbox.now()).toISOString();
      chat = ctx.graph.store.insert(refs.chats, {
        id,
        topic: typeof body.topic === 'string' ? body.topic : null,
        createdDateTime: at,
        lastUpdatedDateTime: at,
        chatType,
        webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(id)}/0?tenantId=${ctx.auth.tenantId}`,
        tenantId: ctx.auth.tenantId,
        onlineMeetingInfo: null,
        viewpoint: null,
        members,
      });
    }
    return entityResponse(ctx, renderChat(chat), { status: 201, context: 'chats/$entity' });
  });

  teamsRoute(sandbox, 'GET', '/chats/:chatId', { scopes: CHAT_LIST }, (ctx, refs) => {
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    const q = parseODataQuery(ctx.query, 'teams');
    const out: Record<string, unknown> = renderChat(chat);
    if (q.expand === 'members')
      out.members = membersOf(chat).map((m) => renderMember(sandbox, chat.id, m, null));
    else if (q.expand === 'lastMessagePreview')
      out.lastMessagePreview = lastMessagePreview(ctx, refs, chat.id);
    else if (q.expand !== undefined) throw badQuery('teams', `Expand '${q.expand}' is not supported.`);
    return entityResponse(ctx, out, { context: 'chats/$entity' });
  });

  // https://learn.microsoft.com/graph/api/chat-list-members
  teamsRoute(sandbox, 'GET', '/chats/:chatId/members', { scopes: CHAT_LIST }, (ctx, refs) => {
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    return json(200, {
      '@odata.context': odataContext(ctx, `${ctxPath.chat(chat.id)}/members`),
      '@odata.count': membersOf(chat).length,
      value: membersOf(chat).map((m) => renderMember(sandbox, chat.id, m, null)),
    });
  });

  // https://learn.microsoft.com/graph/api/chat-list-messages: $top ≤ 50; $orderby only
  // lastModifiedDateTime or createdDateTime, descending; $filter on those dates.
  teamsRoute(sandbox, 'GET', '/chats/:chatId/messages', { scopes: CHAT_MESSAGE_READ }, (ctx, refs) => {
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    onlyOptions(ctx, ['$top', '$skiptoken', '$orderby', '$filter']);
    const q = parseODataQuery(ctx.query, 'teams');
    if (q.orderby) {
      const [first, ...rest] = q.orderby;
      const path = first?.path.join('/');
      if (
        rest.length > 0 ||
        (path !== 'lastModifiedDateTime' && path !== 'createdDateTime') ||
        !first?.desc
      ) {
        throw badQuery('teams', '$orderby supports only lastModifiedDateTime desc or createdDateTime desc.');
      }
    }
    return collection(ctx, ctx.graph.store.list(refs.chatMessages(chat.id)), {
      ...MESSAGE_PAGE,
      supports: { select: false, count: false },
      defaultOrder: (a, b) =>
        String(b.lastModifiedDateTime).localeCompare(String(a.lastModifiedDateTime)) ||
        Number(b.id) - Number(a.id),
      render: renderMessage,
      context: `${ctxPath.chat(chat.id)}/messages`,
    });
  });

  // https://learn.microsoft.com/graph/api/chat-post-messages → 201 (it cannot create a chat).
  teamsRoute(sandbox, 'POST', '/chats/:chatId/messages', { scopes: CHAT_MESSAGE_SEND }, async (ctx, refs) => {
    const sender = refuseAppOnlySend(ctx);
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, sender);
    const input = await ctx.json<MessageBody>();
    const fields = validateMessage(sandbox, input);
    const hosted = checkHostedContents(input.hostedContents, input.body ?? {});
    // POST 1:1/group chat message: 20 requests per second per app per tenant (reference §2.3).
    const wait = ctx.graph.throttle.rate(`teams-chat-post:${ctx.auth.clientId}:${ctx.auth.tenantId}`, 20);
    if (wait !== undefined) throw throttled('TooManyRequests', 'Too many requests.', wait);
    const message = newMessage(sandbox, sender, { ...fields, subject: null }, { chatId: chat.id });
    let stored = ctx.graph.store.insert(refs.chatMessages(chat.id), message);
    if (input.hostedContents !== undefined) {
      const body = storeHostedContents(
        sandbox,
        hosted,
        stored.body as { contentType: string; content: string },
        {
          key: `chats('${chat.id}')/messages('${stored.id}')`,
          url: `chats/${encodeURIComponent(chat.id)}/messages/${stored.id}`,
        },
      );
      stored = ctx.graph.store.update(refs.chatMessages(chat.id), stored.id, { body }) as Entity;
    }
    ctx.graph.store.update(refs.chats, chat.id, { lastUpdatedDateTime: stored.createdDateTime });
    return entityResponse(ctx, renderMessage(stored), {
      status: 201,
      context: `${ctxPath.chat(chat.id)}/messages/$entity`,
    });
  });

  teamsRoute(
    sandbox,
    'GET',
    '/chats/:chatId/messages/:messageId',
    { scopes: CHAT_MESSAGE_READ },
    (ctx, refs) => {
      const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
      const message = messageIn(ctx, refs.chatMessages(chat.id), ctx.params.messageId!);
      return entityResponse(ctx, renderMessage(message), {
        context: `${ctxPath.chat(chat.id)}/messages/$entity`,
      });
    },
  );
}

// ---------------------------------------------------------------- delta

/**
 * Message delta (https://learn.microsoft.com/graph/api/chatmessage-delta): top-level messages of a
 * channel new or changed since the last round (replies are not included; a deleted
 * message comes back changed, with `deletedDateTime`). `$top` up to 50, `$expand=replies` on
 * channels, and `$filter=lastModifiedDateTime gt {instant}` on the first request only; the tokens
 * are `$skiptoken` / `$deltatoken` links.
 */
const DELTA_PAGE = 50;

function validateMessageDelta(query: URLSearchParams): void {
  for (const key of query.keys()) {
    const k = key.toLowerCase();
    if (k.startsWith('$') && !['$top', '$filter', '$expand', '$select'].includes(k)) {
      throw badQuery('teams', `Query option '${key}' is not supported for delta.`);
    }
  }
  const top = query.get('$top');
  if (top !== null && (!/^\d+$/.test(top) || Number(top) < 1 || Number(top) > DELTA_PAGE)) {
    throw badQuery('teams', `$top must be between 1 and ${DELTA_PAGE}.`);
  }
  const filter = query.get('$filter');
  if (filter !== null && !/^lastModifiedDateTime gt \d{4}-\d{2}-\d{2}T[\d:.]+Z$/i.test(filter.trim())) {
    throw badQuery(
      'teams',
      'Only $filter=lastModifiedDateTime gt {ISO 8601 UTC instant} is supported for delta.',
    );
  }
}

function modifiedAfter(item: Entity, query: URLSearchParams): boolean {
  const m = /gt (\S+)$/i.exec(query.get('$filter') ?? '');
  return !m || String(item.lastModifiedDateTime) > new Date(m[1]!).toISOString();
}

function installMessageDelta(sandbox: Sandbox): void {
  teamsRoute(
    sandbox,
    'GET',
    '/teams/:teamId/channels/:channelId/messages/delta',
    { scopes: CHANNEL_MESSAGE_READ },
    (ctx, refs) => {
      const { team, channel } = channelOf(ctx, refs);
      return deltaResponse(ctx, refs.channelMessages(team.id, channel.id), {
        style: 'outlook',
        pageSize: DELTA_PAGE,
        validateInitial: validateMessageDelta,
        filter: modifiedAfter,
        render: (m, query) => {
          const out = renderMessage(m);
          if (/^replies$/i.test(query.get('$expand') ?? '')) {
            out.replies = ctx.graph.store
              .list(refs.channelReplies(team.id, channel.id, m.id))
              .map(renderMessage);
          }
          return out;
        },
        context: 'Collection(chatMessage)',
      });
    },
  );
  // Chats have no message delta on v1.0 (graph-behaviour.md §5.2, "Chats"): list with
  // $filter=lastModifiedDateTime gt {t} or subscribe instead. Without this route "delta" would be
  // read as a message id.
  teamsRoute(sandbox, 'GET', '/chats/:chatId/messages/delta', { scopes: CHAT_MESSAGE_READ }, () => {
    throw badRequest(
      'teams',
      'Delta query is not supported for chat messages. List /chats/{id}/messages with $filter=lastModifiedDateTime gt {time} or subscribe to change notifications.',
    );
  });
}

// ---------------------------------------------------------------- seed

/** A GUID derived from a name, so seeded ids survive restarts. */
function stableGuid(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function stableHex(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 32);
}

export const SEED_TEAM = {
  id: stableGuid('team:contoso-launch'),
  displayName: 'Contoso Launch',
  general: `19:${stableHex('channel:contoso-launch:general')}@thread.tacv2`,
  marketing: `19:${stableHex('channel:contoso-launch:marketing')}@thread.tacv2`,
};

/**
 * Demo data: the team "Contoso Launch" (Adele owner; Megan and Lee members) with General and
 * Marketing, a few messages (one reply, one @mention), and a one-on-one chat Adele ↔ Megan.
 */
export function seedTeams(sandbox: Sandbox): void {
  const adele = sandbox.directory.findUser('adele.vance@contoso.test');
  const megan = sandbox.directory.findUser('megan.bowen@contoso.test');
  const lee = sandbox.directory.findUser('lee.gu@contoso.test');
  if (!adele || !megan || !lee) return;
  const store = graphState(sandbox).store;
  const refs = teamRefs(store, SANDBOX_TENANT_ID);
  if (store.get(refs.teams, SEED_TEAM.id)) return;

  const base = Date.parse('2025-01-06T09:00:00.000Z');
  const at = (minutes: number) => base + minutes * 60_000;
  store.insert(refs.teams, {
    id: SEED_TEAM.id,
    createdDateTime: new Date(at(0)).toISOString(),
    displayName: SEED_TEAM.displayName,
    description: 'Everything about the spring product launch.',
    internalId: `19:${stableHex('team:contoso-launch:internal')}@thread.tacv2`,
    classification: null,
    specialization: 'none',
    visibility: 'private',
    webUrl: `https://teams.microsoft.com/l/team/${encodeURIComponent(SEED_TEAM.general)}/conversations?groupId=${SEED_TEAM.id}&tenantId=${SANDBOX_TENANT_ID}`,
    isArchived: false,
    tenantId: SANDBOX_TENANT_ID,
    isMembershipLimitedToOwners: false,
    members: [
      { userId: adele.id, roles: ['owner'] },
      { userId: megan.id, roles: [] },
      { userId: lee.id, roles: [] },
    ],
  });
  const channel = (id: string, displayName: string, description: string | null, minutes: number) =>
    store.insert(refs.channels(SEED_TEAM.id), {
      id,
      createdDateTime: new Date(at(minutes)).toISOString(),
      displayName,
      description,
      isFavoriteByDefault: null,
      email: `${displayName.toLowerCase()}@contoso.test`,
      tenantId: SANDBOX_TENANT_ID,
      webUrl: `https://teams.microsoft.com/l/channel/${encodeURIComponent(id)}/${encodeURIComponent(displayName)}?groupId=${SEED_TEAM.id}&tenantId=${SANDBOX_TENANT_ID}`,
      membershipType: 'standard',
    });
  channel(SEED_TEAM.general, 'General', 'Contoso Launch general channel', 0);
  channel(SEED_TEAM.marketing, 'Marketing', 'Campaigns, copy and assets', 1);

  const post = (
    sender: SandboxUser,
    minutes: number,
    fields: Record<string, unknown>,
    where: { teamId: string; channelId: string; replyToId?: string } | { chatId: string },
  ) => {
    const ms = at(minutes);
    const iso = new Date(ms).toISOString();
    return {
      ...newMessage(sandbox, sender, fields, where),
      id: String(ms),
      etag: String(ms),
      createdDateTime: iso,
      lastModifiedDateTime: iso,
    };
  };
  const text = (content: string) => ({ body: { contentType: 'text', content } });
  const general = { teamId: SEED_TEAM.id, channelId: SEED_TEAM.general };
  const welcome = store.insert(
    refs.channelMessages(SEED_TEAM.id, SEED_TEAM.general),
    post(
      adele,
      10,
      { subject: 'Welcome', ...text('Welcome to the Contoso Launch team! Plans and dates go here.') },
      general,
    ),
  );
  store.insert(
    refs.channelReplies(SEED_TEAM.id, SEED_TEAM.general, welcome.id),
    post(megan, 12, text('Thanks Adele, glad to be on board.'), { ...general, replyToId: welcome.id }),
  );
  store.insert(
    refs.channelMessages(SEED_TEAM.id, SEED_TEAM.general),
    post(lee, 30, { importance: 'high', ...text('Build 1.0-rc1 is ready for testing.') }, general),
  );
  const marketing = { teamId: SEED_TEAM.id, channelId: SEED_TEAM.marketing };
  store.insert(
    refs.channelMessages(SEED_TEAM.id, SEED_TEAM.marketing),
    post(
      megan,
      45,
      {
        body: {
          contentType: 'html',
          content: '<p><at id="0">Adele Vance</at> can you review the launch deck by Friday?</p>',
        },
        mentions: [
          {
            id: 0,
            mentionText: 'Adele Vance',
            mentioned: {
              application: null,
              device: null,
              conversation: null,
              tag: null,
              user: {
                '@odata.type': '#microsoft.graph.teamworkUserIdentity',
                id: adele.id,
                displayName: adele.displayName,
                userIdentityType: 'aadUser',
              },
            },
          },
        ],
      },
      marketing,
    ),
  );

  const chatId = oneOnOneChatId(adele.id, megan.id);
  store.insert(refs.chats, {
    id: chatId,
    topic: null,
    createdDateTime: new Date(at(60)).toISOString(),
    lastUpdatedDateTime: new Date(at(62)).toISOString(),
    chatType: 'oneOnOne',
    webUrl: `https://teams.microsoft.com/l/chat/${encodeURIComponent(chatId)}/0?tenantId=${SANDBOX_TENANT_ID}`,
    tenantId: SANDBOX_TENANT_ID,
    onlineMeetingInfo: null,
    viewpoint: null,
    members: [
      { userId: adele.id, roles: ['owner'] },
      { userId: megan.id, roles: ['owner'] },
    ],
  });
  store.insert(
    refs.chatMessages(chatId),
    post(adele, 61, text('Do you have 10 minutes for the launch deck?'), { chatId }),
  );
  store.insert(refs.chatMessages(chatId), post(megan, 62, text('Sure, calling you now.'), { chatId }));
}

/** A new channel id (tests create extra channels with it). */
export { newChannelId };
