/**
 * What one does to a Teams message after sending it: edit (chatmessage-update.md), soft delete and
 * undo (chatmessage-softdelete.md, chatmessage-undosoftdelete.md), reactions
 * (chatmessage-setreaction.md, chatmessage-unsetreaction.md), pinned chat messages
 * (chat-post-pinnedmessages.md, chat-list-pinnedmessages.md, chat-delete-pinnedmessages.md) and
 * hosted contents, the images inside a message (chatmessagehostedcontent-get.md).
 *
 * Behaviour reproduced:
 * - Edit: `PATCH` answers 204; with a delegated token only the sender may change the body
 *   (403 Forbidden otherwise); `lastEditedDateTime` and `lastModifiedDateTime` move.
 * - Soft delete: `POST .../softDelete` 204, the message stays listed with `deletedDateTime` and an
 *   empty body until `undoSoftDelete` (204) restores it; only the sender's own messages. Chat
 *   messages are addressed as `/users/{id}/chats/{id}/messages/{id}/softDelete` (there is no
 *   `/chats/...` form).
 * - Reactions: one of each `reactionType` (a unicode emoji, or the legacy like, angry, sad, laugh,
 *   heart, surprised) per user; set twice is still one; unset of a missing one is 204.
 * - Pinned messages: `{"message@odata.bind": ".../chats/{id}/messages/{id}"}` → 201
 *   pinnedChatMessageInfo; a message of another chat is 400; `$expand=message` on the list.
 * - Hosted contents: a message sent with `hostedContents` ({`@microsoft.graph.temporaryId`,
 *   `contentBytes`, `contentType`}) and `<img src="../hostedContents/{temporaryId}/$value">` in its
 *   HTML body is stored with the images' real URLs; `GET .../hostedContents` lists them and
 *   `.../hostedContents/{id}/$value` answers the bytes with their content type.
 */
import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, json, type SandboxResponse } from '../../http';
import { persisted } from '../../persist';
import type { SandboxUser } from '../../state';
import { entityResponse, type GraphCtx, type GraphRouteOptions } from '../core';
import { accessDenied, badRequest, GraphHttpError, notFound } from '../errors';
import type { CollectionRef, Entity } from '../store';
import { renderMessage, visibleChat, type TeamRefs } from './model';

/** The helpers of ./index.ts this module routes with (passed in: no import circle). */
export interface TeamsRouting {
  teamsRoute(
    sandbox: Sandbox,
    method: string,
    pattern: string,
    options: Omit<GraphRouteOptions, 'workload' | 'throttle'>,
    handler: (ctx: GraphCtx, refs: TeamRefs) => Promise<SandboxResponse> | SandboxResponse,
  ): void;
  channelOf(ctx: GraphCtx, refs: TeamRefs): { team: Entity; channel: Entity; path: string };
  messageIn(ctx: GraphCtx, ref: CollectionRef, id: string, what?: string): Entity;
}

const CHAT_WRITE = { anyOf: ['Chat.ReadWrite'], app: ['Chat.ReadWrite.All'] };
// chatmessage-update.md / softdelete: channel messages need ChannelMessage.ReadWrite (delegated).
const CHANNEL_WRITE = {
  anyOf: ['ChannelMessage.ReadWrite', 'Group.ReadWrite.All'],
  app: ['ChannelMessage.ReadWrite.All'],
};
// chatmessage-setreaction.md: ChannelMessage.Send for channels, Chat.ReadWrite for chats.
const CHANNEL_REACT = { anyOf: ['ChannelMessage.Send', 'ChannelMessage.ReadWrite', 'Group.ReadWrite.All'] };
const CHAT_READ = { anyOf: ['Chat.Read', 'Chat.ReadWrite'], app: ['Chat.Read.All', 'Chat.ReadWrite.All'] };
const CHANNEL_READ = {
  anyOf: ['ChannelMessage.Read.All', 'Group.Read.All'],
  app: ['ChannelMessage.Read.All'],
};
const PIN = { anyOf: ['ChatMessage.Send', 'Chat.ReadWrite'], app: ['Chat.ReadWrite.All'] };

const LEGACY_REACTIONS = new Set(['like', 'angry', 'sad', 'laugh', 'heart', 'surprised']);

