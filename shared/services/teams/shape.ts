/**
 * Teams shapes: Graph's team/channel/chat/chatMessage parsed with zod (never cast) and mapped to
 * our stable output, plus the message builder that turns our mention input into Graph's HTML body
 * with `<at id="N">Name</at>` tags and the matching `mentions` array (reference §8.4,
 * https://learn.microsoft.com/graph/api/resources/chatmention).
 */
import { untrusted } from '../../actions/output';
import { z } from 'zod';
import { Problem } from '../../http/problem';

// ---------------------------------------------------------------- Graph → ours

const Identity = z
  .object({ id: z.string().nullable().optional(), displayName: z.string().nullable().optional() })
  .passthrough()
  .nullable()
  .optional();

const GraphMessage = z
  .object({
    id: z.string(),
    replyToId: z.string().nullable().optional(),
    messageType: z.string().optional(),
    createdDateTime: z.string().nullable().optional(),
    lastModifiedDateTime: z.string().nullable().optional(),
    deletedDateTime: z.string().nullable().optional(),
    subject: z.string().nullable().optional(),
    importance: z.string().optional(),
    webUrl: z.string().nullable().optional(),
    chatId: z.string().nullable().optional(),
    from: z.object({ user: Identity, application: Identity }).passthrough().nullable().optional(),
    body: z
      .object({ contentType: z.string().optional(), content: z.string().nullable().optional() })
      .passthrough(),
    channelIdentity: z
      .object({ teamId: z.string().nullable().optional(), channelId: z.string().nullable().optional() })
      .passthrough()
      .nullable()
      .optional(),
    mentions: z
      .array(
        z
          .object({
            id: z.number(),
            mentionText: z.string().nullable().optional(),
            mentioned: z.object({ user: Identity }).passthrough().nullable().optional(),
          })
          .passthrough(),
      )
      .nullable()
      .optional(),
    replies: z.array(z.unknown()).optional(),
    lastEditedDateTime: z.string().nullable().optional(),
    reactions: z
      .array(
        z
          .object({
            reactionType: z.string(),
            user: z.object({ user: Identity }).passthrough().nullable().optional(),
          })
          .passthrough(),
      )
      .nullable()
      .optional(),
  })
  .passthrough();

const TeamsMessageFields = z.object({
  id: z.string(),
  replyToId: z.string().nullable().describe('The parent message id for channel replies, else null.'),
  messageType: z.string(),
  createdAt: z.string().nullable(),
  lastModifiedAt: z.string().nullable(),
  deleted: z.boolean(),
  subject: untrusted(z.string().nullable(), 'teams'),
  importance: z.string(),
  contentType: z.string().describe('text or html (mentions make a message html).'),
  content: untrusted(z.string(), 'teams'),
  from: z
    .object({
      userId: z.string().nullable(),
      displayName: untrusted(z.string().nullable(), 'teams'),
      kind: z.enum(['user', 'application']),
    })
    .nullable(),
  mentions: z.array(
    z.object({
      id: z.number(),
      text: untrusted(z.string().nullable(), 'teams'),
      userId: z.string().nullable(),
      displayName: untrusted(z.string().nullable(), 'teams'),
    }),
  ),
  teamId: z.string().nullable(),
  channelId: z.string().nullable(),
  chatId: z.string().nullable(),
  webUrl: z.string().nullable(),
  editedAt: z.string().nullable().describe('When the sender last edited it, else null.'),
  reactions: z
    .array(
      z.object({
        reaction: z.string().describe('The emoji (or like, heart ...).'),
        userId: z.string().nullable(),
      }),
    )
    .describe('Who reacted with what.'),
  images: z
    .array(z.object({ hostedContentId: z.string() }))
    .describe('Images in the message: download each with teams.downloadMessageImage.'),
});

/** A channel or chat message as the actions return it. */
export const TeamsMessageOut = TeamsMessageFields.extend({
  replies: z
    .array(TeamsMessageFields)
    .optional()
    .describe('With includeReplies on channel message lists: the replies, oldest first.'),
});
export type TeamsMessage = z.infer<typeof TeamsMessageFields> & { replies?: TeamsMessage[] };

