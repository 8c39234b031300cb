/**
 * The mailbox model behind the sandbox's Outlook mail endpoints (mail.ts): well-known folders,
 * messages with their attachments, rendering a stored message the way Graph returns it, and
 * moving items between folders with Outlook's id rules. Reference: graph-behaviour.md §8.1.
 *
 * Storage: every message of a user lives in the store collection `messages` (with
 * `parentFolderId`), folders in `mailFolders`. Message delta is per folder (§5.2), so each
 * change to `messages` is mirrored into `messages:{folderId}`; delta reads the mirror, which makes
 * a move show up as `@removed` in the source folder and as a new item in the destination.
 * Attachment bytes stay out of the store (module state, by blob key); messages carry only the
 * metadata in the hidden `_attachments` field. Fields starting with `_` are never rendered.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import { persisted } from '../../persist';
import type { SandboxUser } from '../../state';
import { graphState, type GraphCtx } from '../core';
import { GraphHttpError, notFound } from '../errors';
import { parseSelect } from '../odata';
import { graphTimestamp, outlookId, type ChangeStore, type CollectionRef, type Entity } from '../store';

export const MESSAGES = 'messages';
export const MAIL_FOLDERS = 'mailFolders';
/** The per-folder mirror message delta reads (`messages:{folderId}`). */
export const folderDeltaCollection = (folderId: string): string => `${MESSAGES}:${folderId}`;

/**
 * "Use this approach to attach a file if the file size is between 3 MB and 150 MB"
 * (attachment-createuploadsession.md). Read as decimal megabytes: base64 of anything smaller fits
 * a JSON POST under the 4 MB request limit, so no file size falls between the two ways.
 */
export const UPLOAD_SESSION_MIN_BYTES = 3_000_000;
/** Graph's request size limit: JSON bodies and each upload PUT ("up to 4 MB each time"). */
export const REQUEST_LIMIT_BYTES = 4 * 1024 * 1024;
/** Exchange Online's default message size limit, 35 MB (attachment-createuploadsession.md tip). */
export const DEFAULT_MAX_MESSAGE_BYTES = 35 * 1024 * 1024;

export interface AttachmentMeta {
  id: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  lastModifiedDateTime: string;
  blob: string;
}

export interface UploadSession {
  id: string;
  token: string;
  userId: string;
  /** The item the attachment goes to: a message or an event (attachments.ts). */
  host: 'messages' | 'events';
  itemId: string;
  name: string;
  contentType: string;
  size: number;
  isInline: boolean;
  contentId: string | null;
  chunks: Buffer[];
  received: number;
  expiresAt: number;
}

export interface MailModule {
  /** Tenant message size limit (bytes); PUT /_sandbox/mail/settings changes it. */
  maxMessageSizeBytes: number;
  blobs: Map<string, Buffer>;
  sessions: Map<string, UploadSession>;
  /** `${userId}/${messageId}` → folder whose mirror holds the message. */
  mirrorFolder: Map<string, string>;
  mirrorInstalled: boolean;
}

export function mailState(sandbox: Sandbox): MailModule {
  let state = sandbox.modules.mail as MailModule | undefined;
  if (!state) {
    state = {
      maxMessageSizeBytes: DEFAULT_MAX_MESSAGE_BYTES,
      blobs: new Map(),
      sessions: new Map(),
      mirrorFolder: new Map(),
      mirrorInstalled: false,
    };
    sandbox.modules.mail = state;
    // Attachment upload sessions in progress are not kept across restarts.
    const s = state;
    const saved = persisted(sandbox, 'mail', () => ({
      maxMessageSizeBytes: s.maxMessageSizeBytes,
      blobs: s.blobs,
      mirrorFolder: s.mirrorFolder,
    }));
    if (saved) Object.assign(state, saved);
  }
  return state;
}

// ---------------------------------------------------------------- folders

/**
 * Well-known folder names usable in place of ids (https://learn.microsoft.com/graph/api/resources/mailfolder).
 * `msgfolderroot` is the parent of the top-level folders; Recoverable Items sits outside it.
 */