interface HostedState {
  /** `${messageKey}|${hostedContentId}` → content type and base64 bytes. */
  contents: Record<string, { contentType: string; bytes: string }>;
}

function hostedState(sandbox: Sandbox): HostedState {
  let state = sandbox.modules.teamsHosted as HostedState | undefined;
  if (!state) {
    const s = (state = { contents: {} });
    sandbox.modules.teamsHosted = s;
    const saved = persisted(sandbox, 'teamsHosted', () => ({ contents: s.contents }));
    if (saved) Object.assign(s, saved);
  }
  return state;
}

function caller(ctx: GraphCtx): SandboxUser {
  if (!ctx.caller) throw accessDenied('teams');
  return ctx.caller;
}

function senderId(message: Entity): string | undefined {
  return (message.from as { user?: { id?: string } } | null)?.user?.id;
}

function ownMessage(ctx: GraphCtx, message: Entity, doing: string): void {
  if (ctx.auth.appOnly) return;
  if (senderId(message) !== caller(ctx).id) {
    throw new GraphHttpError(403, 'Forbidden', `Only the sender of a message can ${doing} it.`);
  }
}

/** A message as every route addresses it: the collection it lives in, and a key for its images. */
interface Located {
  ref: CollectionRef;
  message: Entity;
  /** `chats('...')/messages('...')` or `teams('...')/channels('...')/messages('...')[/replies('...')]`. */
  key: string;
  /** The message's URL under the Graph root (for hosted content URLs and @odata.bind). */
  url: string;
}

type Locate = (ctx: GraphCtx, refs: TeamRefs) => Located;

function locators(kit: TeamsRouting) {
  const chat: Locate = (ctx, refs) => {
    const c = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    const ref = refs.chatMessages(c.id);
    const message = kit.messageIn(ctx, ref, ctx.params.messageId!);
    return {
      ref,
      message,
      key: `chats('${c.id}')/messages('${message.id}')`,
      url: `chats/${encodeURIComponent(c.id)}/messages/${message.id}`,
    };
  };
  const channel: Locate = (ctx, refs) => {
    const { team, channel: ch } = kit.channelOf(ctx, refs);
    const ref = refs.channelMessages(team.id, ch.id);
    const message = kit.messageIn(ctx, ref, ctx.params.messageId!);
    return {
      ref,
      message,
      key: `teams('${team.id}')/channels('${ch.id}')/messages('${message.id}')`,
      url: `teams/${team.id}/channels/${encodeURIComponent(ch.id)}/messages/${message.id}`,
    };
  };
  const reply: Locate = (ctx, refs) => {
    const { team, channel: ch } = kit.channelOf(ctx, refs);
    const ref = refs.channelReplies(team.id, ch.id, ctx.params.messageId!);
    const message = kit.messageIn(ctx, ref, ctx.params.replyId!, 'Reply');
    return {
      ref,
      message,
      key: `teams('${team.id}')/channels('${ch.id}')/messages('${ctx.params.messageId}')/replies('${message.id}')`,
      url: `teams/${team.id}/channels/${encodeURIComponent(ch.id)}/messages/${ctx.params.messageId}/replies/${message.id}`,
    };
  };
  return { chat, channel, reply };
}

const CHAT = '/chats/:chatId/messages/:messageId';
const ME_CHAT = '/me/chats/:chatId/messages/:messageId';
const CHANNEL = '/teams/:teamId/channels/:channelId/messages/:messageId';
const REPLY = '/teams/:teamId/channels/:channelId/messages/:messageId/replies/:replyId';