/** Hosted images of a message body: `<img src=".../hostedContents/{id}/$value">` (chatmessagehostedcontent.md). */
function imagesIn(html: string): Array<{ hostedContentId: string }> {
  const ids = [...html.matchAll(/\/hostedContents\/([^/"'\s]+)\/\$value/g)].map((m) =>
    decodeURIComponent(m[1]!),
  );
  return [...new Set(ids)].map((hostedContentId) => ({ hostedContentId }));
}

export function toMessage(raw: unknown): TeamsMessage {
  const m = GraphMessage.parse(raw);
  const user = m.from?.user;
  const app = m.from?.application;
  const from = user?.id
    ? { userId: user.id, displayName: user.displayName ?? null, kind: 'user' as const }
    : app?.id
      ? { userId: null, displayName: app.displayName ?? null, kind: 'application' as const }
      : null;
  const out: TeamsMessage = {
    id: m.id,
    replyToId: m.replyToId ?? null,
    messageType: m.messageType ?? 'message',
    createdAt: m.createdDateTime ?? null,
    lastModifiedAt: m.lastModifiedDateTime ?? null,
    deleted: Boolean(m.deletedDateTime),
    subject: m.subject ?? null,
    importance: m.importance ?? 'normal',
    contentType: m.body.contentType ?? 'text',
    content: m.body.content ?? '',
    from,
    mentions: (m.mentions ?? []).map((x) => ({
      id: x.id,
      text: x.mentionText ?? null,
      userId: x.mentioned?.user?.id ?? null,
      displayName: x.mentioned?.user?.displayName ?? null,
    })),
    teamId: m.channelIdentity?.teamId ?? null,
    channelId: m.channelIdentity?.channelId ?? null,
    chatId: m.chatId ?? null,
    webUrl: m.webUrl ?? null,
    editedAt: m.lastEditedDateTime ?? null,
    reactions: (m.reactions ?? []).map((r) => ({
      reaction: r.reactionType,
      userId: r.user?.user?.id ?? null,
    })),
    images: imagesIn(m.body.content ?? ''),
  };
  if (m.replies) {
    out.replies = m.replies
      .map(toMessage)
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  }
  return out;
}

const GraphTeam = z
  .object({
    id: z.string(),
    displayName: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
    isArchived: z.boolean().nullable().optional(),
  })
  .passthrough();

export function toTeam(raw: unknown) {
  const t = GraphTeam.parse(raw);
  return {
    id: t.id,
    displayName: t.displayName ?? null,
    description: t.description ?? null,
    isArchived: t.isArchived ?? false,
  };
}

const GraphChannel = z
  .object({
    id: z.string(),
    displayName: z.string().nullable().optional(),
    description: z.string().nullable().optional(),
    membershipType: z.string().nullable().optional(),
    createdDateTime: z.string().nullable().optional(),
    webUrl: z.string().nullable().optional(),
  })
  .passthrough();

export const ChannelOut = z.object({
  id: z.string(),
  teamId: z.string(),
  displayName: untrusted(z.string().nullable(), 'teams'),
  description: untrusted(z.string().nullable(), 'teams'),
  membershipType: z.string().describe('standard, private or shared.'),
  createdAt: z.string().nullable(),
  webUrl: z.string().nullable(),
});

export function toChannel(raw: unknown, teamId: string): z.infer<typeof ChannelOut> {
  const c = GraphChannel.parse(raw);
  return {
    id: c.id,
    teamId,
    displayName: c.displayName ?? null,
    description: c.description ?? null,
    membershipType: c.membershipType ?? 'standard',
    createdAt: c.createdDateTime ?? null,
    webUrl: c.webUrl ?? null,
  };
}

const GraphMember = z
  .object({
    userId: z.string().nullable().optional(),
    displayName: z.string().nullable().optional(),
    email: z.string().nullable().optional(),
    roles: z.array(z.string()).nullable().optional(),
  })
  .passthrough();

const ChatMemberOut = z.object({
  userId: z.string().nullable(),
  displayName: untrusted(z.string().nullable(), 'teams'),
  email: z.string().nullable(),
  roles: z.array(z.string()),
});
export type ChatMember = z.infer<typeof ChatMemberOut>;

export function toMember(raw: unknown): ChatMember {
  const m = GraphMember.parse(raw);
  return {
    userId: m.userId ?? null,
    displayName: m.displayName ?? null,
    email: m.email ?? null,
    roles: m.roles ?? [],
  };
}

const GraphChat = z
  .object({
    id: z.string(),
    topic: z.string().nullable().optional(),
    chatType: z.string().optional(),
    createdDateTime: z.string().nullable().optional(),
    lastUpdatedDateTime: z.string().nullable().optional(),
    webUrl: z.string().nullable().optional(),
    members: z.array(z.unknown()).optional(),
  })
  .passthrough();

export const ChatOut = z.object({
  id: z.string(),
  topic: untrusted(z.string().nullable(), 'teams'),
  chatType: z.string().describe('oneOnOne, group or meeting.'),
  createdAt: z.string().nullable(),
  lastUpdatedAt: z.string().nullable(),
  webUrl: z.string().nullable(),
  members: z.array(ChatMemberOut).optional(),
});

export function toChat(raw: unknown): z.infer<typeof ChatOut> {
  const c = GraphChat.parse(raw);
  return {
    id: c.id,
    topic: c.topic ?? null,
    chatType: c.chatType ?? 'unknown',
    createdAt: c.createdDateTime ?? null,
    lastUpdatedAt: c.lastUpdatedDateTime ?? null,
    webUrl: c.webUrl ?? null,
    ...(c.members ? { members: c.members.map(toMember) } : {}),
  };
}

// ---------------------------------------------------------------- ours → Graph (messages)

/** A mention as callers give it: who (id or UPN) and, optionally, the name to show. */
export interface MentionInput {
  userId?: string | undefined;
  upn?: string | undefined;
  displayName?: string | undefined;
}

/** A mention with the user resolved to an Entra object id and a name to show. */
export interface ResolvedMention {
  userId: string;
  displayName: string;
}

const PLACEHOLDER = /@\{(\d+)\}/g;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function bad(field: string, message: string): Problem {
  return new Problem('invalid_input', `Fix these fields: ${field}.`, { errors: [{ field, message }] });
}

/**
 * Checks the `@{N}` placeholders against the mentions before anything is sent: every placeholder
 * names an existing mention and every mention is placed at least once.
 */
export function checkPlaceholders(text: string, mentionCount: number): void {
  const used = new Set<number>();
  for (const m of text.matchAll(PLACEHOLDER)) {
    const index = Number(m[1]);
    if (index >= mentionCount) {
      throw bad(
        'text',
        `uses @{${index}} but mentions has ${mentionCount} entr${mentionCount === 1 ? 'y' : 'ies'}`,
      );
    }
    used.add(index);
  }
  for (let i = 0; i < mentionCount; i++) {
    if (!used.has(i))
      throw bad(`mentions.${i}`, `is not placed in text; add @{${i}} where the mention should appear`);
  }
}

/**
 * Graph's chatMessage body: plain text stays `text`; with mentions (or format html) the body is
 * HTML where each `@{N}` becomes `<at id="N">Name</at>` and `mentions[N]` names the user
 * (chatmessage-post.md "Example 2: @mentions"; Graph requires html for mentions).
 */
export function buildMessageBody(
  text: string,
  format: 'text' | 'html',
  mentions: ResolvedMention[],
): { body: { contentType: 'text' | 'html'; content: string }; mentions?: Array<Record<string, unknown>> } {
  if (mentions.length === 0 && format === 'text') return { body: { contentType: 'text', content: text } };
  const html = format === 'html' ? text : escapeHtml(text).replace(/\r?\n/g, '<br>');
  const content = html.replace(PLACEHOLDER, (_all, n: string) => {
    const m = mentions[Number(n)];
    return m ? `<at id="${n}">${escapeHtml(m.displayName)}</at>` : _all;
  });
  if (mentions.length === 0) return { body: { contentType: 'html', content } };
  return {
    body: { contentType: 'html', content },
    mentions: mentions.map((m, id) => ({
      id,
      mentionText: m.displayName,
      mentioned: { user: { id: m.userId, displayName: m.displayName, userIdentityType: 'aadUser' } },
    })),
  };
}
