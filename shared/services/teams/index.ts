/**
 * Microsoft Teams actions: joined teams and channels, channel messages and replies (with
 * @mentions), chats and chat messages, starting a chat (reference §8.4).
 *
 * What delegated permissions allow (reference §7.6, peers.md item 10): everything here acts as the
 * signed-in user, who must be a member of the team or chat. Microsoft Graph does not let an app
 * post as itself: application permissions can send messages only while importing history in
 * migration mode (Teamwork.Migrate.All), so there is no "send as the app" here. Reading channel
 * messages needs ChannelMessage.Read.All, which an administrator must consent to: those actions
 * belong to the `teams-history` feature. Personal Microsoft accounts have no Teams.
 *
 * Pacing: Teams allows 4 requests per second per app on a team or channel (§2.3). Every call on a
 * team or channel goes through `paceTeams` (pacer.ts), so those actions use `run()` (a
 * `$batch` item would bypass the pacer).
 */
import { pageOf, untrusted } from '../../actions/output';
import { z } from 'zod';
import { seg, type GraphCall } from '../../graph/client';
import { Problem } from '../../http/problem';
import { decodeCursor, toPage } from '../../actions/cursor';
import { defineAction } from '../../actions/registry';
import { cancelHeldSend, HeldSendOut } from '../../actions/held-sends';
import { channelGuard, chatGuard } from './guard';
import { paceKey, paceTeams } from './pacer';
import {
  channelId,
  channelPath,
  chatId,
  cursor,
  GUID,
  graphInfo,
  messageId,
  ownObjectId,
  teamId,
  teamsErrors,
  top,
} from './common';
import {
  buildMessageBody,
  escapeHtml,
  checkPlaceholders,
  toChannel,
  toChat,
  toMember,
  toMessage,
  toTeam,
  type ChatMember,
  type MentionInput,
  type ResolvedMention,
  ChannelOut,
  ChatOut,
  TeamsMessageOut,
} from './shape';
import type { ActionContext } from '../../actions/types';

/** A sent message, or (with an undo window) the hold that sends it when the window ends. */
const SentOrHeld = z.union([TeamsMessageOut, HeldSendOut]);

// ---------------------------------------------------------------- inputs

const Mention = z
  .object({
    userId: z
      .string()
      .regex(GUID, 'must be a Microsoft Entra user object id (GUID)')
      .optional()
      .describe('The mentioned user’s Microsoft Entra object id.'),
    upn: z
      .email()
      .max(256)
      .optional()
      .describe('The mentioned user’s user principal name (sign-in address), instead of userId.'),
    displayName: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('Name shown in the message; looked up when omitted.'),
  })
  .strict()
  .refine((m) => Boolean(m.userId) !== Boolean(m.upn), { message: 'give exactly one of userId or upn' });

const TEXT_DESCRIPTION =
  'The message. Plain text unless format is html. Put @{0}, @{1}, ... where each entry of mentions should appear: @{0} becomes an @mention of mentions[0]. Up to 28,000 characters (Teams messages are limited to about 28 KB).';

function messageFields(importance: readonly [string, ...string[]]) {
  return {
    text: z.string().min(1).max(28_000).describe(TEXT_DESCRIPTION),
    format: z
      .enum(['text', 'html'])
      .default('text')
      .describe(
        'text (default; line breaks kept) or html (text is Teams-flavoured HTML, sent as is apart from the @{N} placeholders).',
      ),
    importance: z
      .enum(importance)
      .default('normal')
      .describe(`Message importance: ${importance.join(', ')}.`),
    images: z
      .array(
        z
          .object({
            contentType: z.enum(['image/png', 'image/jpeg', 'image/gif']).describe('The image type.'),
            contentBytes: z.base64().max(4_000_000).describe('The image, base64-encoded.'),
            alt: z.string().max(256).optional().describe('Alternative text.'),
          })
          .strict(),
      )
      .max(10)
      .optional()
      .describe('Images shown inline after the text (Teams hosted contents). Up to about 3 MB in all.'),
    mentions: z
      .array(Mention)
      .max(50)
      .optional()
      .describe(
        'People to @mention, each placed in text with @{index}: [{ userId | upn, displayName? }]. Example: text "Thanks @{0}!", mentions [{ "upn": "megan.bowen@contoso.com" }]. Mentioning by upn, or without displayName, looks the person up in the directory first.',
      ),
  };
}