export function installMessageManagement(sandbox: Sandbox, kit: TeamsRouting): void {
  const at = locators(kit);
  const families: Array<{
    path: string;
    locate: Locate;
    write: typeof CHAT_WRITE;
    react: { anyOf: string[] };
    read: typeof CHAT_READ;
  }> = [
    { path: CHAT, locate: at.chat, write: CHAT_WRITE, react: CHAT_WRITE, read: CHAT_READ },
    { path: CHANNEL, locate: at.channel, write: CHANNEL_WRITE, react: CHANNEL_REACT, read: CHANNEL_READ },
    { path: REPLY, locate: at.reply, write: CHANNEL_WRITE, react: CHANNEL_REACT, read: CHANNEL_READ },
  ];

  for (const f of families) {
    // https://learn.microsoft.com/graph/api/chatmessage-update: 204.
    kit.teamsRoute(sandbox, 'PATCH', f.path, { scopes: f.write }, async (ctx, refs) => {
      const { ref, message } = f.locate(ctx, refs);
      ownMessage(ctx, message, 'edit');
      if (message.deletedDateTime) throw badRequest('teams', 'A deleted message cannot be edited.');
      const body = await ctx.json<{
        body?: { content?: unknown; contentType?: unknown };
        [k: string]: unknown;
      }>();
      const allowed = new Set([
        'body',
        'mentions',
        'importance',
        'subject',
        'attachments',
        'reactions',
        'policyViolation',
      ]);
      for (const key of Object.keys(body)) {
        if (!allowed.has(key)) throw badRequest('teams', `Property '${key}' cannot be updated.`);
      }
      const patch: Record<string, unknown> = {};
      if (body.body !== undefined) {
        const content = body.body?.content;
        if (typeof content !== 'string' || !content.trim())
          throw badRequest('teams', 'Message body content cannot be empty.');
        const given = body.body?.contentType ?? 'text';
        const contentType = (typeof given === 'string' ? given : '').toLowerCase();
        if (contentType !== 'text' && contentType !== 'html')
          throw badRequest('teams', `Invalid value '${contentType}' for body.contentType.`);
        patch.body = { contentType, content };
      }
      if (body.mentions !== undefined) patch.mentions = body.mentions;
      if (body.importance !== undefined) {
        const importance = typeof body.importance === 'string' ? body.importance : '';
        if (!['normal', 'high', 'urgent'].includes(importance))
          throw badRequest('teams', `Invalid value '${importance}' for importance.`);
        patch.importance = body.importance;
      }
      if (body.subject !== undefined) patch.subject = body.subject;
      const now = new Date(sandbox.now()).toISOString();
      ctx.graph.store.update(ref, message.id, {
        ...patch,
        lastEditedDateTime: now,
        lastModifiedDateTime: now,
      });
      return empty(204);
    });

    // https://learn.microsoft.com/graph/api/chatmessage-setreaction / unsetreaction: 204.
    for (const action of ['setReaction', 'unsetReaction'] as const) {
      kit.teamsRoute(sandbox, 'POST', `${f.path}/${action}`, { scopes: f.react }, async (ctx, refs) => {
        const { ref, message } = f.locate(ctx, refs);
        const user = caller(ctx);
        const { reactionType } = await ctx.json<{ reactionType?: unknown }>();
        if (typeof reactionType !== 'string' || !reactionType.trim())
          throw badRequest('teams', 'reactionType is required.');
        if (!LEGACY_REACTIONS.has(reactionType) && !/\p{Extended_Pictographic}/u.test(reactionType)) {
          throw badRequest('teams', `'${reactionType}' is not a supported reaction: use a unicode emoji.`);
        }
        const reactions = ((message.reactions ?? []) as Array<Record<string, unknown>>).filter(
          (r) =>
            !(
              r.reactionType === reactionType && (r.user as { user?: { id?: string } })?.user?.id === user.id
            ),
        );
        if (action === 'setReaction') {
          reactions.push({
            reactionType,
            displayName: null,
            reactionContentUrl: null,
            createdDateTime: new Date(sandbox.now()).toISOString(),
            user: {
              application: null,
              device: null,
              user: {
                '@odata.type': '#microsoft.graph.teamworkUserIdentity',
                id: user.id,
                displayName: null,
                userIdentityType: 'aadUser',
                tenantId: user.tenantId,
              },
            },
          });
        }
        ctx.graph.store.update(ref, message.id, {
          reactions,
          lastModifiedDateTime: new Date(sandbox.now()).toISOString(),
        });
        return empty(204);
      });
    }

    // https://learn.microsoft.com/graph/api/chatmessage-list-hostedcontents
    kit.teamsRoute(sandbox, 'GET', `${f.path}/hostedContents`, { scopes: f.read }, (ctx, refs) => {
      const { key } = f.locate(ctx, refs);
      const prefix = `${key}|`;
      const value = Object.keys(hostedState(sandbox).contents)
        .filter((k) => k.startsWith(prefix))
        .map((k) => ({ id: k.slice(prefix.length), contentBytes: null, contentType: null }));
      return json(200, {
        '@odata.context': `${sandbox.graphBaseUrl}/$metadata#${key}/hostedContents`,
        '@odata.count': value.length,
        value,
      });
    });
    // https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get (/$value: the bytes).
    kit.teamsRoute(
      sandbox,
      'GET',
      `${f.path}/hostedContents/:hostedId/$value`,
      { scopes: f.read },
      (ctx, refs) => {
        const { key, message } = f.locate(ctx, refs);
        const content = hostedState(sandbox).contents[`${key}|${ctx.params.hostedId}`];
        if (!content || message.deletedDateTime)
          throw notFound('teams', `Hosted content '${ctx.params.hostedId}' was not found.`);
        return {
          status: 200,
          headers: { 'content-type': content.contentType },
          body: Buffer.from(content.bytes, 'base64'),
        };
      },
    );
  }

  // Soft delete: /users/{id}/chats/... for chats (no /chats form), the channel paths as they are.
  const deletions: Array<{ path: string; locate: Locate; scopes: typeof CHAT_WRITE }> = [
    { path: ME_CHAT, locate: at.chat, scopes: CHAT_WRITE },
    { path: CHANNEL, locate: at.channel, scopes: CHANNEL_WRITE },
    { path: REPLY, locate: at.reply, scopes: CHANNEL_WRITE },
  ];
  for (const d of deletions) {
    kit.teamsRoute(sandbox, 'POST', `${d.path}/softDelete`, { scopes: d.scopes }, (ctx, refs) => {
      if (ctx.auth.appOnly) throw accessDenied('teams');
      const { ref, message } = d.locate(ctx, refs);
      ownMessage(ctx, message, 'delete');
      if (!message.deletedDateTime) {
        const now = new Date(sandbox.now()).toISOString();
        ctx.graph.store.update(ref, message.id, {
          deletedDateTime: now,
          lastModifiedDateTime: now,
          _deletedBody: message.body,
          body: { contentType: 'html', content: '' },
        });
      }
      return empty(204);
    });
    kit.teamsRoute(sandbox, 'POST', `${d.path}/undoSoftDelete`, { scopes: d.scopes }, (ctx, refs) => {
      if (ctx.auth.appOnly) throw accessDenied('teams');
      const { ref, message } = d.locate(ctx, refs);
      ownMessage(ctx, message, 'restore');
      if (message.deletedDateTime) {
        ctx.graph.store.update(ref, message.id, {
          deletedDateTime: null,
          lastModifiedDateTime: new Date(sandbox.now()).toISOString(),
          body: message._deletedBody,
          _deletedBody: undefined,
        });
      }
      return empty(204);
    });
  }

  installPinned(sandbox, kit);
}

