/**
 * Sending mail: new messages, drafts (create, update, attach, send), reply, reply-all, forward.
 * Every send takes an `Idempotency-Key` (the framework replays the first result for 24 h, so a
 * retried call never sends twice; peers.md item 6). Sends are not idempotent for the Graph
 * chokepoint either: a 5xx is reported as outcome unknown, never resent (reference §11 item 9).
 * Graph answers 202 with no body to sendMail/send/reply/forward (§8.1): accepted, not delivered.
 */
import { z } from 'zod';
import { seg } from '../../graph/client';
import { GraphError } from '../../graph/errors';
import { odataString } from '../../graph/odata';
import { Problem } from '../../http/problem';
import {
  addressField,
  badField,
  idField,
  mailboxField,
  mailError,
  mailRoot,
  MAIL_SCOPES_READ,
  MAIL_SCOPES_SEND,
  sharedFeature,
  toMessage,
  toRecipients,
  type AddressInput,
  MessageOut,
} from './common';
import { draftGuard, forwardGuard, newMessageGuard, replyGuard } from './guard';
import { undoWindowPassed } from '../../actions/held-sends';
import {
  attachFile,
  AttachedOut,
  attachRequestBody,
  bufferSource,
  INLINE_MAX_BYTES,
  uploadFields,
} from './upload';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { callerZone, DateTimeInput, toMillis } from '../calendar/time';

/** Graph's request limit (4 MB) less room for headers: above it sendMail would answer 413. */
const SEND_MAIL_JSON_LIMIT = 4 * 1024 * 1024 - 64 * 1024;

/**
 * The undo window (guarded sends, shared/actions/guard.ts): PidTagDeferredSendTime (MS-OXOMSG
 * 2.2.3.4, `SystemTime 0x3FEF`) set on the draft makes Exchange hold the sent message in Drafts
 * until then (https://learn.microsoft.com/graph/api/resources/extended-properties-overview);
 * deleting it before then cancels the send (mail.cancelSend).
 */
const DEFERRED_SEND_TIME = 'SystemTime 0x3FEF';

/**
 * When a send is held: the undo window (guarded sends) and/or the caller's `sendAt`, whichever is
 * later. Exchange holds the message in Drafts until then (the sandbox on its own clock).
 */
function deferral(
  ctx: ActionContext,
  sendAt?: DateTimeInput,
): { undoUntil?: string; scheduledFor?: string; properties: Record<string, unknown> } | undefined {
  const undo = ctx.undoSeconds ? Date.now() + ctx.undoSeconds * 1000 : undefined;
  const scheduled = sendAt === undefined ? undefined : scheduledInstant(sendAt, ctx);
  if (undo === undefined && scheduled === undefined) return undefined;
  const at = Math.max(undo ?? 0, scheduled ?? 0);
  const value = new Date(at).toISOString();
  return {
    ...(undo !== undefined && at === undo ? { undoUntil: value } : {}),
    ...(scheduled !== undefined ? { scheduledFor: value } : {}),
    properties: { singleValueExtendedProperties: [{ id: DEFERRED_SEND_TIME, value }] },
  };
}

/** The longest a send may be scheduled ahead (Outlook's own limit is not documented; ours is a year). */
const MAX_SCHEDULE_DAYS = 365;

function scheduledInstant(sendAt: DateTimeInput, ctx: ActionContext): number {
  const ms = toMillis(sendAt, 'sendAt', callerZone(undefined, ctx.timezone));
  if (ms <= Date.now()) throw badField('sendAt', 'must be in the future (to send now, leave sendAt out)');
  if (ms > Date.now() + MAX_SCHEDULE_DAYS * 86400_000) {
    throw badField('sendAt', `must be within ${MAX_SCHEDULE_DAYS} days`);
  }
  return ms;
}