const SEND_FORBIDDEN =
  'Microsoft Graph refused the message: the signed-in user must be a member of the team (or chat) and the connection needs the delegated permission to send (ChannelMessage.Send for channels, Chat.ReadWrite for chats). Messages are always sent as the signed-in user; Microsoft Graph does not allow sending as the app outside migration.';

// ---------------------------------------------------------------- helpers

/**
 * Resolves mentions to (object id, display name). Known people cost nothing: userId plus
 * displayName is used as given, and chat members answer for chats. Otherwise the directory is
 * asked (GET /users/{id | upn}), which needs User.ReadBasic.All.
 */
async function resolveMentions(
  ctx: ActionContext,
  mentions: MentionInput[],
  members: ChatMember[] = [],
): Promise<ResolvedMention[]> {
  const out: ResolvedMention[] = [];
  for (const [i, m] of mentions.entries()) {
    if (m.userId && m.displayName) {
      out.push({ userId: m.userId, displayName: m.displayName });
      continue;
    }
    const key = (m.userId ?? m.upn ?? '').toLowerCase();
    const member = members.find((x) => x.userId?.toLowerCase() === key || x.email?.toLowerCase() === key);
    if (member?.userId) {
      out.push({ userId: member.userId, displayName: m.displayName ?? member.displayName ?? key });
      continue;
    }
    try {
      const res = await ctx.graph({
        method: 'GET',
        url: `/users/${seg(key)}`,
        query: { $select: 'id,displayName' },
      });
      const user = z
        .object({ id: z.string(), displayName: z.string().nullable().optional() })
        .passthrough()
        .parse(res.body);
      out.push({ userId: user.id, displayName: m.displayName ?? user.displayName ?? key });
    } catch (err) {
      const status = (err as { status?: unknown }).status;
      if (status === 404) {
        throw new Problem('invalid_input', `Fix these fields: mentions.${i}.`, {
          errors: [{ field: `mentions.${i}`, message: 'names no user in this organisation' }],
        });
      }
      if (status === 403) {
        throw new Problem(
          'forbidden',
          `Looking up mentions.${i} in the directory needs the User.ReadBasic.All permission, which this connection does not have. Pass userId and displayName for the person instead.`,
        );
      }
      throw err;
    }
  }
  return out;
}

async function messagePayload(
  ctx: ActionContext,
  input: {
    text: string;
    format: 'text' | 'html';
    importance: string;
    mentions?: MentionInput[] | undefined;
    images?: Array<{ contentType: string; contentBytes: string; alt?: string | undefined }> | undefined;
  },
  members?: ChatMember[],
): Promise<Record<string, unknown>> {
  const mentions = input.mentions ?? [];
  checkPlaceholders(input.text, mentions.length);
  const resolved = await resolveMentions(ctx, mentions, members);
  const built = buildMessageBody(input.text, input.format, resolved);
  if (!input.images?.length) return { ...built, importance: input.importance };
  // Inline images are hosted contents referenced from an HTML body (chatmessagehostedcontent.md).
  const html =
    built.body.contentType === 'html'
      ? built.body.content
      : escapeHtml(built.body.content).replace(/\r?\n/g, '<br>');
  const tags = input.images
    .map((img, i) => `<img src="../hostedContents/${i + 1}/$value" alt="${escapeHtml(img.alt ?? '')}">`)
    .join('');
  return {
    ...built,
    body: { contentType: 'html', content: `${html}<p>${tags}</p>` },
    hostedContents: input.images.map((img, i) => ({
      '@microsoft.graph.temporaryId': String(i + 1),
      contentBytes: img.contentBytes,
      contentType: img.contentType,
    })),
    importance: input.importance,
  };
}

function listCall(actionId: string, url: string, query: GraphCall['query'], cursorValue?: string): GraphCall {
  return cursorValue
    ? { method: 'GET', url: decodeCursor(actionId, cursorValue) }
    : { method: 'GET', url, query };
}

// ---------------------------------------------------------------- teams and channels

