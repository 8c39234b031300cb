/**
 * Sending mail in the sandbox (graph-behaviour.md §8.1): `sendMail`, draft `send`, `reply`,
 * `replyAll`, `forward` (202 Accepted, empty body) and `createReply` / `createReplyAll` /
 * `createForward` (201 draft). A sent message is saved to the sender mailbox's Sent Items and
 * delivered to the Inbox of every recipient who is a sandbox user (bcc hidden from them).
 *
 * Send-as (https://learn.microsoft.com/graph/outlook-send-mail-from-other-user): a `from` other
 * than the signed-in user needs the Send As right on that mailbox (`from` = `sender` = it) or
 * Send on Behalf (`from` = it, `sender` = the signed-in user); otherwise 403 `ErrorSendAsDenied`
 * (microsoft-graph-docs-contrib#7401). Sending through `/users/{shared}/...` with only FullAccess
 * is refused the same way: FullAccess does not include Send As.
 */
import type { Sandbox } from '../../context';
import { empty } from '../../http';
import type { SandboxUser } from '../../state';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { badRequest, GraphHttpError } from '../errors';
import {
  attachmentsOf,
  DEFERRED_SEND_TIME,
  ensureMailbox,
  findMessage,
  htmlToText,
  invalidRecipients,
  limitedJson,
  mailState,
  messageInput,
  messageSize,
  messageTooLarge,
  moveMessage,
  newMessage,
  recipientFor,
  refs,
  renderMessage,
  str,
  webLink,
  wellKnownFolderId,
  type AttachmentMeta,
  type Recipient,
} from './model';
import { graphTimestamp, outlookId, type Entity } from '../store';
import { planDelivery, type ArrivingMessage, type DeliveryPlan } from '../mailbox/rules';
import { automaticReplyFor } from '../mailbox/settings';

const SEND = { scopes: { anyOf: ['Mail.Send'] } };
const WRITE = { scopes: { anyOf: ['Mail.ReadWrite'] } };

export function installMailSend(sandbox: Sandbox): void {
  // https://learn.microsoft.com/graph/api/user-sendmail: 202 Accepted with an empty body.
  graphRoute(sandbox, 'POST', '/me/sendMail', SEND, async (ctx) => {
    const owner = ctx.user as SandboxUser;
    ensureMailbox(sandbox, owner.id);
    const type = String(ctx.headers['content-type'] ?? '');
    if (/^text\/plain/i.test(type)) {
      const draft = mimeMessage(ctx, (await ctx.body()).toString('utf8'), owner);
      submit(ctx, owner, draft, { save: true });
      return empty(202);
    }
    const body = await limitedJson<{ message?: Record<string, unknown>; saveToSentItems?: unknown }>(ctx);
    if (!body.message || typeof body.message !== 'object') {
      throw badRequest('outlook', "The 'message' parameter is required.");
    }
    const { fields, attachments } = messageInput(body.message, sandbox);
    const draft = newMessage(
      sandbox,
      { ...fields, _attachments: attachments.map((a) => a.meta) },
      wellKnownFolderId(owner.id, 'sentitems'),
    );
    submit(ctx, owner, draft, { save: body.saveToSentItems !== false });
    return empty(202);
  });

  // https://learn.microsoft.com/graph/api/message-send: 202; the draft moves to Sent Items.
  graphRoute(sandbox, 'POST', '/me/messages/:id/send', SEND, (ctx) => {
    const owner = ctx.user as SandboxUser;
    const draft = findMessage(ctx, ctx.params.id!);
    if (draft.isDraft !== true) {
      throw new GraphHttpError(400, 'ErrorInvalidOperation', 'Only draft messages can be sent.');
    }
    submit(ctx, owner, draft, { save: true, draft });
    return empty(202);
  });

  for (const kind of ['reply', 'replyAll', 'forward'] as const) {
    // message-reply.md / message-replyall.md / message-forward.md: 202, saved in Sent Items.
    graphRoute(sandbox, 'POST', `/me/messages/:id/${kind}`, SEND, async (ctx) => {
      const owner = ctx.user as SandboxUser;
      const original = findMessage(ctx, ctx.params.id!);
      const draft = responseDraft(ctx, owner, original, kind, await limitedJson(ctx));
      submit(ctx, owner, draft, { save: true });
      return empty(202);
    });
    const create = `create${kind[0]!.toUpperCase()}${kind.slice(1)}`;
    // message-createreply.md etc.: 201 with the draft, saved in Drafts.
    graphRoute(sandbox, 'POST', `/me/messages/:id/${create}`, WRITE, async (ctx) => {
      const owner = ctx.user as SandboxUser;
      const original = findMessage(ctx, ctx.params.id!);
      const draft = responseDraft(ctx, owner, original, kind, await limitedJson(ctx));
      const created = ctx.graph.store.insert(refs(ctx.graph.store, owner.id).messages, draft);
      return entityResponse(ctx, renderMessage(ctx, created), {
        status: 201,
        context: `users('${owner.id}')/messages/$entity`,
      });
    });
  }
}