const sendAtField = DateTimeInput.optional().describe(
  'Send later: when the message goes out, e.g. {"dateTime": "2026-12-08T08:00:00", "timeZone": "Europe/Berlin"} or an instant with offset. Until then it waits in Drafts and mail.cancelSend stops it.',
);

const scheduledForField = z
  .string()
  .optional()
  .describe('With sendAt: when the message goes out (UTC); until then mail.cancelSend stops it.');

/** The output fields of a held send. */
function held(d: ReturnType<typeof deferral>): { undoUntil?: string; scheduledFor?: string } {
  return {
    ...(d?.undoUntil ? { undoUntil: d.undoUntil } : {}),
    ...(d?.scheduledFor ? { scheduledFor: d.scheduledFor } : {}),
  };
}

const undoUntilField = z
  .string()
  .optional()
  .describe('With an undo window: when the message goes out; until then mail.cancelSend stops it.');

const recipients = (what: string) => z.array(addressField).max(500).optional().describe(what);
const bodyFields = {
  subject: z.string().max(998).optional().describe('Subject line.'),
  body: z.string().max(900_000).optional().describe('Message body.'),
  bodyType: z.enum(['text', 'html']).optional().describe('Whether body is plain text (default) or HTML.'),
};

const attachmentInput = z
  .object({
    name: z.string().min(1).max(255).describe('File name shown to recipients.'),
    contentType: z.string().max(255).optional().describe('MIME type (default application/octet-stream).'),
    contentBytes: z.base64().describe('The file content, base64-encoded.'),
    isInline: z.boolean().optional().describe('An inline (embedded) image referenced by contentId.'),
    contentId: z.string().max(255).optional().describe('Content id for inline images (cid:...).'),
  })
  .strict();

const messageFields = {
  to: recipients('Recipients.'),
  cc: recipients('Carbon-copy recipients.'),
  bcc: recipients('Blind carbon-copy recipients (hidden from the others).'),
  ...bodyFields,
  importance: z.enum(['low', 'normal', 'high']).optional().describe('Importance (default normal).'),
  replyTo: recipients('Addresses replies should go to.'),
  from: z
    .email()
    .max(320)
    .optional()
    .describe(
      'Send as (or on behalf of) this address, e.g. a shared mailbox; the user needs the Send As or Send on Behalf permission on it.',
    ),
};

type MessageFieldsInput = {
  to?: AddressInput[] | undefined;
  cc?: AddressInput[] | undefined;
  bcc?: AddressInput[] | undefined;
  subject?: string | undefined;
  body?: string | undefined;
  bodyType?: 'text' | 'html' | undefined;
  importance?: 'low' | 'normal' | 'high' | undefined;
  replyTo?: AddressInput[] | undefined;
  from?: string | undefined;
};

/** Our input → Graph message JSON (message.md); only the fields given. */
function graphMessage(input: MessageFieldsInput): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (input.subject !== undefined) m.subject = input.subject;
  if (input.body !== undefined || input.bodyType !== undefined) {
    m.body = { contentType: input.bodyType ?? 'text', content: input.body ?? '' };
  }
  if (input.to !== undefined) m.toRecipients = toRecipients(input.to);
  if (input.cc !== undefined) m.ccRecipients = toRecipients(input.cc);
  if (input.bcc !== undefined) m.bccRecipients = toRecipients(input.bcc);
  if (input.replyTo !== undefined) m.replyTo = toRecipients(input.replyTo);
  if (input.importance !== undefined) m.importance = input.importance;
  if (input.from !== undefined) m.from = { emailAddress: { address: input.from } };
  return m;
}

function decoded(attachments: Array<z.output<typeof attachmentInput>> | undefined) {
  return (attachments ?? []).map((a) => ({ ...a, bytes: Buffer.from(a.contentBytes, 'base64') }));
}