const Team = z.object({
  id: z.string(),
  displayName: untrusted(z.string().nullable(), 'teams'),
  description: untrusted(z.string().nullable(), 'teams'),
  isArchived: z.boolean(),
});

// https://learn.microsoft.com/graph/api/user-list-joinedteams (delegated: `me` only).
defineAction({
  id: 'teams.listJoinedTeams',
  service: 'teams',
  summary: 'List the Teams teams the user is a member of',
  description:
    'Returns the teams the signed-in user belongs to (id, name, description, archived). Start here: the team id is needed to list channels and post. Only the user’s own teams are visible (delegated access). Cached for a few minutes.',
  input: z.object({}).strict(),
  output: pageOf(Team),
  feature: 'teams',
  scopes: ['Team.ReadBasic.All'],
  kind: 'read',
  idempotent: true,
  cache: { tag: 'teams' },
  toGraph: () => ({ method: 'GET', url: '/me/joinedTeams' }),
  fromGraph: (res) => toPage('teams.listJoinedTeams', res.body, toTeam),
  mapError: teamsErrors(
    'Microsoft Graph refused to list teams: the connection needs Team.ReadBasic.All.',
    'Teams were not found for this user.',
  ),
});

// https://learn.microsoft.com/graph/api/channel-list
defineAction({
  id: 'teams.listChannels',
  service: 'teams',
  summary: 'List the channels of a team',
  description:
    'Returns the channels of one team the user is a member of (id, name, description, membership type standard/private/shared). Use the channel id to read or post messages. Cached for a few minutes.',
  input: z.object({ teamId }).strict(),
  output: pageOf(ChannelOut),
  feature: 'teams',
  scopes: ['Channel.ReadBasic.All'],
  kind: 'read',
  idempotent: true,
  cache: { tag: 'teamsChannels' },
  async run(input, ctx) {
    ctx.targets.push(input.teamId);
    const res = await paceTeams(
      paceKey.team(input.teamId),
      async () => await ctx.graph({ method: 'GET', url: `/teams/${seg(input.teamId)}/channels` }),
    );
    return toPage('teams.listChannels', res.body, (c) => toChannel(c, input.teamId));
  },
  mapError: teamsErrors(
    'The user is not a member of this team, or the connection lacks Channel.ReadBasic.All.',
    'No such team (or it was deleted).',
  ),
});

// ---------------------------------------------------------------- channel messages

const HISTORY_FORBIDDEN =
  'Reading channel messages needs ChannelMessage.Read.All, which an administrator must consent to (feature teams-history), and the user must be a member of the team.';

// https://learn.microsoft.com/graph/api/channel-list-messages: top-level only, default 20, $top ≤ 50.
defineAction({
  id: 'teams.listChannelMessages',
  service: 'teams',
  summary: 'List messages in a Teams channel, newest first',
  description:
    'Returns the top-level messages of a channel, newest first, optionally with their replies (includeReplies). Each message has id, sender, subject, importance, content (text or html), @mentions and time. Use the message id to reply. Pages of up to 50; pass nextCursor for more. Needs the teams-history feature (admin-consented ChannelMessage.Read.All).',
  input: z
    .object({
      teamId,
      channelId,
      top: top('Messages'),
      includeReplies: z.boolean().default(false).describe('Include each message’s replies (oldest first).'),
      cursor,
    })
    .strict(),
  output: pageOf(TeamsMessageOut),
  feature: 'teams-history',
  scopes: ['ChannelMessage.Read.All'],
  kind: 'read',
  idempotent: true,
  async run(input, ctx) {
    ctx.targets.push(input.teamId, input.channelId);
    const call = listCall(
      'teams.listChannelMessages',
      `${channelPath(input.teamId, input.channelId)}/messages`,
      { $top: input.top, $expand: input.includeReplies ? 'replies' : undefined },
      input.cursor,
    );
    const res = await paceTeams(
      paceKey.channel(input.teamId, input.channelId),
      async () => await ctx.graph(call),
    );
    return toPage('teams.listChannelMessages', res.body, toMessage);
  },
  mapError: teamsErrors(HISTORY_FORBIDDEN, 'No such team or channel, or the user cannot see it.'),
});