/** Who the message is from and who sent it, after the Send As / Send on Behalf checks. */
function resolveSender(
  ctx: GraphCtx,
  owner: SandboxUser,
  requested: Recipient | null | undefined,
): { from: Recipient; sender: Recipient } {
  const address = requested?.emailAddress.address ?? owner.mail;
  const fromUser = ctx.sandbox.directory.findUser(address);
  if (ctx.auth.appOnly) {
    // Application Mail.Send sends as any mailbox of the tenant (user-sendmail.md permissions).
    const r = fromUser ? recipientFor(fromUser) : (requested as Recipient);
    return { from: r, sender: r };
  }
  const caller = ctx.caller;
  if (caller && fromUser?.id === caller.id)
    return { from: recipientFor(caller), sender: recipientFor(caller) };
  const rights = fromUser && caller ? caller.mailboxRights[fromUser.id] : undefined;
  if (fromUser && rights?.sendAs) return { from: recipientFor(fromUser), sender: recipientFor(fromUser) };
  if (fromUser && caller && rights?.sendOnBehalf) {
    return { from: recipientFor(fromUser), sender: recipientFor(caller) };
  }
  throw new GraphHttpError(
    403,
    'ErrorSendAsDenied',
    'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account., Cannot submit message.',
  );
}

/**
 * Submits a message: sender checks, recipients, the tenant size limit; then delivery, now or, with
 * a future PidTagDeferredSendTime, at that time (see holdDeferred).
 */
function submit(
  ctx: GraphCtx,
  owner: SandboxUser,
  message: Record<string, unknown>,
  options: { save: boolean; draft?: Entity },
): void {
  const sandbox = ctx.sandbox;
  const { from, sender } = resolveSender(ctx, owner, message.from as Recipient | null);
  const to = (message.toRecipients ?? []) as Recipient[];
  const cc = (message.ccRecipients ?? []) as Recipient[];
  const bcc = (message.bccRecipients ?? []) as Recipient[];
  if (to.length + cc.length + bcc.length === 0) {
    throw invalidRecipients("A message can't be sent because it contains no recipients.");
  }
  const limit = mailState(sandbox).maxMessageSizeBytes;
  if (messageSize(message) > limit) throw messageTooLarge(limit);
  const submission: Submission = {
    ownerId: owner.id,
    from,
    sender,
    save: options.save,
    keepId: ctx.prefs.immutableId === true,
  };
  const deferred = deferredUntil(message);
  if (deferred !== undefined && deferred > sandbox.now()) {
    holdDeferred(ctx, owner, message, options.draft, submission, deferred);
    return;
  }
  deliver(sandbox, message, options.draft, submission);
}

/** What a submitted message needs to go out later: checked sender and where its copy goes. */
interface Submission {
  ownerId: string;
  from: Recipient;
  sender: Recipient;
  save: boolean;
  /** Prefer: IdType="ImmutableId" at submission: the sender's copy keeps its id. */
  keepId: boolean;
}

function deferredUntil(message: Record<string, unknown>): number | undefined {
  const value = (message._extended as Record<string, string> | undefined)?.[DEFERRED_SEND_TIME];
  return value === undefined ? undefined : Date.parse(value);
}

