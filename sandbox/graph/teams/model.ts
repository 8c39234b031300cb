/**
 * Teams data in the sandbox: where teams, channels, chats and their messages live in the
 * change-tracking store, how they are shaped on the wire, and the chatMessage rules (body,
 * importance, @mentions) Graph applies on POST (reference §8.4,
 * https://learn.microsoft.com/graph/api/channel-post-messages,
 * https://learn.microsoft.com/graph/api/resources/chatmessage).
 *
 * Store layout. Teams data is shared between users (a channel's messages are the same for every
 * member), while the store is keyed by (owner, collection). Shared data is therefore kept under a
 * pseudo-owner: the tenant id for the registries, the team id for everything inside a team, the
 * chat id for a chat's messages. Membership lives on the team or chat entity and is checked on
 * every request. Collection names (stable; change notifications subscribe to them):
 *
 * | owner       | collection                                  | items                                   |
 * |-------------|---------------------------------------------|-----------------------------------------|
 * | tenant id   | `teams`                                     | team (+ internal `members`)             |
 * | tenant id   | `chats`                                     | chat (+ internal `members`)             |
 * | team id     | `channels`                                  | channel                                 |
 * | team id     | `channelMessages:{channelId}`               | top-level channel chatMessages          |
 * | team id     | `channelReplies:{channelId}:{messageId}`    | replies to one channel message          |
 * | chat id     | `chatMessages`                              | chat chatMessages                       |
 *
 * Fields starting with `members` are internal (stripped by the renderers).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Sandbox } from '../../context';
import { persisted } from '../../persist';
import type { SandboxUser } from '../../state';
import type { GraphCtx } from '../core';
import { accessDenied, badRequest, notFound, throttled } from '../errors';
import type { CollectionRef, ChangeStore, Entity } from '../store';

export const TEAMS_COLLECTIONS = {
  teams: 'teams',
  chats: 'chats',
  channels: 'channels',
  channelMessages: (channelId: string) => `channelMessages:${channelId}`,
  channelReplies: (channelId: string, messageId: string) => `channelReplies:${channelId}:${messageId}`,
  chatMessages: 'chatMessages',
} as const;

export interface Member {
  userId: string;
  roles: string[];
}

export interface TeamRefs {
  teams: CollectionRef;
  chats: CollectionRef;
  channels(teamId: string): CollectionRef;
  channelMessages(teamId: string, channelId: string): CollectionRef;
  channelReplies(teamId: string, channelId: string, messageId: string): CollectionRef;
  chatMessages(chatId: string): CollectionRef;
}

/** Collection refs for one tenant (every collection has etag style `none`: chatMessage has its own `etag`). */
export function teamRefs(store: ChangeStore, tenantId: string): TeamRefs {
  const none = { etag: 'none' as const };
  return {
    teams: store.collection(tenantId, TEAMS_COLLECTIONS.teams, none),
    chats: store.collection(tenantId, TEAMS_COLLECTIONS.chats, none),
    channels: (teamId) => store.collection(teamId, TEAMS_COLLECTIONS.channels, none),
    channelMessages: (teamId, channelId) =>
      store.collection(teamId, TEAMS_COLLECTIONS.channelMessages(channelId), none),
    channelReplies: (teamId, channelId, messageId) =>
      store.collection(teamId, TEAMS_COLLECTIONS.channelReplies(channelId, messageId), none),
    chatMessages: (chatId) => store.collection(chatId, TEAMS_COLLECTIONS.chatMessages, none),
  };
}

// ---------------------------------------------------------------- ids

/** Channel ids look like `19:{32 hex}@thread.tacv2` (reference §8.4). */
export function channelId(): string {
  return `19:${randomBytes(16).toString('hex')}@thread.tacv2`;
}

/** Group chat ids: `19:{32 hex}@thread.v2`. */
export function groupChatId(): string {
  return `19:${randomBytes(16).toString('hex')}@thread.v2`;
}

/** One-on-one chat ids: `19:{oid1}_{oid2}@unq.gbl.spaces`, the two user ids in sorted order. */
export function oneOnOneChatId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `19:${x}_${y}@unq.gbl.spaces`;
}

export function teamId(): string {
  return randomUUID();
}

