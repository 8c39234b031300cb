/**
 * After a Teams message is sent: edit it (chatmessage-update.md), delete it or take the delete back
 * (chatmessage-softdelete.md, chatmessage-undosoftdelete.md), react (chatmessage-setreaction.md),
 * pin it in a chat (chat-post-pinnedmessages.md) and download the images in it
 * (chatmessagehostedcontent-get.md).
 *
 * Permissions (delegated, as the signed-in user): in chats all of it is Chat.ReadWrite (the `teams`
 * feature). In channels, reacting needs ChannelMessage.Send (`teams`); editing and deleting need
 * ChannelMessage.ReadWrite, which an administrator must consent to (`teams-manage`); reading an
 * image of a channel message needs ChannelMessage.Read.All (`teams-history`). Only the sender can
 * edit or delete a message.
 */
import { z } from 'zod';
import { defineAction } from '../../actions/registry';
import { RawResult, type ActionContext } from '../../actions/types';
import type { Feature } from '../../config';
import { graphBase, seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { Problem } from '../../http/problem';
import { invalidInput } from '../../http/validate';
import { channelId, channelPath, chatId, graphInfo, teamId } from './common';
import { paceKey, paceTeams } from './pacer';

const anyMessageId = (what: string) =>
  z
    .string()
    .regex(/^\d{1,20}$/, 'must be a message id (digits)')
    .describe(what);

/** Where a message is: a chat, or a channel (and a reply in it). */
const where = {
  chatId: chatId
    .optional()
    .describe('The chat of the message (or teamId and channelId for a channel message).'),
  teamId: teamId.optional().describe('The team of a channel message.'),
  channelId: channelId.optional().describe('The channel of a channel message.'),
  messageId: anyMessageId('The message id (for a reply in a channel: the top-level message it answers).'),
  replyId: anyMessageId('A reply in a channel thread: its id (messageId is then the thread).').optional(),
};

type Where = {
  chatId?: string | undefined;
  teamId?: string | undefined;
  channelId?: string | undefined;
  messageId: string;
  replyId?: string | undefined;
};

function checkWhere(input: Where): void {
  const channel = Boolean(input.teamId || input.channelId);
  if (Boolean(input.chatId) === channel || (channel && !(input.teamId && input.channelId))) {
    throw invalidInput([{ field: 'chatId', message: 'give either chatId, or teamId and channelId' }]);
  }
  if (input.replyId && input.chatId) {
    throw invalidInput([
      { field: 'replyId', message: 'replies are in channels only (chats have no threads)' },
    ]);
  }
}

function messageUrl(input: Where): string {
  if (input.chatId) return `/chats/${seg(input.chatId)}/messages/${seg(input.messageId)}`;
  const base = `${channelPath(input.teamId!, input.channelId!)}/messages/${seg(input.messageId)}`;
  return input.replyId ? `${base}/replies/${seg(input.replyId)}` : base;
}

/** Channel calls are paced (4 per second per channel, shared/services/teams/pacer.ts). */
async function call<T>(input: Where, fn: () => Promise<T>): Promise<T> {
  if (input.chatId) return await fn();
  return await paceTeams(paceKey.channel(input.teamId!, input.channelId!), fn);
}

function target(ctx: ActionContext, input: Where): void {
  ctx.targets.push(input.chatId ?? input.channelId!, input.replyId ?? input.messageId);
}

/** In channels, editing and deleting need ChannelMessage.ReadWrite (admin consent). */
const channelWrite = (input: Where): Feature[] => (input.chatId ? [] : ['teams-manage']);

function manageErrors(doing: string) {
  return (err: GraphError): Problem | undefined => {
    if (err.status === 403) {
      return new Problem(
        'forbidden',
        `Microsoft Graph refused to ${doing} this message: only its sender can, the user must be in the chat or team, and channel messages need the teams-manage feature (ChannelMessage.ReadWrite, admin consent).`,
        graphInfo(err),
      );
    }
    if (err.status === 404)
      return new Problem('not_found', 'No such message (or chat, channel) for this user.', graphInfo(err));
    return undefined;
  };
}

const text = z.string().min(1).max(28_000).describe('The new text of the message.');

// https://learn.microsoft.com/graph/api/chatmessage-update: 204.
defineAction({
  id: 'teams.editMessage',
  service: 'teams',
  summary: "Edit one of the user's Teams messages",
  description:
    'Replaces the text of a message the user sent, in a chat (chatId) or a channel (teamId, channelId, and replyId for a reply). Teams shows it as edited. Only the sender can edit. Returns {edited: true, messageId}.',
  input: z
    .object({
      ...where,
      text,
      format: z.enum(['text', 'html']).default('text').describe('text (default) or html.'),
    })
    .strict(),
  output: z.object({ edited: z.literal(true), messageId: z.string() }),
  feature: 'teams',
  requires: channelWrite,
  scopes: ['Chat.ReadWrite', 'ChannelMessage.ReadWrite'],
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    checkWhere(input);
    target(ctx, input);
    await call(input, () =>
      ctx.graph({
        method: 'PATCH',
        url: messageUrl(input),
        body: { body: { contentType: input.format, content: input.text } },
      }),
    );
    return { edited: true as const, messageId: input.replyId ?? input.messageId };
  },
  mapError: manageErrors('edit'),
});