/**
 * Deferred send (PidTagDeferredSendTime, MS-OXOMSG 2.2.3.4; Exchange Online holds the submitted
 * message in Drafts until then, https://martin-machacek.com/blogPost/b5ff46f7-b864-4075-bbfd-c7ef82370ed1):
 * the message stays a draft in Drafts, marked submitted; at the time it goes out and moves to
 * Sent Items. Deleting it before then cancels the send. sendMail keeps its message in Drafts the
 * same way (so it can be found and cancelled too).
 */
function holdDeferred(
  ctx: GraphCtx,
  owner: SandboxUser,
  message: Record<string, unknown>,
  draft: Entity | undefined,
  submission: Submission,
  at: number,
): void {
  const store = ctx.graph.store;
  const { messages } = refs(store, owner.id);
  const drafts = wellKnownFolderId(owner.id, 'drafts');
  const held = { _deferred: { ...submission, at } };
  if (draft) {
    const target = draft.parentFolderId === drafts ? draft : moveMessage(ctx, owner.id, draft, drafts);
    store.update(messages, target.id, held);
  } else {
    const id = outlookId();
    store.insert(messages, {
      ...withoutVersion(message),
      id,
      webLink: webLink(id),
      parentFolderId: drafts,
      isDraft: true,
      ...held,
    });
  }
  scheduleDeferred(ctx.sandbox);
}

type Held = Submission & { at: number };

/** Sends every held message that is due; re-arms one timer for the next (and runs on clock advances). */
export function scheduleDeferred(sandbox: Sandbox): void {
  const state = mailState(sandbox) as { deferredTimer?: NodeJS.Timeout; deferredHooked?: boolean };
  if (!state.deferredHooked) {
    state.deferredHooked = true;
    sandbox.onClockAdvance(() => scheduleDeferred(sandbox));
  }
  if (state.deferredTimer) clearTimeout(state.deferredTimer);
  state.deferredTimer = undefined;
  const store = graphState(sandbox).store;
  const now = sandbox.now();
  let next = Infinity;
  for (const user of sandbox.directory.users.values()) {
    const { messages } = refs(store, user.id);
    for (const m of store.list(messages)) {
      const held = m._deferred as Held | undefined;
      if (!held) continue;
      // Deleted or moved out of Drafts before its time: cancelled.
      if (m.parentFolderId !== wellKnownFolderId(user.id, 'drafts')) {
        store.update(messages, m.id, { _deferred: undefined });
        continue;
      }
      if (held.at <= now) {
        const { _deferred: _held, ...message } = m;
        deliver(sandbox, message, m, held);
      } else next = Math.min(next, held.at);
    }
  }
  if (next !== Infinity) {
    // Real time runs on too: wake when the earliest is due (capped: the clock may be advanced).
    const timer = setTimeout(() => scheduleDeferred(sandbox), Math.min(Math.max(next - now, 10), 60_000));
    timer.unref?.();
    state.deferredTimer = timer;
  }
}