const WELL_KNOWN: Array<{ name: string; displayName: string; parent: string | null; hidden?: boolean }> = [
  { name: 'msgfolderroot', displayName: 'Top of Information Store', parent: null },
  { name: 'inbox', displayName: 'Inbox', parent: 'msgfolderroot' },
  { name: 'drafts', displayName: 'Drafts', parent: 'msgfolderroot' },
  { name: 'sentitems', displayName: 'Sent Items', parent: 'msgfolderroot' },
  { name: 'deleteditems', displayName: 'Deleted Items', parent: 'msgfolderroot' },
  { name: 'junkemail', displayName: 'Junk Email', parent: 'msgfolderroot' },
  { name: 'archive', displayName: 'Archive', parent: 'msgfolderroot' },
  { name: 'outbox', displayName: 'Outbox', parent: 'msgfolderroot' },
  { name: 'conversationhistory', displayName: 'Conversation History', parent: 'msgfolderroot' },
  { name: 'recoverableitemsdeletions', displayName: 'Deletions', parent: null, hidden: true },
];

/** Deterministic, Outlook-looking ids (seeds and well-known folders survive restarts). */
export function stableOutlookId(...parts: string[]): string {
  return 'AAMkAG' + createHash('sha256').update(parts.join('\u0000')).digest('base64url') + 'AAA';
}

export function refs(
  store: ChangeStore,
  userId: string,
): { messages: CollectionRef; folders: CollectionRef } {
  return { messages: store.collection(userId, MESSAGES), folders: store.collection(userId, MAIL_FOLDERS) };
}

/** Creates the user's well-known folders on first use and hooks the per-folder delta mirror. */
export function ensureMailbox(sandbox: Sandbox, userId: string): void {
  installMirror(sandbox);
  const store = graphState(sandbox).store;
  const { folders } = refs(store, userId);
  if (store.get(folders, stableOutlookId(userId, 'folder', 'inbox'))) return;
  for (const wk of WELL_KNOWN) {
    const id = stableOutlookId(userId, 'folder', wk.name);
    if (store.get(folders, id)) continue;
    store.insert(folders, {
      id,
      displayName: wk.displayName,
      parentFolderId: wk.parent
        ? stableOutlookId(userId, 'folder', wk.parent)
        : stableOutlookId(userId, 'root'),
      isHidden: wk.hidden ?? false,
      _wellKnownName: wk.name,
    });
  }
}

export function wellKnownFolderId(userId: string, name: string): string {
  return stableOutlookId(userId, 'folder', name);
}

/** A folder by id or well-known name (case-insensitive); 404 ErrorItemNotFound otherwise. */
export function resolveFolder(ctx: GraphCtx, idOrName: string): Entity {
  const user = ctx.user as SandboxUser;
  ensureMailbox(ctx.sandbox, user.id);
  const store = ctx.graph.store;
  const { folders } = refs(store, user.id);
  const byId = store.get(folders, idOrName);
  if (byId) return byId;
  const wk = WELL_KNOWN.find((w) => w.name === idOrName.toLowerCase());
  const byName = wk ? store.get(folders, wellKnownFolderId(user.id, wk.name)) : undefined;
  if (byName) return byName;
  throw notFound('outlook');
}

export function renderFolder(store: ChangeStore, userId: string, folder: Entity): Record<string, unknown> {
  const { messages, folders } = refs(store, userId);
  const inFolder = store.list(messages).filter((m) => m.parentFolderId === folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: store.list(folders).filter((f) => f.parentFolderId === folder.id).length,
    unreadItemCount: inFolder.filter((m) => m.isRead === false).length,
    totalItemCount: inFolder.length,
    isHidden: folder.isHidden ?? false,
  };
}

// ---------------------------------------------------------------- per-folder delta mirror

export function installMirror(sandbox: Sandbox): void {
  const mail = mailState(sandbox);
  if (mail.mirrorInstalled) return;
  mail.mirrorInstalled = true;
  const store = graphState(sandbox).store;
  store.onChange((change) => {
    if (change.collection !== MESSAGES) return;
    const key = `${change.userId}/${change.id}`;
    const previous = mail.mirrorFolder.get(key);
    const folder = typeof change.item.parentFolderId === 'string' ? change.item.parentFolderId : undefined;
    if (previous && (change.type === 'deleted' || previous !== folder)) {
      store.remove(store.collection(change.userId, folderDeltaCollection(previous)), change.id);
      mail.mirrorFolder.delete(key);
    }
    if (change.type === 'deleted' || !folder) return;
    const mirror = store.collection(change.userId, folderDeltaCollection(folder));
    const copy = { ...change.item };
    if (mail.mirrorFolder.get(key) === folder) store.update(mirror, change.id, () => copy);
    else {
      store.insert(mirror, copy);
      mail.mirrorFolder.set(key, folder);
    }
  });
}