// https://learn.microsoft.com/graph/api/chatmessage-list-replies
defineAction({
  id: 'teams.listReplies',
  service: 'teams',
  summary: 'List the replies to a channel message',
  description:
    'Returns the replies to one top-level channel message, newest first, in pages of up to 50 (nextCursor for more). Needs the teams-history feature (admin-consented ChannelMessage.Read.All).',
  input: z.object({ teamId, channelId, messageId, top: top('Replies'), cursor }).strict(),
  output: pageOf(TeamsMessageOut),
  feature: 'teams-history',
  scopes: ['ChannelMessage.Read.All'],
  kind: 'read',
  idempotent: true,
  async run(input, ctx) {
    ctx.targets.push(input.teamId, input.channelId, input.messageId);
    const call = listCall(
      'teams.listReplies',
      `${channelPath(input.teamId, input.channelId)}/messages/${seg(input.messageId)}/replies`,
      { $top: input.top },
      input.cursor,
    );
    const res = await paceTeams(
      paceKey.channel(input.teamId, input.channelId),
      async () => await ctx.graph(call),
    );
    return toPage('teams.listReplies', res.body, toMessage);
  },
  mapError: teamsErrors(
    HISTORY_FORBIDDEN,
    'No such team, channel or message (replies hang off top-level messages only).',
  ),
});

// https://learn.microsoft.com/graph/api/channel-post-messages → 201 chatMessage.
defineAction({
  id: 'teams.sendChannelMessage',
  service: 'teams',
  summary: 'Post a message in a Teams channel (as the user)',
  description:
    'Posts a new conversation in a channel as the signed-in user: plain text or HTML, optional subject and importance (normal/high), and @mentions of people (put @{0}, @{1} in text and list them in mentions; the message then carries <at id="0">Name</at> tags). Returns the created message. Posts are paced to Teams’ 4 requests per second per channel, so bursts take a little longer instead of failing. Send an Idempotency-Key header to make retries safe. Sending as the app is not possible (Microsoft allows app-only posting only for migration).',
  input: z
    .object({
      teamId,
      channelId,
      subject: z.string().min(1).max(255).optional().describe('Optional subject line of the conversation.'),
      ...messageFields(['normal', 'high']),
    })
    .strict(),
  output: SentOrHeld,
  feature: 'teams',
  scopes: ['ChannelMessage.Send'],
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  // Inline images travel as base64 (Graph takes up to 4 MB per request).
  maxBodyBytes: 6 * 1024 * 1024,
  guard: channelGuard,
  successStatus: 201,
  async run(input, ctx) {
    ctx.targets.push(input.teamId, input.channelId);
    const payload = await messagePayload(ctx, input);
    if (input.subject) payload.subject = input.subject;
    const res = await paceTeams(
      paceKey.channel(input.teamId, input.channelId),
      async () =>
        await ctx.graph({
          method: 'POST',
          url: `${channelPath(input.teamId, input.channelId)}/messages`,
          body: payload,
        }),
    );
    const message = toMessage(res.body);
    ctx.targets.push(message.id);
    return message;
  },
  mapError: teamsErrors(SEND_FORBIDDEN, 'No such team or channel, or the user cannot see it.'),
});

// https://learn.microsoft.com/graph/api/chatmessage-post-replies → 201, replyToId = the parent.
defineAction({
  id: 'teams.replyToChannelMessage',
  service: 'teams',
  summary: 'Reply to a message in a Teams channel (as the user)',
  description:
    'Replies in the thread of a top-level channel message as the signed-in user, with the same text/HTML, importance and @mention options as teams.sendChannelMessage. Returns the reply (replyToId is the parent id). Paced to 4 requests per second per channel. Send an Idempotency-Key header to make retries safe.',
  input: z.object({ teamId, channelId, messageId, ...messageFields(['normal', 'high']) }).strict(),
  output: SentOrHeld,
  feature: 'teams',
  scopes: ['ChannelMessage.Send'],
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  // Inline images travel as base64 (Graph takes up to 4 MB per request).
  maxBodyBytes: 6 * 1024 * 1024,
  guard: channelGuard,
  successStatus: 201,
  async run(input, ctx) {
    ctx.targets.push(input.teamId, input.channelId, input.messageId);
    const payload = await messagePayload(ctx, input);
    const res = await paceTeams(
      paceKey.channel(input.teamId, input.channelId),
      async () =>
        await ctx.graph({
          method: 'POST',
          url: `${channelPath(input.teamId, input.channelId)}/messages/${seg(input.messageId)}/replies`,
          body: payload,
        }),
    );
    const reply = toMessage(res.body);
    ctx.targets.push(reply.id);
    return reply;
  },
  mapError: teamsErrors(
    SEND_FORBIDDEN,
    'No such team, channel or message; replies can only go to a top-level message.',
  ),
});