/**
 * Message ids are the epoch milliseconds of creation as a string (reference §8.4: "Message ids
 * are epoch-ms strings"); two messages in the same millisecond get consecutive values.
 */
export function nextMessageId(sandbox: Sandbox, at: number): string {
  let state = sandbox.modules.teamsIds as { last: number } | undefined;
  if (!state) {
    const s = (state = { last: 0 });
    sandbox.modules.teamsIds = s;
    s.last = persisted(sandbox, 'teamsIds', () => s.last) ?? 0;
  }
  state.last = Math.max(at, state.last + 1);
  return String(state.last);
}

// ---------------------------------------------------------------- shapes

const TEAM_FIELDS = [
  'id',
  'createdDateTime',
  'displayName',
  'description',
  'internalId',
  'classification',
  'specialization',
  'visibility',
  'webUrl',
  'isArchived',
  'tenantId',
  'isMembershipLimitedToOwners',
];
const CHANNEL_FIELDS = [
  'id',
  'createdDateTime',
  'displayName',
  'description',
  'isFavoriteByDefault',
  'email',
  'tenantId',
  'webUrl',
  'membershipType',
];
const CHAT_FIELDS = [
  'id',
  'topic',
  'createdDateTime',
  'lastUpdatedDateTime',
  'chatType',
  'webUrl',
  'tenantId',
  'onlineMeetingInfo',
  'viewpoint',
];

function pick(item: Entity, fields: string[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f, item[f] ?? null]));
}

export function renderTeam(team: Entity): Record<string, unknown> {
  return pick(team, TEAM_FIELDS);
}

/** joinedTeams answers with only a few properties (user-list-joinedteams.md; reference §8.4). */
export function renderJoinedTeam(team: Entity): Record<string, unknown> {
  return pick(team, ['id', 'displayName', 'description', 'isArchived', 'tenantId']);
}

export function renderChannel(channel: Entity): Record<string, unknown> {
  return pick(channel, CHANNEL_FIELDS);
}

export function renderChat(chat: Entity): Record<string, unknown> {
  return pick(chat, CHAT_FIELDS);
}

/** A message as stored is already in chatMessage shape; only the store's bookkeeping goes. */
export function renderMessage(message: Entity): Record<string, unknown> {
  const { changeKey: _c, '@odata.etag': _e, ...rest } = message;
  // Underscored fields are the sandbox's own (e.g. a soft-deleted message's body, manage.ts).
  return Object.fromEntries(Object.entries(rest).filter(([k]) => !k.startsWith('_')));
}

/** aadUserConversationMember (https://learn.microsoft.com/graph/api/resources/aaduserconversationmember). */
export function renderMember(
  sandbox: Sandbox,
  containerId: string,
  member: Member,
  since: string | null,
): Record<string, unknown> {
  const user = sandbox.directory.users.get(member.userId);
  return {
    '@odata.type': '#microsoft.graph.aadUserConversationMember',
    id: Buffer.from(`${containerId}##${member.userId}`).toString('base64'),
    roles: member.roles,
    displayName: user?.displayName ?? null,
    visibleHistoryStartDateTime: since ?? '0001-01-01T00:00:00Z',
    userId: member.userId,
    email: user?.mail ?? null,
    tenantId: user?.tenantId ?? null,
  };
}

export function membersOf(entity: Entity): Member[] {
  return Array.isArray(entity.members) ? (entity.members as Member[]) : [];
}

export function isMember(entity: Entity, userId: string): boolean {
  return membersOf(entity).some((m) => m.userId === userId);
}

// ---------------------------------------------------------------- access

/**
 * Teams is work/school only: a personal (consumer) account's calls fail with 403 Forbidden
 * "No authorization information present on the request." (observed,
 * https://github.com/AceDataCloud/Skills/pull/444; the permission tables say "Delegated (personal
 * Microsoft account): Not supported", e.g. https://learn.microsoft.com/graph/api/chat-list).
 */
export function assertWorkAccount(caller: SandboxUser | undefined): void {
  if (caller?.accountType === 'personal') {
    throw accessDenied('teams', 'No authorization information present on the request.');
  }
}