// ---------------------------------------------------------------- messages

export type Recipient = { emailAddress: { name: string; address: string } };

export function recipientFor(user: SandboxUser): Recipient {
  return { emailAddress: { name: user.displayName, address: user.mail } };
}

/** Message properties a client may write (message.md); anything else answers 400 like Graph's OData reader. */
export const WRITABLE = new Set([
  '@odata.type',
  'subject',
  'body',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'from',
  'sender',
  'importance',
  'categories',
  'flag',
  'isRead',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
  'internetMessageHeaders',
  'inferenceClassification',
  'attachments',
  'internetMessageId',
  'singleValueExtendedProperties',
]);

/** Writable only while the message is a draft (message-update.md). */
export const DRAFT_ONLY = new Set([
  'subject',
  'body',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'from',
  'sender',
  'internetMessageHeaders',
  'internetMessageId',
  'isDeliveryReceiptRequested',
  'isReadReceiptRequested',
]);

/** A property value as text (strings as they are, numbers and booleans printed, anything else empty). */
export function str(v: unknown, fallback = ''): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return fallback;
}

function requestBodyRead(message: string): GraphHttpError {
  return new GraphHttpError(400, 'RequestBodyRead', message);
}

export function invalidRecipients(detail: string): GraphHttpError {
  return new GraphHttpError(400, 'ErrorInvalidRecipients', `At least one recipient is not valid., ${detail}`);
}

function recipientList(value: unknown, field: string): Recipient[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw requestBodyRead(`Property '${field}' must be a collection of recipients.`);
  return value.map((r) => normaliseRecipient(r, field));
}

function normaliseRecipient(value: unknown, field: string): Recipient {
  const address = (value as { emailAddress?: { address?: unknown; name?: unknown } })?.emailAddress?.address;
  const name = (value as { emailAddress?: { name?: unknown } })?.emailAddress?.name;
  if (typeof address !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(address.trim())) {
    throw invalidRecipients(`Recipient '${String(address)}' in '${field}' is not resolved.`);
  }
  return {
    emailAddress: { address: address.trim(), name: typeof name === 'string' ? name : address.trim() },
  };
}