const PINNED = 'pinnedMessages';

function installPinned(sandbox: Sandbox, kit: TeamsRouting): void {
  const pins = (ctx: GraphCtx, chatId: string) =>
    ctx.graph.store.collection(chatId, PINNED, { etag: 'none' });
  const base = '/chats/:chatId/pinnedMessages';
  const messageOf = (ctx: GraphCtx, refs: TeamRefs, chatId: string, messageId: string) =>
    kit.messageIn(ctx, refs.chatMessages(chatId), messageId);
  const render = (ctx: GraphCtx, refs: TeamRefs, chatId: string, pin: Entity, expand: boolean) => ({
    id: pin.id,
    ...(expand ? { message: renderMessage(messageOf(ctx, refs, chatId, String(pin.messageId))) } : {}),
  });

  // https://learn.microsoft.com/graph/api/chat-list-pinnedmessages ($expand=message).
  kit.teamsRoute(sandbox, 'GET', base, { scopes: CHAT_READ }, (ctx, refs) => {
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    const expand = /^message$/i.test(ctx.query.get('$expand') ?? '');
    const value = ctx.graph.store.list(pins(ctx, chat.id)).map((p) => render(ctx, refs, chat.id, p, expand));
    return json(200, {
      '@odata.context': `${sandbox.graphBaseUrl}/$metadata#chats('${chat.id}')/pinnedMessages`,
      '@odata.count': value.length,
      value,
    });
  });
  // https://learn.microsoft.com/graph/api/chat-post-pinnedmessages: 201 pinnedChatMessageInfo.
  kit.teamsRoute(sandbox, 'POST', base, { scopes: PIN }, async (ctx, refs) => {
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    const body = await ctx.json<Record<string, unknown>>();
    const bind = body['message@odata.bind'];
    const m = typeof bind === 'string' ? /\/chats\/([^/]+)\/messages\/([^/?#]+)$/.exec(bind) : null;
    if (!m)
      throw badRequest(
        'teams',
        'message@odata.bind must name a message of this chat: https://graph.microsoft.com/v1.0/chats/{chat-id}/messages/{message-id}.',
      );
    if (decodeURIComponent(m[1]!) !== chat.id)
      throw badRequest('teams', 'Only a message of this chat can be pinned in it.');
    const message = messageOf(ctx, refs, chat.id, decodeURIComponent(m[2]!));
    const col = pins(ctx, chat.id);
    const existing = ctx.graph.store.list(col).find((p) => p.messageId === message.id);
    const pin =
      existing ?? ctx.graph.store.insert(col, { id: randomBytes(12).toString('hex'), messageId: message.id });
    return entityResponse(
      ctx,
      { id: pin.id },
      { status: 201, context: `chats('${chat.id}')/pinnedMessages/$entity` },
    );
  });
  // https://learn.microsoft.com/graph/api/chat-delete-pinnedmessages: 204.
  kit.teamsRoute(sandbox, 'DELETE', `${base}/:pinId`, { scopes: PIN }, (ctx, refs) => {
    const chat = visibleChat(ctx.graph.store, refs, ctx.params.chatId!, ctx.caller);
    const col = pins(ctx, chat.id);
    if (!ctx.graph.store.get(col, ctx.params.pinId!))
      throw notFound('teams', `Pinned message '${ctx.params.pinId}' was not found.`);
    ctx.graph.store.remove(col, ctx.params.pinId!);
    return empty(204);
  });
}

interface HostedInput {
  temporaryId: string;
  contentType: string;
  contentBytes: string;
}

/** Checks a message's `hostedContents` against its body before anything is stored. */
export function checkHostedContents(
  input: unknown,
  body: { contentType?: unknown; content?: unknown },
): HostedInput[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw badRequest('teams', 'hostedContents must be an array.');
  if (input.length > 0 && String(body.contentType).toLowerCase() !== 'html') {
    throw badRequest('teams', 'Hosted contents need an html message body.');
  }
  const content = typeof body.content === 'string' ? body.content : '';
  return input.map((raw: unknown) => {
    const h = (raw ?? {}) as Record<string, unknown>;
    const temporaryId = h['@microsoft.graph.temporaryId'];
    if (typeof temporaryId !== 'string' || !temporaryId) {
      throw badRequest('teams', 'Each hosted content needs @microsoft.graph.temporaryId.');
    }
    if (typeof h.contentBytes !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(h.contentBytes)) {
      throw badRequest('teams', 'Each hosted content needs contentBytes (base64).');
    }
    if (typeof h.contentType !== 'string' || !/^image\//i.test(h.contentType)) {
      throw badRequest('teams', 'Hosted contents must be images (contentType image/...).');
    }
    if (!content.includes(`../hostedContents/${temporaryId}/$value`)) {
      throw badRequest(
        'teams',
        `The body does not reference hosted content '${temporaryId}' (src="../hostedContents/${temporaryId}/$value").`,
      );
    }
    return { temporaryId, contentType: h.contentType, contentBytes: h.contentBytes };
  });
}

/**
 * Stores a new message's hosted contents (checked by checkHostedContents) and points its `<img>`
 * tags at them; returns the body to keep.
 */
export function storeHostedContents(
  sandbox: Sandbox,
  hosted: HostedInput[],
  body: { contentType: string; content: string },
  where: { key: string; url: string },
): { contentType: string; content: string } {
  let content = body.content;
  const contents = hostedState(sandbox).contents;
  hosted.forEach((h, i) => {
    const id = Buffer.from(`id=${i + 1},type=1,url=${where.url}`).toString('base64url');
    contents[`${where.key}|${id}`] = { contentType: h.contentType, bytes: h.contentBytes };
    content = content
      .split(`../hostedContents/${h.temporaryId}/$value`)
      .join(`${sandbox.graphBaseUrl}/${where.url}/hostedContents/${id}/$value`);
  });
  return { contentType: body.contentType, content };
}
