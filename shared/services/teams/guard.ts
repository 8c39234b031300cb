/**
 * What the send policy (shared/actions/guard.ts) needs from Teams: who a message reaches. A chat
 * message reaches the chat's members (their addresses decide "external"); a channel post stays in
 * its team. Graph has no scheduled send for chat messages, so an undo window holds the call in
 * the app (`held`, shared/actions/held-sends.ts).
 */
import { z } from 'zod';
import { seg } from '../../graph/client';
import { previewText } from '../../actions/guard';
import type { OutboundPreview, SendGuard } from '../../actions/types';
import { toMember } from './shape';

export const chatGuard: SendGuard<{ chatId: string; text: string; format: 'text' | 'html' }> = {
  held: true,
  preview: async (input, ctx) => {
    // Chat members are readable with Chat.ReadWrite (chat-list-members.md).
    const res = await ctx.graph({ method: 'GET', url: `/chats/${seg(input.chatId)}/members` });
    const body = z
      .object({ value: z.array(z.unknown()) })
      .passthrough()
      .parse(res.body);
    const self = ctx.connection.username.toLowerCase();
    const recipients = body.value
      .map(toMember)
      .map((m) => m.email?.toLowerCase())
      .filter((e): e is string => !!e && e !== self);
    const preview: OutboundPreview = {
      channel: 'teams',
      recipients: [...new Set(recipients)],
      destination: `chat ${input.chatId}`,
      text: previewText(input.text, input.format),
    };
    return preview;
  },
};

export const channelGuard: SendGuard<{
  teamId: string;
  channelId: string;
  subject?: string | undefined;
  text: string;
  format: 'text' | 'html';
}> = {
  held: true,
  preview: async (input) => {
    const preview: OutboundPreview = {
      channel: 'teams',
      recipients: [],
      destination: `channel ${input.channelId} in team ${input.teamId}`,
      text: previewText(input.text, input.format),
    };
    if (input.subject) preview.subject = input.subject;
    return await Promise.resolve(preview);
  },
};