/** Validates and normalises the writable properties of a message body (create, update, sendMail). */
export function messageInput(
  body: Record<string, unknown>,
  sandbox: Sandbox,
): { fields: Record<string, unknown>; attachments: Array<{ meta: AttachmentMeta; bytes: Buffer }> } {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw requestBodyRead('A message object is required.');
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(body)) {
    if (!WRITABLE.has(key)) {
      throw requestBodyRead(`The property '${key}' does not exist on type 'microsoft.graph.message'.`);
    }
  }
  if (body.subject !== undefined) fields.subject = str(body.subject);
  if (body.body !== undefined) {
    const b = body.body as { contentType?: unknown; content?: unknown };
    const type = str(b?.contentType, 'text').toLowerCase();
    if (type !== 'text' && type !== 'html') {
      throw requestBodyRead(
        `Cannot convert the literal '${str(b?.contentType)}' to the expected type 'microsoft.graph.bodyType'.`,
      );
    }
    fields.body = { contentType: type, content: str(b?.content) };
  }
  for (const f of ['toRecipients', 'ccRecipients', 'bccRecipients', 'replyTo']) {
    if (body[f] !== undefined)
      fields[f] = recipientList(body[f], f).map((r) => withDirectoryName(sandbox, r));
  }
  for (const f of ['from', 'sender']) {
    if (body[f] !== undefined && body[f] !== null)
      fields[f] = withDirectoryName(sandbox, normaliseRecipient(body[f], f));
  }
  if (body.importance !== undefined) {
    const v = str(body.importance).toLowerCase();
    if (!['low', 'normal', 'high'].includes(v)) {
      throw requestBodyRead(
        `Cannot convert the literal '${str(body.importance)}' to the expected type 'microsoft.graph.importance'.`,
      );
    }
    fields.importance = v;
  }
  if (body.categories !== undefined) {
    if (!Array.isArray(body.categories) || body.categories.some((c) => typeof c !== 'string')) {
      throw requestBodyRead("Property 'categories' must be a collection of strings.");
    }
    fields.categories = body.categories;
  }
  if (body.flag !== undefined) {
    const flag = (body.flag ?? {}) as Record<string, unknown>;
    const status = str(flag.flagStatus, 'notFlagged');
    if (!['notFlagged', 'flagged', 'complete'].includes(status)) {
      throw requestBodyRead(
        `Cannot convert the literal '${status}' to the expected type 'microsoft.graph.followupFlagStatus'.`,
      );
    }
    fields.flag = { ...flag, flagStatus: status };
  }
  for (const f of ['isRead', 'isDeliveryReceiptRequested', 'isReadReceiptRequested']) {
    if (body[f] !== undefined) {
      if (typeof body[f] !== 'boolean') throw requestBodyRead(`Property '${f}' must be a boolean.`);
      fields[f] = body[f];
    }
  }
  if (body.inferenceClassification !== undefined)
    fields.inferenceClassification = body.inferenceClassification;
  // Writable while the message is a draft (message-update.md), so on create and in sendMail.
  if (body.internetMessageId !== undefined) {
    if (typeof body.internetMessageId !== 'string' || !/^<[^<>\s]+@[^<>\s]+>$/.test(body.internetMessageId)) {
      throw requestBodyRead("Property 'internetMessageId' must be an RFC 5322 message id such as <id@host>.");
    }
    fields.internetMessageId = body.internetMessageId;
  }
  if (body.internetMessageHeaders !== undefined) {
    const headers = body.internetMessageHeaders as Array<{ name?: unknown; value?: unknown }>;
    if (!Array.isArray(headers))
      throw requestBodyRead("Property 'internetMessageHeaders' must be a collection.");
    for (const h of headers) {
      // Custom headers must start with x- (user-sendmail.md, "internetMessageHeaders").
      if (typeof h?.name !== 'string' || !/^x-/i.test(h.name)) {
        throw new GraphHttpError(
          400,
          'InvalidInternetMessageHeader',
          `The internet message header name '${String(h?.name)}' should start with 'x-' or 'X-'.`,
        );
      }
    }
    fields.internetMessageHeaders = headers.map((h) => ({
      name: String(h.name),
      value: str(h.value),
    }));
  }
  if (body.singleValueExtendedProperties !== undefined)
    fields._extended = extendedProperties(body.singleValueExtendedProperties);
  const attachments = Array.isArray(body.attachments)
    ? body.attachments.map((a) => fileAttachmentInput(a as Record<string, unknown>, sandbox))
    : [];
  return { fields, attachments };
}

/**
 * Single-value extended properties (https://learn.microsoft.com/graph/api/resources/extended-properties-overview):
 * `{id: "{type} {proptag}" | "{type} {guid} Name {name}" | "{type} {guid} Id {id}", value}`, kept
 * under their lower-cased id. Values are strings on the wire; SystemTime must be ISO 8601.
 */
const EXTENDED_ID =
  /^(binary|boolean|clsid|currency|double|float|integer|long|short|string|systemtime|applicationtime|object) (0x[0-9a-f]{1,4}|\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\} (name \S.*|id 0x[0-9a-f]{1,4}))$/i;

function extendedProperties(raw: unknown): Record<string, string> {
  if (!Array.isArray(raw))
    throw requestBodyRead("Property 'singleValueExtendedProperties' must be a collection.");
  const out: Record<string, string> = {};
  for (const p of raw as Array<{ id?: unknown; value?: unknown }>) {
    const id = typeof p?.id === 'string' ? p.id.trim() : '';
    if (!EXTENDED_ID.test(id)) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidProperty',
        `The extended property id '${String(p?.id)}' is not valid.`,
      );
    }
    if (typeof p.value !== 'string') throw requestBodyRead('An extended property value must be a string.');
    if (/^systemtime /i.test(id) && Number.isNaN(Date.parse(p.value))) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidProperty',
        `The value '${p.value}' of '${id}' is not a valid date and time.`,
      );
    }
    out[id.toLowerCase()] = p.value;
  }
  return out;
}

/** PidTagDeferredSendTime (MS-OXOMSG 2.2.3.4): when set in the future, a sent message waits until then. */
export const DEFERRED_SEND_TIME = 'systemtime 0x3fef';

function withDirectoryName(sandbox: Sandbox, r: Recipient): Recipient {
  const user = sandbox.directory.findUser(r.emailAddress.address);
  if (!user || r.emailAddress.name !== r.emailAddress.address) return r;
  return { emailAddress: { address: r.emailAddress.address, name: user.displayName } };
}