/** A team the caller may see: 404 for an unknown id, 403 when a delegated caller is no member. */
export function visibleTeam(
  store: ChangeStore,
  refs: TeamRefs,
  id: string,
  caller: SandboxUser | undefined,
): Entity {
  const team = store.get(refs.teams, id);
  if (!team) throw notFound('teams', `No team found with Group Id ${id}`);
  if (caller && !isMember(team, caller.id)) {
    throw accessDenied('teams', 'Forbidden: the signed-in user is not a member of this team.');
  }
  return team;
}

export function visibleChannel(
  store: ChangeStore,
  refs: TeamRefs,
  team: Entity,
  id: string,
  caller: SandboxUser | undefined,
): Entity {
  const channel = store.get(refs.channels(team.id), id);
  // A private channel is there only for its members (channels.ts); others see no such channel.
  if (!channel || (caller && !channelVisibleTo(channel, caller.id))) {
    throw notFound('teams', `Channel '${id}' was not found in team '${team.id}'.`);
  }
  return channel;
}

export function channelVisibleTo(channel: Entity, userId: string): boolean {
  return channel.membershipType !== 'private' || isMember(channel, userId);
}

export function visibleChat(
  store: ChangeStore,
  refs: TeamRefs,
  id: string,
  caller: SandboxUser | undefined,
): Entity {
  const chat = store.get(refs.chats, id);
  // A chat the caller is not in looks like a missing one to delegated callers (no leak of ids).
  if (!chat || (caller && !isMember(chat, caller.id))) throw notFound('teams', `Chat '${id}' not found.`);
  return chat;
}

// ---------------------------------------------------------------- messages

/** The sending user as chatMessage.from shows it. */
export function fromUser(user: SandboxUser): Record<string, unknown> {
  return {
    application: null,
    device: null,
    user: {
      '@odata.type': '#microsoft.graph.teamworkUserIdentity',
      id: user.id,
      displayName: user.displayName,
      userIdentityType: 'aadUser',
      tenantId: user.tenantId,
    },
  };
}

interface MentionInput {
  id?: unknown;
  mentionText?: unknown;
  mentioned?: { user?: { id?: unknown; displayName?: unknown } };
}

export interface MessageBody {
  body?: { contentType?: unknown; content?: unknown };
  subject?: unknown;
  importance?: unknown;
  mentions?: unknown;
  attachments?: unknown;
  /** Images in the body (chatmessagehostedcontent.md), see manage.ts. */
  hostedContents?: unknown;
}

/**
 * Validates a chatMessage POST body and returns the stored shape's content fields. Rules
 * (chatmessage-post.md, resources/chatmention.md): `body.content` is required; `contentType` is
 * text (default) or html; `importance` normal | high | urgent; every mention needs an
 * `<at id="N">` tag in an HTML body with the same id, and every tag a mention.
 */