/** Delivery to sandbox recipients, then the sender's copy in Sent Items (a sent draft moves there). */
function deliver(
  sandbox: Sandbox,
  message: Record<string, unknown>,
  draft: Entity | undefined,
  submission: Submission,
): void {
  const store = graphState(sandbox).store;
  const { from, sender } = submission;
  const to = (message.toRecipients ?? []) as Recipient[];
  const cc = (message.ccRecipients ?? []) as Recipient[];
  const bcc = (message.bccRecipients ?? []) as Recipient[];
  const now = graphTimestamp(sandbox.now());
  const sent: Record<string, unknown> = {
    ...message,
    from,
    sender,
    isDraft: false,
    isRead: true,
    sentDateTime: now,
    receivedDateTime: now,
  };
  delete sent._deferred;
  const headers = [
    { name: 'From', value: formatAddress(from) },
    { name: 'To', value: to.map(formatAddress).join(', ') },
    ...(cc.length ? [{ name: 'CC', value: cc.map(formatAddress).join(', ') }] : []),
    { name: 'Subject', value: str(message.subject) },
    { name: 'Date', value: new Date(sandbox.now()).toUTCString() },
    { name: 'Message-ID', value: String(message.internetMessageId) },
    { name: 'MIME-Version', value: '1.0' },
    ...((message.internetMessageHeaders ?? []) as Array<{ name: string; value: string }>),
  ];

  const delivered = new Set<string>();
  for (const r of [...to, ...cc, ...bcc]) {
    const user = sandbox.directory.findUser(r.emailAddress.address);
    if (!user || delivered.has(user.id)) continue;
    delivered.add(user.id);
    ensureMailbox(sandbox, user.id);
    const arriving = arrivingMessage(sent, from, headers);
    // Inbox rules and Focused Inbox overrides decide where it lands (sandbox/graph/mailbox/rules.ts).
    const plan = planDelivery(
      store,
      user,
      wellKnownFolderId(user.id, 'inbox'),
      wellKnownFolderId(user.id, 'deleteditems'),
      arriving,
    );
    const { folders, messages } = refs(store, user.id);
    const inbox = wellKnownFolderId(user.id, 'inbox');
    const landing =
      plan.folderId && store.get(folders, plan.folderId) ? plan.folderId : plan.folderId && inbox;
    const copy = (folderId: string) => {
      const id = outlookId();
      store.insert(messages, {
        ...withoutVersion(sent),
        id,
        webLink: webLink(id),
        parentFolderId: folderId,
        isRead: false,
        // Recipients never see the bcc line.
        bccRecipients: [],
        categories: [],
        flag: { flagStatus: 'notFlagged' },
        internetMessageHeaders: headers,
        _attachments: cloneAttachments(attachmentsOf(sent as Entity)),
        ...plan.patch,
      });
    };
    if (landing) copy(landing);
    for (const folderId of plan.copyTo) if (store.get(folders, folderId)) copy(folderId);
    if (!arriving.ruleLoop) ruleForwards(sandbox, user, sent, plan);
    automaticReply(sandbox, user, arriving);
  }

  const ownerId = submission.ownerId;
  const { messages } = refs(store, ownerId);
  const sentItems = wellKnownFolderId(ownerId, 'sentitems');
  const sentFields = {
    from,
    sender,
    isDraft: false,
    isRead: true,
    sentDateTime: now,
    receivedDateTime: now,
    parentFolderId: sentItems,
    _deferred: undefined,
  };
  if (draft) {
    // A move gives a new id unless ImmutableId was asked for (moveMessage).
    if (submission.keepId) store.update(messages, draft.id, sentFields);
    else {
      store.remove(messages, draft.id);
      const copy: Record<string, unknown> = { ...draft, ...sentFields, id: outlookId() };
      delete copy.changeKey;
      delete copy['@odata.etag'];
      copy.webLink = webLink(String(copy.id));
      store.insert(messages, copy);
    }
  } else if (submission.save) {
    const id = outlookId();
    store.insert(messages, {
      ...withoutVersion(sent),
      id,
      webLink: webLink(id),
      parentFolderId: sentItems,
    });
  }
}

/** What Inbox rules look at in a message being delivered. */
function arrivingMessage(
  sent: Record<string, unknown>,
  from: Recipient,
  headers: Array<{ name: string; value: string }>,
): ArrivingMessage & { ruleLoop: boolean } {
  const addresses = (v: unknown) => ((v ?? []) as Recipient[]).map((r) => r.emailAddress.address);
  const body = sent.body as { contentType?: string; content?: string } | undefined;
  const header = (name: string) => headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
  const auto = header('Auto-Submitted');
  return {
    subject: str(sent.subject),
    body: body?.contentType === 'html' ? htmlToText(str(body.content)) : str(body?.content),
    from: from.emailAddress.address,
    fromName: from.emailAddress.name,
    to: addresses(sent.toRecipients),
    cc: addresses(sent.ccRecipients),
    importance: str(sent.importance, 'normal'),
    hasAttachments: attachmentsOf(sent as Entity).some((a) => !a.isInline),
    headers,
    autoSubmitted: auto !== undefined && auto.toLowerCase() !== 'no',
    ruleLoop: header(RULE_LOOP_HEADER) !== undefined,
  };
}