// ---------------------------------------------------------------- chats

// https://learn.microsoft.com/graph/api/chat-list: $top ≤ 50, $expand=members.
defineAction({
  id: 'teams.listChats',
  service: 'teams',
  summary: 'List the user’s Teams chats',
  description:
    'Returns the one-on-one, group and meeting chats the signed-in user is in, most recently active first, with their members (user id, name, email). Use the chat id to read or send chat messages. Pages of up to 50; pass nextCursor for more.',
  input: z.object({ top: top('Chats'), cursor }).strict(),
  output: pageOf(ChatOut),
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    listCall('teams.listChats', '/me/chats', { $expand: 'members', $top: input.top }, input.cursor),
  fromGraph: (res) => toPage('teams.listChats', res.body, toChat),
  mapError: teamsErrors(
    'Microsoft Graph refused to list chats: the connection needs Chat.ReadWrite.',
    'Chats were not found for this user.',
  ),
});

// https://learn.microsoft.com/graph/api/chat-list-messages: $top ≤ 50, newest first.
defineAction({
  id: 'teams.listChatMessages',
  service: 'teams',
  summary: 'List messages in a Teams chat, newest first',
  description:
    'Returns the messages of a chat the user is in, newest first (sender, content, importance, @mentions, time). Pages of up to 50; pass nextCursor for more.',
  input: z.object({ chatId, top: top('Messages'), cursor }).strict(),
  output: pageOf(TeamsMessageOut),
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    ctx.targets.push(input.chatId);
    return listCall(
      'teams.listChatMessages',
      `/chats/${seg(input.chatId)}/messages`,
      { $top: input.top },
      input.cursor,
    );
  },
  fromGraph: (res) => toPage('teams.listChatMessages', res.body, toMessage),
  mapError: teamsErrors('The connection lacks Chat.ReadWrite.', 'No such chat, or the user is not in it.'),
});

// https://learn.microsoft.com/graph/api/chat-post-messages → 201 (an existing chat only).
defineAction({
  id: 'teams.sendChatMessage',
  service: 'teams',
  summary: 'Send a message in a Teams chat (as the user)',
  description:
    'Sends a message in an existing chat as the signed-in user: plain text or HTML, importance (normal/high/urgent), and @mentions (put @{0}, @{1} in text and list them in mentions; chat members are recognised without a directory lookup). To message someone new, first start a chat with teams.createChat. Returns the created message. Send an Idempotency-Key header to make retries safe.',
  input: z.object({ chatId, ...messageFields(['normal', 'high', 'urgent']) }).strict(),
  output: SentOrHeld,
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  // Inline images travel as base64 (Graph takes up to 4 MB per request).
  maxBodyBytes: 6 * 1024 * 1024,
  guard: chatGuard,
  successStatus: 201,
  async run(input, ctx) {
    ctx.targets.push(input.chatId);
    const mentions = input.mentions ?? [];
    checkPlaceholders(input.text, mentions.length);
    let members: ChatMember[] = [];
    if (mentions.some((m) => !(m.userId && m.displayName))) {
      // Chat members are readable with Chat.ReadWrite: no directory permission needed for them.
      const res = await ctx.graph({ method: 'GET', url: `/chats/${seg(input.chatId)}/members` });
      const body = z
        .object({ value: z.array(z.unknown()) })
        .passthrough()
        .parse(res.body);
      members = body.value.map(toMember);
    }
    const payload = await messagePayload(ctx, input, members);
    const res = await ctx.graph({
      method: 'POST',
      url: `/chats/${seg(input.chatId)}/messages`,
      body: payload,
    });
    const message = toMessage(res.body);
    ctx.targets.push(message.id);
    return message;
  },
  mapError: teamsErrors(
    SEND_FORBIDDEN,
    'No such chat, or the user is not in it. Start one with teams.createChat.',
  ),
});