// https://learn.microsoft.com/graph/api/chatmessage-softdelete, chatmessage-undosoftdelete: 204.
defineAction({
  id: 'teams.deleteMessage',
  service: 'teams',
  summary: "Delete one of the user's Teams messages (or undo the delete)",
  description:
    'Deletes a message the user sent, in a chat or a channel: Teams shows "This message has been deleted" and the text is gone for everyone. undo true brings it back. Only the sender can. Returns {deleted, messageId}.',
  input: z
    .object({
      ...where,
      undo: z.boolean().optional().describe('Take back an earlier delete (default false).'),
    })
    .strict(),
  output: z.object({ deleted: z.boolean(), messageId: z.string() }),
  feature: 'teams',
  requires: channelWrite,
  scopes: ['Chat.ReadWrite', 'ChannelMessage.ReadWrite'],
  kind: 'destructive',
  idempotent: true,
  run: async (input, ctx) => {
    checkWhere(input);
    target(ctx, input);
    // Chat messages are deleted under the user: /users/{id}/chats/... (there is no /chats form).
    const url = input.chatId ? `/me${messageUrl(input)}` : messageUrl(input);
    const action = input.undo ? 'undoSoftDelete' : 'softDelete';
    await call(input, () => ctx.graph({ method: 'POST', url: `${url}/${action}` }));
    return { deleted: !input.undo, messageId: input.replyId ?? input.messageId };
  },
  mapError: manageErrors('delete'),
});

const reactionField = z
  .string()
  .min(1)
  .max(16)
  .describe('The reaction: an emoji such as 👍 ❤️ 😂 🎉 (or like, heart, laugh, surprised, sad, angry).');

for (const [id, action, summary, description] of [
  [
    'teams.react',
    'setReaction',
    'React to a Teams message',
    "Adds the user's reaction (an emoji) to a message in a chat or channel. Reacting twice with the same emoji is still one reaction. Returns {reacted: true, reaction, messageId}.",
  ],
  [
    'teams.unreact',
    'unsetReaction',
    "Remove the user's reaction from a Teams message",
    "Removes the user's reaction (that emoji) from a message; nothing happens when there was none. Returns {reacted: false, reaction, messageId}.",
  ],
] as const) {
  // https://learn.microsoft.com/graph/api/chatmessage-setreaction, chatmessage-unsetreaction: 204.
  defineAction({
    id,
    service: 'teams',
    summary,
    description,
    input: z.object({ ...where, reaction: reactionField }).strict(),
    output: z.object({ reacted: z.boolean(), reaction: z.string(), messageId: z.string() }),
    feature: 'teams',
    scopes: ['Chat.ReadWrite', 'ChannelMessage.Send'],
    kind: 'write',
    idempotent: true,
    run: async (input, ctx) => {
      checkWhere(input);
      target(ctx, input);
      await call(input, () =>
        ctx.graph({
          method: 'POST',
          url: `${messageUrl(input)}/${action}`,
          body: { reactionType: input.reaction },
        }),
      );
      return {
        reacted: action === 'setReaction',
        reaction: input.reaction,
        messageId: input.replyId ?? input.messageId,
      };
    },
    mapError: manageErrors('react to'),
  });
}