/** Exchange stamps mail its rules send on, and never runs forwarding rules on it again. */
const RULE_LOOP_HEADER = 'X-MS-Exchange-Inbox-Rules-Loop';

/** forwardTo / forwardAsAttachmentTo (a new message from the recipient) and redirectTo (as sent). */
function ruleForwards(
  sandbox: Sandbox,
  user: SandboxUser,
  sent: Record<string, unknown>,
  plan: DeliveryPlan,
): void {
  const me = recipientFor(user);
  const loop = { name: RULE_LOOP_HEADER, value: user.mail };
  const base = {
    ...withoutVersion(sent),
    bccRecipients: [],
    ccRecipients: [],
    _attachments: cloneAttachments(attachmentsOf(sent as Entity)),
  };
  const submission = (from: Recipient, sender: Recipient): Submission => ({
    ownerId: user.id,
    from,
    sender,
    save: false,
    keepId: false,
  });
  if (plan.forwardTo.length) {
    const forward = {
      ...base,
      subject: `FW: ${str(sent.subject)}`,
      toRecipients: plan.forwardTo,
      internetMessageId: `<${outlookId('fw')}@sandbox.local>`,
      internetMessageHeaders: [loop],
    };
    deliver(sandbox, forward, undefined, submission(me, me));
  }
  if (plan.redirectTo.length) {
    const original = sent.from as Recipient;
    const redirect = { ...base, toRecipients: plan.redirectTo, internetMessageHeaders: [loop] };
    deliver(sandbox, redirect, undefined, submission(original, me));
  }
}

/**
 * The recipient's automatic reply to the sender, if one is due (sandbox/graph/mailbox/settings.ts):
 * delivered to the sender when the sender is a sandbox mailbox; never kept in Sent Items.
 */
function automaticReply(sandbox: Sandbox, user: SandboxUser, m: ArrivingMessage): void {
  const reply = automaticReplyFor(sandbox, user, m.from, {
    subject: m.subject,
    autoSubmitted: m.autoSubmitted,
  });
  if (!reply) return;
  const me = recipientFor(user);
  const message = {
    subject: reply.subject,
    body: { contentType: 'html', content: reply.html },
    toRecipients: [{ emailAddress: { name: m.fromName, address: m.from } }],
    importance: 'normal',
    internetMessageId: `<${outlookId('oof')}@sandbox.local>`,
    // RFC 3834: automatic replies say so, and are not answered in turn.
    internetMessageHeaders: [{ name: 'Auto-Submitted', value: 'auto-replied' }],
  };
  deliver(sandbox, message, undefined, {
    ownerId: user.id,
    from: me,
    sender: me,
    save: false,
    keepId: false,
  });
}

function withoutVersion(m: Record<string, unknown>): Record<string, unknown> {
  const out = { ...m };
  for (const k of ['changeKey', '@odata.etag', 'createdDateTime', 'lastModifiedDateTime', 'webLink'])
    delete out[k];
  return out;
}

function cloneAttachments(list: AttachmentMeta[]): AttachmentMeta[] {
  return list.map((a) => ({ ...a, id: outlookId('AAMkAGAtt') }));
}