/** A `#microsoft.graph.fileAttachment` from a request body (message-post-attachments.md). */
export function fileAttachmentInput(
  a: Record<string, unknown>,
  sandbox: Sandbox,
): { meta: AttachmentMeta; bytes: Buffer } {
  const type = str(a?.['@odata.type']);
  if (type.toLowerCase() !== '#microsoft.graph.fileattachment') {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      "Only '#microsoft.graph.fileAttachment' attachments are supported by the sandbox; '@odata.type' is required.",
    );
  }
  if (typeof a.name !== 'string' || !a.name)
    throw requestBodyRead("The attachment property 'name' is required.");
  const b64 = a.contentBytes;
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/\r\n]*={0,2}$/.test(b64)) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      'Invalid base64 string for attachment contentBytes.',
    );
  }
  const bytes = Buffer.from(b64, 'base64');
  return {
    meta: storeBlob(sandbox, a.name, str(a.contentType, 'application/octet-stream'), bytes, a),
    bytes,
  };
}

export function storeBlob(
  sandbox: Sandbox,
  name: string,
  contentType: string,
  bytes: Buffer,
  extra: { isInline?: unknown; contentId?: unknown } = {},
): AttachmentMeta {
  const blob = randomBytes(12).toString('hex');
  mailState(sandbox).blobs.set(blob, bytes);
  return {
    id: outlookId('AAMkAGAtt'),
    name,
    contentType,
    size: bytes.length,
    isInline: extra.isInline === true,
    contentId: typeof extra.contentId === 'string' ? extra.contentId : null,
    lastModifiedDateTime: graphTimestamp(sandbox.now()),
    blob,
  };
}

export function attachmentsOf(m: Entity): AttachmentMeta[] {
  return Array.isArray(m._attachments) ? (m._attachments as AttachmentMeta[]) : [];
}

/** Fields derived from others, recomputed on every write so $filter sees them. */
export function derived(m: Record<string, unknown>): Record<string, unknown> {
  const body = (m.body ?? { contentType: 'text', content: '' }) as { contentType: string; content: string };
  const text = body.contentType === 'html' ? htmlToText(body.content) : body.content;
  const atts = Array.isArray(m._attachments) ? (m._attachments as AttachmentMeta[]) : [];
  return {
    bodyPreview: text.replace(/\s+/g, ' ').trim().slice(0, 255),
    // hasAttachments ignores inline attachments (message.md).
    hasAttachments: atts.some((a) => !a.isInline),
  };
}

export function webLink(id: string): string {
  return `https://outlook.office365.com/owa/?ItemID=${encodeURIComponent(id)}&exvsurl=1&viewmodel=ReadMessageItem`;
}

/** A complete message with Graph's default values (message.md), ready to insert. */
export function newMessage(
  sandbox: Sandbox,
  fields: Record<string, unknown>,
  folderId: string,
): Record<string, unknown> {
  const now = graphTimestamp(sandbox.now());
  const m: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.message',
    id: outlookId(),
    receivedDateTime: now,
    sentDateTime: now,
    internetMessageId: `<${randomBytes(10).toString('hex').toUpperCase()}@SANDBOX.prod.outlook.com>`,
    subject: '',
    importance: 'normal',
    parentFolderId: folderId,
    conversationId: outlookId('AAQkAG'),
    conversationIndex: randomBytes(22).toString('base64'),
    isDeliveryReceiptRequested: false,
    isReadReceiptRequested: false,
    isRead: true,
    isDraft: true,
    inferenceClassification: 'focused',
    body: { contentType: 'text', content: '' },
    sender: null,
    from: null,
    toRecipients: [],
    ccRecipients: [],
    bccRecipients: [],
    replyTo: [],
    categories: [],
    flag: { flagStatus: 'notFlagged' },
    internetMessageHeaders: [],
    _attachments: [],
    ...fields,
  };
  m.webLink = webLink(String(m.id));
  return { ...m, ...derived(m) };
}

// ---------------------------------------------------------------- rendering

export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/(p|div|tr|h\d)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export function textToHtml(text: string): string {
  const escaped = text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r?\n/g, '<br>\r\n');
  return `<html><head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div>${escaped}</div></body></html>`;
}

/** The select list of this request, if any. */
export function requestSelect(ctx: GraphCtx): string[] | undefined {
  for (const [k, v] of ctx.query) if (k.toLowerCase() === '$select') return parseSelect(v, 'outlook');
  return undefined;
}