// Graph has no scheduled send for chat or channel messages: the undo window is held in the app.
defineAction({
  id: 'teams.cancelSend',
  service: 'teams',
  summary: 'Cancel a Teams message within its undo window',
  description:
    'Stops a Teams message that is waiting out its undo window (a send that answered held: true with a sendId) before it is posted: nobody sees it. Answers 409 undo_window_passed once it has been posted. Returns {cancelled: true, sendId}.',
  input: z
    .object({
      sendId: z
        .string()
        .regex(/^held-[A-Za-z0-9_-]{8,64}$/, 'must be the sendId a held send returned')
        .describe('The sendId of the held send.'),
    })
    .strict(),
  output: z.object({ cancelled: z.literal(true), sendId: z.string() }),
  feature: 'teams',
  scopes: [],
  kind: 'write',
  idempotent: false,
  async run(input, ctx) {
    ctx.targets.push(input.sendId);
    await cancelHeldSend(ctx.userId, input.sendId, 'teams.');
    return { cancelled: true as const, sendId: input.sendId };
  },
});

const Participant = z
  .object({
    userId: z
      .string()
      .regex(GUID, 'must be a Microsoft Entra user object id (GUID)')
      .optional()
      .describe('The person’s Microsoft Entra object id.'),
    upn: z
      .email()
      .max(256)
      .optional()
      .describe('The person’s user principal name (sign-in address), instead of userId.'),
  })
  .strict()
  .refine((p) => Boolean(p.userId) !== Boolean(p.upn), { message: 'give exactly one of userId or upn' });

// https://learn.microsoft.com/graph/api/chat-post: the caller must be a member; an existing
// one-on-one chat is returned instead of a new one.
defineAction({
  id: 'teams.createChat',
  service: 'teams',
  summary: 'Start a one-on-one or group chat',
  description:
    'Starts a chat between the signed-in user and the given people: one participant makes a one-on-one chat (if one already exists, that chat is returned), two or more make a group chat (optional topic). Returns the chat (id, type, topic). Then send messages with teams.sendChatMessage.',
  input: z
    .object({
      participants: z
        .array(Participant)
        .min(1)
        .max(249)
        .describe(
          'The other people in the chat (not the user): [{ userId | upn }]. One person = one-on-one chat, two or more = group chat.',
        ),
      topic: z
        .string()
        .min(1)
        .max(255)
        .optional()
        .describe('Group chat title; only for two or more participants.'),
    })
    .strict()
    .refine((i) => i.topic === undefined || i.participants.length >= 2, {
      message: 'a topic can only be set on a group chat (two or more participants)',
      path: ['topic'],
    }),
  output: ChatOut,
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input, ctx) => {
    const bind = (who: string) => ({
      '@odata.type': '#microsoft.graph.aadUserConversationMember',
      roles: ['owner'],
      // OData key literal: a quote is doubled (query-parameters.md).
      'user@odata.bind': `https://graph.microsoft.com/v1.0/users('${who.replace(/'/g, "''")}')`,
    });
    const members = [bind(ownObjectId(ctx)), ...input.participants.map((p) => bind(p.userId ?? p.upn ?? ''))];
    return {
      method: 'POST',
      url: '/chats',
      body: {
        chatType: input.participants.length === 1 ? 'oneOnOne' : 'group',
        ...(input.topic ? { topic: input.topic } : {}),
        members,
      },
    };
  },
  fromGraph: (res, _input, ctx) => {
    const chat = toChat(res.body);
    ctx.targets.push(chat.id);
    return chat;
  },
  mapError: (err) => {
    if (err.status === 404) {
      return new Problem('invalid_input', 'Fix these fields: participants.', {
        errors: [{ field: 'participants', message: 'names a person who is not in this organisation' }],
        ...graphInfo(err),
      });
    }
    if (err.status === 403) {
      return new Problem(
        'forbidden',
        'Microsoft Graph refused to create the chat: the connection needs Chat.ReadWrite (or Chat.Create).',
        graphInfo(err),
      );
    }
    return undefined;
  },
});
import './manage';
import './channels';
import './follow';