function formatAddress(r: Recipient): string {
  return r.emailAddress.name && r.emailAddress.name !== r.emailAddress.address
    ? `${r.emailAddress.name} <${r.emailAddress.address}>`
    : r.emailAddress.address;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The draft of a reply, reply-all or forward. Reply goes to `replyTo` when set, else `from`;
 * reply-all adds the other recipients (not the mailbox itself). `comment` and `message.body`
 * together → 400 (message-reply.md). Forwards carry the attachments.
 */
function responseDraft(
  ctx: GraphCtx,
  owner: SandboxUser,
  original: Entity,
  kind: 'reply' | 'replyAll' | 'forward',
  body: { comment?: unknown; message?: Record<string, unknown>; toRecipients?: unknown },
): Record<string, unknown> {
  const message = body.message ?? {};
  if (body.comment !== undefined && message.body !== undefined) {
    throw badRequest(
      'outlook',
      "Both 'comment' and the 'body' property of 'message' were specified; use one of them.",
    );
  }
  const forwardTo = body.toRecipients !== undefined ? { toRecipients: body.toRecipients } : {};
  const { fields, attachments } = messageInput({ ...forwardTo, ...message }, ctx.sandbox);
  const self = owner.mail.toLowerCase();
  const notSelf = (r: Recipient) => r.emailAddress.address.toLowerCase() !== self;
  const from = original.from as Recipient | null;
  let to: Recipient[] = [];
  let cc: Recipient[] = [];
  if (kind !== 'forward') {
    const replyTo = (original.replyTo ?? []) as Recipient[];
    to = replyTo.length ? replyTo : from ? [from] : [];
    if (kind === 'replyAll') {
      const seen = new Set<string>();
      to = [...to, ...((original.toRecipients ?? []) as Recipient[]).filter(notSelf)].filter((r) => {
        const k = r.emailAddress.address.toLowerCase();
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      cc = ((original.ccRecipients ?? []) as Recipient[]).filter(notSelf);
    }
  }
  const prefix = kind === 'forward' ? 'FW: ' : 'RE: ';
  const originalSubject = str(original.subject);
  const subject = originalSubject.toUpperCase().startsWith(prefix)
    ? originalSubject
    : prefix + originalSubject;
  const ob = (original.body ?? { contentType: 'text', content: '' }) as {
    contentType: string;
    content: string;
  };
  const quoted = ob.contentType === 'html' ? ob.content : escapeHtml(ob.content).replace(/\n/g, '<br>');
  const header = from
    ? `<b>From:</b> ${escapeHtml(formatAddress(from))}<br><b>Sent:</b> ${String(original.sentDateTime)}<br><b>Subject:</b> ${escapeHtml(originalSubject)}`
    : '';
  const comment = typeof body.comment === 'string' ? escapeHtml(body.comment).replace(/\n/g, '<br>') : '';
  return newMessage(
    ctx.sandbox,
    {
      subject,
      toRecipients: to,
      ccRecipients: cc,
      body: {
        contentType: 'html',
        content: `<html><body><div>${comment}</div><hr><div id="divRplyFwdMsg">${header}</div>${quoted}</body></html>`,
      },
      conversationId: original.conversationId,
      ...fields,
      _attachments: [
        ...(kind === 'forward' ? cloneAttachments(attachmentsOf(original)) : []),
        ...attachments.map((a) => a.meta),
      ],
    },
    wellKnownFolderId(owner.id, 'drafts'),
  );
}

/**
 * sendMail with a base64 MIME body (Content-Type: text/plain). Only the headers the sandbox
 * needs are read; a body that isn't base64 answers 400 ErrorMimeContentInvalidBase64String
 * (user-sendmail.md).
 */
function mimeMessage(ctx: GraphCtx, text: string, owner: SandboxUser): Record<string, unknown> {
  const compact = text.replace(/\s+/g, '');
  if (!compact || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new GraphHttpError(
      400,
      'ErrorMimeContentInvalidBase64String',
      'Invalid base64 string for MIME content.',
    );
  }
  const mime = Buffer.from(compact, 'base64').toString('utf8');
  const [head = '', ...rest] = mime.split(/\r?\n\r?\n/);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  const list = (h: string): Recipient[] =>
    (headers.get(h) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const m = /<([^>]+)>/.exec(s);
        const address = (m?.[1] ?? s).trim();
        return { emailAddress: { address, name: address } };
      });
  const html = /text\/html/i.test(headers.get('content-type') ?? '');
  const content = rest.join('\n\n');
  const fromList = list('from');
  return newMessage(
    ctx.sandbox,
    {
      subject: headers.get('subject') ?? '',
      toRecipients: list('to'),
      ccRecipients: list('cc'),
      bccRecipients: list('bcc'),
      ...(fromList[0] ? { from: fromList[0] } : {}),
      body: { contentType: html ? 'html' : 'text', content: html ? content : htmlToText(content) },
    },
    wellKnownFolderId(owner.id, 'sentitems'),
  );
}