/** `$expand=attachments` or `$expand=attachments($select=a,b)`; undefined when not asked. */
export function expandAttachments(ctx: GraphCtx): { select?: string[] } | undefined {
  let text: string | undefined;
  for (const [k, v] of ctx.query) if (k.toLowerCase() === '$expand') text = v;
  if (text === undefined || expandExtended(ctx)) return undefined;
  const m = /^\s*attachments\s*(?:\(\s*\$select\s*=\s*([^)]*)\))?\s*$/i.exec(text);
  if (!m) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidUrlQuery',
      `The expand expression '${text}' is not supported.`,
    );
  }
  return m[1] ? { select: parseSelect(m[1], 'outlook') } : {};
}

/**
 * `$expand=singleValueExtendedProperties($filter=id eq '{id}')`
 * (https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get): the ids asked for.
 */
export function expandExtended(ctx: GraphCtx): string[] | undefined {
  let text: string | undefined;
  for (const [k, v] of ctx.query) if (k.toLowerCase() === '$expand') text = v;
  const m =
    text === undefined
      ? null
      : /^\s*singleValueExtendedProperties\s*\(\s*\$filter\s*=\s*(.*)\)\s*$/i.exec(text);
  if (!m) return undefined;
  const ids = [...m[1]!.matchAll(/id\s+eq\s+'([^']*)'/gi)].map((x) => x[1]!);
  if (!ids.length) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidUrlQuery',
      `The expand expression '${text}' is not supported.`,
    );
  }
  return ids;
}

export function renderAttachment(
  sandbox: Sandbox,
  a: AttachmentMeta,
  options: { withContent: boolean; select?: string[] },
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': a.contentType,
    id: a.id,
    lastModifiedDateTime: a.lastModifiedDateTime,
    name: a.name,
    contentType: a.contentType,
    size: a.size,
    isInline: a.isInline,
    contentId: a.contentId,
    contentLocation: null,
  };
  if (
    options.withContent &&
    (!options.select || options.select.some((s) => s.toLowerCase() === 'contentbytes'))
  ) {
    out.contentBytes = (mailState(sandbox).blobs.get(a.blob) ?? Buffer.alloc(0)).toString('base64');
  }
  if (!options.select) return out;
  const wanted = new Set(options.select.map((s) => s.toLowerCase()));
  return Object.fromEntries(
    Object.entries(out).filter(([k]) => k === 'id' || k.startsWith('@odata.') || wanted.has(k.toLowerCase())),
  );
}

/**
 * A stored message as Graph returns it: hidden fields dropped; `uniqueBody` and
 * `internetMessageHeaders` only when `$select`ed (message.md); the body in the format of
 * `Prefer: outlook.body-content-type` (HTML by default), scripts stripped unless
 * `Prefer: outlook.allow-unsafe-html`; attachments when `$expand`ed.
 */
export function renderMessage(ctx: GraphCtx, m: Entity): Record<string, unknown> {
  const select = requestSelect(ctx)?.map((s) => s.toLowerCase());
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (!k.startsWith('_')) out[k] = v;
  const body = renderBody(ctx, m.body as { contentType: string; content: string } | undefined);
  out.body = body;
  if (select?.includes('uniquebody')) out.uniqueBody = body;
  if (!select?.includes('internetmessageheaders')) delete out.internetMessageHeaders;
  const extended = expandExtended(ctx);
  if (extended) {
    const stored = (m._extended ?? {}) as Record<string, string>;
    const found = extended.filter((id) => stored[id.toLowerCase()] !== undefined);
    // Only the properties that exist come back (none: the property is left out).
    if (found.length)
      out.singleValueExtendedProperties = found.map((id) => ({ id, value: stored[id.toLowerCase()] }));
  }
  const expand = expandAttachments(ctx);
  if (expand) {
    out.attachments = attachmentsOf(m).map((a) =>
      renderAttachment(ctx.sandbox, a, {
        withContent: true,
        ...(expand.select ? { select: expand.select } : {}),
      }),
    );
  }
  return out;
}