function fileAttachment(a: ReturnType<typeof decoded>[number]): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    name: a.name,
    contentType: a.contentType ?? 'application/octet-stream',
    contentBytes: a.contentBytes,
    ...(a.isInline ? { isInline: true } : {}),
    ...(a.contentId ? { contentId: a.contentId } : {}),
  };
}

const sendMessageInput = z
  .object({
    ...messageFields,
    attachments: z.array(attachmentInput).max(50).optional().describe('Files to attach (base64).'),
    saveToSentItems: z.boolean().optional().describe('Keep a copy in Sent Items (default true).'),
    sendAt: sendAtField,
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-sendmail (+ message-send for the draft path)
defineAction({
  id: 'mail.sendMessage',
  service: 'mail',
  summary: 'Send an email',
  description:
    'Sends a new email (to/cc/bcc, subject, text or HTML body, importance, reply-to, attachments) from the user, a shared mailbox (mailbox), or as another address the user may send as (from). Small messages go in one request; attachments of 3 MB or more, or messages over the 4 MB request limit, go through a draft with upload sessions and are then sent. Send an Idempotency-Key header so a retry never sends twice. With sendAt the message is scheduled ("send this tomorrow at 8"): it waits in Drafts until then and mail.cancelSend stops it. Returns {sent: true, method} (and messageId with scheduledFor when scheduled); delivery is asynchronous. Before sending, mail.getMailTips tells which recipients are out of office or external. For files too large to pass as base64 here, use mail.createDraft, mail.addAttachment (streamed) and mail.sendDraft.',
  input: sendMessageInput,
  output: z.object({
    sent: z.literal(true),
    method: z
      .enum(['sendMail', 'draft', 'deferred', 'recovered'])
      .describe(
        'sendMail (one request), draft (large attachments), deferred (waiting out the undo window or until sendAt), recovered (an earlier attempt had sent it).',
      ),
    messageId: z.string().optional(),
    undoUntil: undoUntilField,
    scheduledFor: scheduledForField,
  }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_SEND,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  guard: newMessageGuard,
  // Base64 attachments inflate by 4/3: room for a message at Exchange's default 35 MB limit.
  maxBodyBytes: 48 * 1024 * 1024,
  outcomeCheck: 'Look in Sent Items for the message with the internetMessageId in `check`',
  run: async (input, ctx) => {
    const root = mailRoot(input);
    if (!input.to?.length && !input.cc?.length && !input.bcc?.length) {
      throw badField('to', 'at least one recipient (to, cc or bcc) is required');
    }
    const message = graphMessage(input);
    // With an Idempotency-Key the message carries an internetMessageId derived from it (writable
    // while the message is a draft, message-update.md), so a repeat can find it in Sent Items.
    const internetMessageId = keyedMessageId(ctx);
    if (internetMessageId) {
      message.internetMessageId = internetMessageId;
      ctx.check.internetMessageId = internetMessageId;
      ctx.check.folder = 'sentitems';
    }
    const attachments = decoded(input.attachments);
    const inline = {
      message: {
        ...message,
        ...(attachments.length ? { attachments: attachments.map(fileAttachment) } : {}),
      },
      saveToSentItems: input.saveToSentItems ?? true,
    };
    const fits =
      attachments.every((a) => a.bytes.length < INLINE_MAX_BYTES) &&
      Buffer.byteLength(JSON.stringify(inline)) < SEND_MAIL_JSON_LIMIT;
    const deferred = deferral(ctx, input.sendAt);
    if (fits && !deferred) {
      await ctx.graph({ method: 'POST', url: `${root}/sendMail`, body: inline });
      return { sent: true as const, method: 'sendMail' as const };
    }
    if (fits && deferred) {
      // A held send needs an id to cancel: a draft (attachments inline), then send.
      const draft = await ctx.graph<{ id: string }>({
        method: 'POST',
        url: `${root}/messages`,
        body: { ...inline.message, ...deferred.properties },
      });
      ctx.targets.push(draft.body.id);
      await ctx.graph({ method: 'POST', url: `${root}/messages/${seg(draft.body.id)}/send` });
      return {
        sent: true as const,
        method: 'deferred' as const,
        messageId: draft.body.id,
        ...held(deferred),
      };
    }
    // Too big for one request: a draft, each file attached on its own, then send (§8.1 notes).
    const draft = await ctx.graph<{ id: string }>({
      method: 'POST',
      url: `${root}/messages`,
      body: { ...message, ...deferred?.properties },
    });
    ctx.targets.push(draft.body.id);
    try {
      for (const a of attachments) {
        await attachFile(
          ctx,
          `${root}/messages/${seg(draft.body.id)}`,
          {
            name: a.name,
            contentType: a.contentType,
            size: a.bytes.length,
            isInline: a.isInline,
            contentId: a.contentId,
          },
          bufferSource(a.bytes),
        );
      }
    } catch (err) {
      await ctx
        .graph({ method: 'DELETE', url: `${root}/messages/${seg(draft.body.id)}` })
        .catch(() => undefined);
      throw err;
    }
    await ctx.graph({ method: 'POST', url: `${root}/messages/${seg(draft.body.id)}/send` });
    return deferred
      ? { sent: true as const, method: 'deferred' as const, messageId: draft.body.id, ...held(deferred) }
      : { sent: true as const, method: 'draft' as const, messageId: draft.body.id };
  },
  recover: async (input, ctx) => {
    const internetMessageId = keyedMessageId(ctx);
    // Without a copy in Sent Items there is nothing to find: the outcome cannot be told.
    if (!internetMessageId || input.saveToSentItems === false) return { status: 'unknown' };
    ctx.check.internetMessageId = internetMessageId;
    ctx.check.folder = 'sentitems';
    const sent = await findByInternetMessageId(ctx, input, 'sentitems', internetMessageId);
    if (!sent) {
      // Held for its undo window (or a draft whose send never happened): cannot be told apart here.
      const held = await findByInternetMessageId(ctx, input, 'drafts', internetMessageId);
      return held ? { status: 'unknown' as const } : { status: 'absent' as const };
    }
    ctx.targets.push(sent.id);
    return {
      status: 'done',
      output: { sent: true as const, method: 'recovered' as const, messageId: sent.id },
    };
  },
  mapError: mailError,
});

/** The message with this internetMessageId in a well-known folder, if any. */
async function findByInternetMessageId(
  ctx: ActionContext,
  input: { mailbox?: string | undefined },
  folder: 'sentitems' | 'drafts',
  internetMessageId: string,
): Promise<{ id: string } | undefined> {
  const found = await ctx.graph<{ value: Array<{ id: string }> }>({
    method: 'GET',
    url: `${mailRoot(input)}/mailFolders/${folder}/messages`,
    query: { $filter: `internetMessageId eq ${odataString(internetMessageId)}`, $select: 'id', $top: '1' },
  });
  return found.body.value[0];
}

function keyedMessageId(ctx: { idempotencyToken?: string }): string | undefined {
  return ctx.idempotencyToken ? `<${ctx.idempotencyToken}@idempotency.m365-integration>` : undefined;
}

const createDraftInput = z
  .object({
    ...messageFields,
    attachments: z.array(attachmentInput).max(50).optional().describe('Small files to attach (base64).'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-post-messages: 201 draft in Drafts.
defineAction({
  id: 'mail.createDraft',
  service: 'mail',
  summary: 'Create an email draft',
  description:
    'Saves a new draft in Drafts (recipients, subject, body, importance, reply-to, small base64 attachments). Returns the draft (id, subject, ...). Add files of any size with mail.addAttachment, change it with mail.updateDraft, send it with mail.sendDraft.',
  input: createDraftInput,
  output: MessageOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input) => {
    const attachments = decoded(input.attachments);
    return {
      method: 'POST',
      url: `${mailRoot(input)}/messages`,
      body: {
        ...graphMessage(input),
        ...(attachments.length ? { attachments: attachments.map(fileAttachment) } : {}),
      },
    };
  },
  fromGraph: (res, _input, ctx) => {
    const out = toMessage(res.body);
    ctx.targets.push(String(out.id));
    return out;
  },
  mapError: mailError,
});

const updateDraftInput = z
  .object({ id: idField('The draft message id.'), ...messageFields, mailbox: mailboxField })
  .strict();

// https://learn.microsoft.com/graph/api/message-update
defineAction({
  id: 'mail.updateDraft',
  service: 'mail',
  summary: 'Change an email draft',
  description:
    'Changes a draft: any of recipients, subject, body, importance, reply-to, from. Fields not given stay as they are (a list given replaces the old list). Returns the updated draft.',
  input: updateDraftInput,
  output: MessageOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: true,
  toGraph: (input) => {
    const body = graphMessage(input);
    if (Object.keys(body).length === 0) throw badField('(body)', 'give at least one field to change');
    return { method: 'PATCH', url: `${mailRoot(input)}/messages/${seg(input.id)}`, body };
  },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.id);
    return toMessage(res.body);
  },
  mapError: mailError,
});

const addAttachmentInput = z
  .object({
    messageId: idField('The draft message id.'),
    ...uploadFields,
    inline: z.enum(['true', 'false']).optional().describe('"true" for an inline (embedded) image.'),
    contentId: z.string().max(255).optional().describe('Content id for inline images.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/outlook-large-attachments
defineAction({
  id: 'mail.addAttachment',
  service: 'mail',
  summary: 'Attach a file of any size to a draft',
  description:
    'Attaches the raw request body (streamed, any size up to the organisation limit, 35 MB by default) to a draft. Parameters come from the query string: messageId, name, contentType, size (or Content-Length). Files under 3 MB go in one request, larger ones through an upload session in ranges under 4 MB. Returns {attachmentId, size, method}.',
  input: addAttachmentInput,
  output: AttachedOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: false,
  streamBody: true,
  successStatus: 201,
  run: async (input, ctx) => {
    ctx.targets.push(input.messageId);
    return await attachRequestBody(ctx, `${mailRoot(input)}/messages/${seg(input.messageId)}`, {
      name: input.name,
      contentType: input.contentType,
      size: input.size,
      isInline: input.inline === 'true',
      contentId: input.contentId,
    });
  },
  mapError: mailError,
});

const sendDraftInput = z
  .object({ id: idField('The draft message id.'), sendAt: sendAtField, mailbox: mailboxField })
  .strict();

// https://learn.microsoft.com/graph/api/message-send: 202, the draft moves to Sent Items.
defineAction({
  id: 'mail.sendDraft',
  service: 'mail',
  summary: 'Send an email draft',
  description:
    'Sends a draft (with its attachments) and moves it to Sent Items; with sendAt, at that time (until then mail.cancelSend stops it). Send an Idempotency-Key header so a retry never sends twice. Returns {sent: true, messageId}.',
  input: sendDraftInput,
  output: z.object({
    sent: z.literal(true),
    messageId: z.string(),
    undoUntil: undoUntilField,
    scheduledFor: scheduledForField,
  }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_SEND,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  guard: draftGuard,
  run: async (input, ctx) => {
    const url = `${mailRoot(input)}/messages/${seg(input.id)}`;
    ctx.targets.push(input.id);
    const deferred = deferral(ctx, input.sendAt);
    if (deferred) await ctx.graph({ method: 'PATCH', url, body: deferred.properties });
    await ctx.graph({ method: 'POST', url: `${url}/send` });
    return { sent: true, messageId: input.id, ...held(deferred) };
  },
  mapError: mailError,
});

const cancelSendInput = z
  .object({
    messageId: idField('The messageId a held send returned (one with undoUntil or scheduledFor).'),
    mailbox: mailboxField,
  })
  .strict();

/** Until when a held message waits (its PidTagDeferredSendTime), or undefined when it is not held. */
function heldUntil(message: { isDraft?: boolean; singleValueExtendedProperties?: Array<{ value: string }> }) {
  const value = message.singleValueExtendedProperties?.[0]?.value;
  return message.isDraft === true && value ? Date.parse(value) : undefined;
}

// https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get, message-delete
defineAction({
  id: 'mail.cancelSend',
  service: 'mail',
  summary: 'Cancel a send that is still waiting (undo window or scheduled)',
  description:
    'Stops a message that is waiting to go out (a send whose result had undoUntil or scheduledFor) before it does: the held message is deleted and nobody receives it. Answers 409 undo_window_passed once it has gone. Returns {cancelled: true, messageId}.',
  input: cancelSendInput,
  output: z.object({ cancelled: z.literal(true), messageId: z.string() }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: false,
  run: async (input, ctx) => {
    const url = `${mailRoot(input)}/messages/${seg(input.messageId)}`;
    ctx.targets.push(input.messageId);
    let message;
    try {
      message = await ctx.graph<{
        isDraft?: boolean;
        singleValueExtendedProperties?: Array<{ value: string }>;
      }>({
        method: 'GET',
        url,
        query: {
          $select: 'id,isDraft',
          $expand: `singleValueExtendedProperties($filter=id eq '${DEFERRED_SEND_TIME}')`,
        },
      });
    } catch (err) {
      // Once sent, the held draft has moved to Sent Items under a new id.
      if (err instanceof GraphError && err.isNotFound) throw undoWindowPassed();
      throw err;
    }
    const until = heldUntil(message.body);
    if (until === undefined) {
      if (message.body.isDraft !== true) throw undoWindowPassed();
      throw new Problem(
        'conflict',
        'This draft is not waiting to be sent (it was never sent with an undo window); delete it with mail.deleteMessage if it is not wanted.',
      );
    }
    if (until <= Date.now()) throw undoWindowPassed();
    try {
      await ctx.graph({ method: 'DELETE', url });
    } catch (err) {
      if (err instanceof GraphError && err.isNotFound) throw undoWindowPassed();
      throw err;
    }
    return { cancelled: true as const, messageId: input.messageId };
  },
  mapError: mailError,
});

/**
 * A reply or forward as a draft: create it (createReply / createReplyAll / createForward, with
 * the comment), change it (a full body, the deferred send time), send it. With only a comment and
 * no undo window Graph does it in one call instead.
 */
async function sendAsDraft(
  ctx: ActionContext,
  root: string,
  messageId: string,
  create: 'createReply' | 'createReplyAll' | 'createForward',
  createBody: Record<string, unknown>,
  patch: Record<string, unknown>,
): Promise<string> {
  const draft = await ctx.graph<{ id: string }>({
    method: 'POST',
    url: `${root}/messages/${seg(messageId)}/${create}`,
    body: createBody,
  });
  const url = `${root}/messages/${seg(draft.body.id)}`;
  if (Object.keys(patch).length) await ctx.graph({ method: 'PATCH', url, body: patch });
  await ctx.graph({ method: 'POST', url: `${url}/send` });
  return draft.body.id;
}

/** The text of a reply or forward: a comment above the quoted original, or a whole new body. */
function responseText(comment: string) {
  return {
    comment: z.string().max(900_000).optional().describe(comment),
    body: z
      .string()
      .max(900_000)
      .optional()
      .describe('A full body replacing the quoted original (instead of comment).'),
    bodyType: z.enum(['text', 'html']).optional().describe('Type of body (default text).'),
  };
}

/**
 * Sends a reply or forward of `input.messageId`: with a `body`, as a draft whose body is replaced
 * (`create`, see sendWithBody); with a comment, in one call (`direct`).
 */
async function respond(
  ctx: ActionContext,
  input: { messageId: string; comment?: string; body?: string; bodyType?: 'text' | 'html'; mailbox?: string },
  create: { action: 'createReply' | 'createReplyAll' | 'createForward'; body: Record<string, unknown> },
  direct: { action: 'reply' | 'replyAll' | 'forward'; body: Record<string, unknown> },
): Promise<{ sent: true; messageId?: string; undoUntil?: string }> {
  if (input.comment !== undefined && input.body !== undefined) {
    throw badField('body', 'give either comment or body, not both');
  }
  const root = mailRoot(input);
  ctx.targets.push(input.messageId);
  const deferred = deferral(ctx);
  if (input.body !== undefined || deferred) {
    // A full body, or an undo window (the held draft needs its deferred send time): as a draft.
    const createBody = input.comment !== undefined ? { ...create.body, comment: input.comment } : create.body;
    const patch = {
      ...(input.body !== undefined
        ? { body: { contentType: input.bodyType ?? 'text', content: input.body } }
        : {}),
      ...deferred?.properties,
    };
    const id = await sendAsDraft(ctx, root, input.messageId, create.action, createBody, patch);
    return { sent: true, messageId: id, ...held(deferred) };
  }
  await ctx.graph({
    method: 'POST',
    url: `${root}/messages/${seg(input.messageId)}/${direct.action}`,
    body: { comment: input.comment ?? '', ...direct.body },
  });
  return { sent: true };
}

const SentOut = z.object({
  sent: z.literal(true),
  messageId: z
    .string()
    .optional()
    .describe('The sent message, when a full body was given or it waits out an undo window.'),
  undoUntil: undoUntilField,
});

const replyInput = z
  .object({
    messageId: idField('The message to reply to.'),
    replyAll: z
      .boolean()
      .optional()
      .describe('Reply to the sender and all other recipients (default false).'),
    ...responseText('Text put above the quoted original.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/message-reply, message-replyall, message-createreply
defineAction({
  id: 'mail.replyToMessage',
  service: 'mail',
  summary: 'Reply or reply-all to an email',
  description:
    'Replies to a message (to its reply-to or sender; with replyAll also to the other recipients), keeping the conversation. Give comment to add text above the quoted original, or body to write the whole reply. Send an Idempotency-Key header so a retry never sends twice. Returns {sent: true}.',
  input: replyInput,
  output: SentOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_SEND,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  guard: replyGuard,
  run: async (input, ctx) =>
    await respond(
      ctx,
      input,
      { action: input.replyAll ? 'createReplyAll' : 'createReply', body: {} },
      { action: input.replyAll ? 'replyAll' : 'reply', body: {} },
    ),
  mapError: mailError,
});

const forwardInput = z
  .object({
    messageId: idField('The message to forward.'),
    to: z.array(addressField).min(1).max(500).describe('Recipients of the forward.'),
    cc: recipients('Carbon-copy recipients.'),
    ...responseText('Text put above the forwarded message.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/message-forward, message-createforward
defineAction({
  id: 'mail.forwardMessage',
  service: 'mail',
  summary: 'Forward an email',
  description:
    'Forwards a message with its attachments to new recipients, with a comment above it or a full replacement body. Send an Idempotency-Key header so a retry never sends twice. Returns {sent: true}.',
  input: forwardInput,
  output: SentOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_SEND,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  guard: forwardGuard,
  run: async (input, ctx) => {
    const to = toRecipients(input.to);
    const cc = input.cc?.length ? toRecipients(input.cc) : undefined;
    return await respond(
      ctx,
      input,
      {
        action: 'createForward',
        body: { message: { toRecipients: to, ...(cc ? { ccRecipients: cc } : {}) } },
      },
      { action: 'forward', body: { toRecipients: to, ...(cc ? { message: { ccRecipients: cc } } : {}) } },
    );
  },
  mapError: mailError,
});