// https://learn.microsoft.com/graph/api/chat-post-pinnedmessages (201), chat-delete-pinnedmessages (204)
defineAction({
  id: 'teams.pinMessage',
  service: 'teams',
  summary: 'Pin (or unpin) a message in a Teams chat',
  description:
    'Pins a message at the top of a chat for everyone in it, or unpins it with unpin true. Chats only (channels have no pinned messages in Microsoft Graph). Returns {pinned, messageId}.',
  input: z
    .object({
      chatId,
      messageId: anyMessageId('The message to pin.'),
      unpin: z.boolean().optional().describe('Unpin instead (default false).'),
    })
    .strict(),
  output: z.object({ pinned: z.boolean(), messageId: z.string() }),
  feature: 'teams',
  scopes: ['Chat.ReadWrite'],
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.chatId, input.messageId);
    const pins = `/chats/${seg(input.chatId)}/pinnedMessages`;
    if (!input.unpin) {
      const bind = `${graphBase()}/chats/${seg(input.chatId)}/messages/${seg(input.messageId)}`;
      await ctx.graph({ method: 'POST', url: pins, body: { 'message@odata.bind': bind } });
      return { pinned: true, messageId: input.messageId };
    }
    const list = await ctx.graph<{ value: Array<{ id: string; message?: { id?: string } }> }>({
      method: 'GET',
      url: pins,
      query: { $expand: 'message' },
    });
    const pin = list.body.value.find((p) => p.message?.id === input.messageId);
    if (pin) await ctx.graph({ method: 'DELETE', url: `${pins}/${seg(pin.id)}` });
    return { pinned: false, messageId: input.messageId };
  },
  mapError: manageErrors('pin'),
});

// https://learn.microsoft.com/graph/api/chatmessagehostedcontent-get ($value: the bytes)
defineAction({
  id: 'teams.downloadMessageImage',
  service: 'teams',
  summary: 'Download an image posted in a Teams message',
  description:
    "Streams an image shown in a message (its hostedContentId comes from the message's images), with its content type. In channels this needs the teams-history feature. Returns the image bytes.",
  input: z
    .object({
      ...where,
      hostedContentId: z
        .string()
        .min(1)
        .max(2048)
        .describe("The image's hostedContentId (from the message's images)."),
    })
    .strict(),
  feature: 'teams',
  requires: (input) => (input.chatId ? [] : ['teams-history']),
  scopes: ['Chat.ReadWrite', 'ChannelMessage.Read.All'],
  kind: 'read',
  idempotent: true,
  httpMethod: 'GET',
  run: async (input, ctx) => {
    checkWhere(input);
    target(ctx, input);
    const res = await call(input, () =>
      ctx.graphRaw({
        method: 'GET',
        url: `${messageUrl(input)}/hostedContents/${seg(input.hostedContentId)}/$value`,
      }),
    );
    const headers: Record<string, string> = {
      'content-type': res.headers.get('content-type') ?? 'application/octet-stream',
      'cache-control': 'no-store',
    };
    const length = res.headers.get('content-length');
    if (length) headers['content-length'] = length;
    return new RawResult({ status: 200, headers, body: res.body as never });
  },
  mapError: manageErrors('read the image of'),
});