export function validateMessage(sandbox: Sandbox, input: MessageBody): Record<string, unknown> {
  const body = input.body;
  if (!body || typeof body !== 'object') throw badRequest('teams', 'Missing message body.');
  const content = body.content;
  if (typeof content !== 'string' || content.trim() === '') {
    throw badRequest('teams', 'Message body content cannot be empty.');
  }
  const contentType = (typeof body.contentType === 'string' ? body.contentType : 'text').toLowerCase();
  if (contentType !== 'text' && contentType !== 'html') {
    throw badRequest('teams', `Invalid value '${contentType}' for body.contentType.`);
  }
  const importance = (typeof input.importance === 'string' ? input.importance : 'normal').toLowerCase();
  if (!['normal', 'high', 'urgent'].includes(importance)) {
    throw badRequest('teams', `Invalid value '${importance}' for importance.`);
  }
  if (input.subject !== undefined && input.subject !== null && typeof input.subject !== 'string') {
    throw badRequest('teams', 'subject must be a string.');
  }
  const mentions = input.mentions === undefined || input.mentions === null ? [] : input.mentions;
  if (!Array.isArray(mentions)) throw badRequest('teams', 'mentions must be an array.');

  const tagIds = new Set<number>();
  for (const m of content.matchAll(/<at\s+id\s*=\s*["']?(\d+)["']?\s*>/gi)) tagIds.add(Number(m[1]));
  if (mentions.length > 0 && contentType !== 'html') {
    throw badRequest('teams', 'Mentions require an html message body with <at id="N"> tags.');
  }
  const stored: Array<Record<string, unknown>> = [];
  const seen = new Set<number>();
  for (const raw of mentions as MentionInput[]) {
    const id = raw?.id;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw badRequest('teams', 'Each mention needs an integer id.');
    }
    if (seen.has(id)) throw badRequest('teams', `Duplicate mention id ${id}.`);
    seen.add(id);
    if (!tagIds.has(id)) {
      throw badRequest(
        'teams',
        `Mention with id ${id} has no matching <at id="${id}"> tag in the message body.`,
      );
    }
    const userId = raw.mentioned?.user?.id;
    if (typeof userId !== 'string' || !userId) {
      throw badRequest('teams', `Mention ${id} must name mentioned.user.id.`);
    }
    const user = sandbox.directory.users.get(userId);
    if (!user) throw badRequest('teams', `Mention ${id}: user '${userId}' is not a valid user id.`);
    const mentionText = typeof raw.mentionText === 'string' ? raw.mentionText : user.displayName;
    stored.push({
      id,
      mentionText,
      mentioned: {
        application: null,
        device: null,
        conversation: null,
        tag: null,
        user: {
          '@odata.type': '#microsoft.graph.teamworkUserIdentity',
          id: user.id,
          displayName:
            typeof raw.mentioned?.user?.displayName === 'string'
              ? raw.mentioned.user.displayName
              : user.displayName,
          userIdentityType: 'aadUser',
        },
      },
    });
  }
  for (const tag of tagIds) {
    if (contentType === 'html' && !seen.has(tag)) {
      throw badRequest('teams', `The <at id="${tag}"> tag has no entry in mentions.`);
    }
  }
  return {
    subject: typeof input.subject === 'string' ? input.subject : null,
    importance,
    body: { contentType, content },
    mentions: stored,
    attachments: Array.isArray(input.attachments) ? input.attachments : [],
  };
}

/** A new chatMessage in Graph's shape (reference §8.4 "chatMessage (essential)"). */
export function newMessage(
  sandbox: Sandbox,
  sender: SandboxUser,
  fields: Record<string, unknown>,
  where: { teamId: string; channelId: string; replyToId?: string } | { chatId: string },
): Entity {
  const now = sandbox.now();
  const id = nextMessageId(sandbox, now);
  const at = new Date(now).toISOString();
  const base = 'https://teams.microsoft.com/l/message';
  const channel = 'teamId' in where ? where : undefined;
  return {
    id,
    replyToId: channel?.replyToId ?? null,
    etag: id,
    messageType: 'message',
    createdDateTime: at,
    lastModifiedDateTime: at,
    lastEditedDateTime: null,
    deletedDateTime: null,
    subject: null,
    summary: null,
    chatId: 'chatId' in where ? where.chatId : null,
    importance: 'normal',
    locale: 'en-us',
    webUrl: channel
      ? `${base}/${encodeURIComponent(channel.channelId)}/${id}?groupId=${channel.teamId}&tenantId=${sender.tenantId}&parentMessageId=${channel.replyToId ?? id}`
      : `${base}/${encodeURIComponent((where as { chatId: string }).chatId)}/${id}`,
    policyViolation: null,
    eventDetail: null,
    from: fromUser(sender),
    body: { contentType: 'text', content: '' },
    channelIdentity: channel ? { teamId: channel.teamId, channelId: channel.channelId } : null,
    attachments: [],
    mentions: [],
    reactions: [],
    messageHistory: [],
    ...fields,
  };
}

/**
 * The per-app team/channel limit (reference §2.3, throttling-limits.md "Microsoft Teams service
 * limits": at most 4 requests per second per app on a given team or channel): 429 TooManyRequests
 * with the Retry-After the sliding window gives.
 */
export function throttleTeamsKey(ctx: GraphCtx, key: string): void {
  const wait = ctx.graph.throttle.rate(`teams:${ctx.auth.clientId}:${key}`, 4);
  if (wait !== undefined) throw throttled('TooManyRequests', 'Too many requests.', wait);
}