function renderBody(
  ctx: GraphCtx,
  body: { contentType: string; content: string } | undefined,
): { contentType: string; content: string } {
  const b = body ?? { contentType: 'text', content: '' };
  const wanted = ctx.prefs.bodyContentType ?? 'html';
  let content = b.content;
  if (wanted === 'text' && b.contentType === 'html') content = htmlToText(content);
  else if (wanted === 'html' && b.contentType === 'text') content = textToHtml(content);
  if (wanted === 'html' && !ctx.prefs.allowUnsafeHtml) {
    content = content.replace(/<script[^>]*>[\s\S]*?<\/script>/gi, '').replace(/\son\w+="[^"]*"/gi, '');
  }
  return { contentType: wanted, content };
}

// ---------------------------------------------------------------- moves

/**
 * Moves a message to a folder. Without `Prefer: IdType="ImmutableId"` the id changes: "creates a
 * new copy ... and removes the original" (message-move.md); with it the id survives
 * (https://learn.microsoft.com/graph/outlook-immutable-id). The same collection holds both, so
 * the store's `update` (immutable) or `remove` + `insert` (new id) tell the delta mirror.
 */
export function moveMessage(
  ctx: GraphCtx,
  userId: string,
  message: Entity,
  folderId: string,
  patch: Record<string, unknown> = {},
): Entity {
  const store = ctx.graph.store;
  const { messages } = refs(store, userId);
  if (ctx.prefs.immutableId) {
    return store.update(messages, message.id, { ...patch, parentFolderId: folderId }) as Entity;
  }
  store.remove(messages, message.id);
  const copy: Record<string, unknown> = { ...message, ...patch, parentFolderId: folderId };
  delete copy.changeKey;
  delete copy['@odata.etag'];
  copy.id = outlookId();
  copy.webLink = webLink(String(copy.id));
  return store.insert(messages, copy);
}

/** A copy gets a new id in any case, with its own attachment ids (same bytes). */
export function copyMessage(ctx: GraphCtx, userId: string, message: Entity, folderId: string): Entity {
  const store = ctx.graph.store;
  const { messages } = refs(store, userId);
  const copy: Record<string, unknown> = {
    ...message,
    parentFolderId: folderId,
    _attachments: attachmentsOf(message).map((a) => ({ ...a, id: outlookId('AAMkAGAtt') })),
  };
  for (const k of ['changeKey', '@odata.etag', 'createdDateTime', 'lastModifiedDateTime']) delete copy[k];
  copy.id = outlookId();
  copy.webLink = webLink(String(copy.id));
  return store.insert(messages, copy);
}

/** The message by id in the path user's mailbox (optionally within a folder); 404 otherwise. */
export function findMessage(ctx: GraphCtx, id: string, folderId?: string): Entity {
  const user = ctx.user as SandboxUser;
  ensureMailbox(ctx.sandbox, user.id);
  const store = ctx.graph.store;
  const m = store.get(refs(store, user.id).messages, id);
  if (!m) throw notFound('outlook');
  if (folderId !== undefined && m.parentFolderId !== resolveFolder(ctx, folderId).id)
    throw notFound('outlook');
  return m;
}

/** Reads a JSON body within Graph's 4 MB request limit (413 above it; reference §8.1, peers item 8). */
export async function limitedJson<T>(ctx: GraphCtx): Promise<T> {
  const declared = Number(ctx.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > REQUEST_LIMIT_BYTES) throw requestTooLarge();
  const buf = await ctx.body();
  if (buf.length > REQUEST_LIMIT_BYTES) throw requestTooLarge();
  if (buf.length === 0) return {} as T;
  return JSON.parse(buf.toString('utf8')) as T;
}

export function requestTooLarge(): GraphHttpError {
  // https://github.com/microsoftgraph/microsoft-graph-docs/issues/4370 (413 on sendMail over 4 MB).
  return new GraphHttpError(413, 'RequestEntityTooLarge', 'The maximum request length supported is 4MB.');
}

export function messageTooLarge(limit: number): GraphHttpError {
  // microsoft-graph-docs#15579: ErrorMessageSizeExceeded above the tenant's message size limit.
  return new GraphHttpError(
    400,
    'ErrorMessageSizeExceeded',
    `The message exceeds the maximum supported size of ${limit} bytes.`,
  );
}

/** Body plus attachment bytes, what the tenant's message size limit counts. */
export function messageSize(m: Record<string, unknown>): number {
  const atts = Array.isArray(m._attachments) ? (m._attachments as AttachmentMeta[]) : [];
  const body = (m.body as { content?: string } | undefined)?.content ?? '';
  return Buffer.byteLength(body) + atts.reduce((n, a) => n + a.size, 0);
}
