/**
 * Reading mail: list and search messages, get one, list and download attachments, list folders.
 * Lists always `$select` (full bodies in pages are slow, reference §11 item 15) and page with
 * opaque cursors over Graph's nextLink (§4.1).
 */
import { documentText, htmlToText, readDocumentBytes, SUPPORTED } from '../../content/text';
import { READ_TEXT_RULES, sliceInputFields, sliceOf, sliceOutputFields, sliceStart } from '../document-text';
import { pageOf, untrusted } from '../../actions/output';
import { Problem } from '../../http/problem';
import { z } from 'zod';
import type { GraphCall, GraphResponse } from '../../graph/client';
import { seg } from '../../graph/client';
import { decodeCursor, toPage } from '../../actions/cursor';
import {
  badField,
  graphSelect,
  idField,
  mailboxField,
  mailError,
  mailRoot,
  MAIL_SCOPES_READ,
  MESSAGE_FIELD_NAMES,
  odataString,
  searchValue,
  sharedFeature,
  toAttachment,
  toFolder,
  toMessage,
  type MailFolder,
  MailAttachmentOut,
  MailFolderOut,
  MessageOut,
} from './common';
import { defineAction } from '../../actions/registry';
import { streamAttachment } from './upload';
import type { ActionContext, Page } from '../../actions/types';

const folderField = z
  .string()
  .min(1)
  .max(1024)
  .describe(
    'A folder id or a well-known folder name: inbox, drafts, sentitems, deleteditems, junkemail, archive, outbox.',
  );

const listMessagesInput = z
  .object({
    folder: folderField.optional().describe('Folder to list (id or well-known name); all mail when omitted.'),
    unread: z.boolean().optional().describe('true: only unread messages; false: only read ones.'),
    from: z.email().max(320).optional().describe("Only messages from this sender's address."),
    since: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Only messages received at or after this ISO 8601 time.'),
    hasAttachments: z
      .boolean()
      .optional()
      .describe('Only messages with (true) or without (false) attachments.'),
    importance: z.enum(['low', 'normal', 'high']).optional().describe('Only messages of this importance.'),
    category: z.string().min(1).max(255).optional().describe('Only messages carrying this category.'),
    search: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe(
        'Full-text search (KQL, e.g. "invoice", "from:megan", "subject:budget"). Cannot be combined with the filter shortcuts; results are sorted by sent date.',
      ),
    fields: z
      .array(z.enum(MESSAGE_FIELD_NAMES))
      .min(1)
      .max(MESSAGE_FIELD_NAMES.length)
      .optional()
      .describe('Which message fields to return (id always comes); default: all summary fields.'),
    top: z.number().int().min(1).max(100).optional().describe('Page size, 1–100 (default 25).'),
    cursor: z.string().max(4096).optional().describe('nextCursor of the previous page, to continue.'),
    mailbox: mailboxField,
  })
  .strict();

type ListMessagesInput = z.output<typeof listMessagesInput>;

/**
 * The Graph request for a message list. With any filter the query starts with
 * `receivedDateTime ge ...` and orders by it: Outlook wants `$orderby` properties first in
 * `$filter`, else 400 InefficientFilter (user-list-messages.md, reference §4.2).
 */
export function listMessagesCall(input: ListMessagesInput): GraphCall {
  const fields = input.fields ?? MESSAGE_FIELD_NAMES;
  if (input.cursor) return { method: 'GET', url: decodeCursor('mail.listMessages', input.cursor) };
  const filters: string[] = [];
  if (input.unread !== undefined) filters.push(`isRead eq ${!input.unread}`);
  if (input.from) filters.push(`from/emailAddress/address eq ${odataString(input.from)}`);
  if (input.hasAttachments !== undefined) filters.push(`hasAttachments eq ${input.hasAttachments}`);
  if (input.importance) filters.push(`importance eq '${input.importance}'`);
  if (input.category) filters.push(`categories/any(c:c eq ${odataString(input.category)})`);
  const path = input.folder
    ? `${mailRoot(input)}/mailFolders/${seg(input.folder)}/messages`
    : `${mailRoot(input)}/messages`;
  const query: Record<string, string | number> = { $select: graphSelect(fields), $top: input.top ?? 25 };
  if (input.search) {
    if (filters.length || input.since) {
      throw badField(
        'search',
        'cannot be combined with unread, from, since, hasAttachments, importance or category',
      );
    }
    query.$search = searchValue(input.search);
  } else {
    if (filters.length || input.since) {
      const since = input.since ? new Date(input.since).toISOString() : '1900-01-01T00:00:00Z';
      query.$filter = [`receivedDateTime ge ${since}`, ...filters].join(' and ');
    }
    query.$orderby = 'receivedDateTime desc';
  }
  return { method: 'GET', url: path, query };
}

// https://learn.microsoft.com/graph/api/user-list-messages
defineAction({
  id: 'mail.listMessages',
  service: 'mail',
  summary: 'List or search email messages',
  description:
    'Lists messages newest first, from one folder (id or well-known name such as inbox, sentitems) or from the whole mailbox. Shortcuts narrow the list: unread, from, since, hasAttachments, importance, category; or use search for full-text (KQL). Returns a page of message summaries (id, subject, from, to, receivedAt, isRead, preview, ...; choose with fields) and nextCursor when more exist. Use mail.getMessage for the body.',
  input: listMessagesInput,
  output: pageOf(MessageOut),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  toGraph: listMessagesCall,
  fromGraph: (res, input) =>
    toPage('mail.listMessages', res.body, (m) => toMessage(m, input.fields ?? MESSAGE_FIELD_NAMES)),
  mapError: mailError,
});

const getMessageInput = z
  .object({
    id: idField('The message id.'),
    bodyType: z
      .enum(['text', 'html', 'readable'])
      .optional()
      .describe(
        "Body as Outlook's plain text (default), as HTML, or readable: the HTML turned into text that keeps links as `text [url]`, headings as Markdown and tables as rows.",
      ),
    includeHeaders: z
      .boolean()
      .optional()
      .describe('Also return the internet message headers (default false).'),
    includeAttachments: z
      .boolean()
      .optional()
      .describe('Also list the attachments, without content (default true).'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/message-get
defineAction({
  id: 'mail.getMessage',
  service: 'mail',
  summary: 'Get one email message with its body',
  description:
    'Returns one message: all summary fields plus the body (plain text by default, HTML, or readable text with links kept), optionally the internet headers, and the attachment list (id, name, contentType, size) without content. Download an attachment with mail.downloadAttachment.',
  input: getMessageInput,
  output: MessageOut.extend({
    body: z.object({ contentType: z.string(), content: untrusted(z.string(), 'mail') }),
    headers: z.array(z.object({ name: z.string(), value: untrusted(z.string(), 'mail') })).optional(),
    attachments: z.array(MailAttachmentOut).optional(),
  }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) => ({
    method: 'GET',
    url: `${mailRoot(input)}/messages/${seg(input.id)}`,
    // readable: the HTML, converted here (Outlook's own text drops where links point).
    bodyContentType: input.bodyType === 'html' || input.bodyType === 'readable' ? 'html' : 'text',
    query: {
      $select: `${graphSelect(MESSAGE_FIELD_NAMES)},body${input.includeHeaders ? ',internetMessageHeaders' : ''}`,
      ...(input.includeAttachments === false
        ? {}
        : { $expand: 'attachments($select=id,name,contentType,size,isInline)' }),
    },
  }),
  fromGraph: (res, input, ctx) => {
    const body = res.body as {
      body?: { contentType?: string; content?: string };
      internetMessageHeaders?: Array<{ name: string; value: string }>;
      attachments?: unknown[];
    };
    const out = toMessage(res.body);
    ctx.targets.push(String(out.id));
    const content = body.body?.content ?? '';
    const contentType = body.body?.contentType ?? (input.bodyType === 'html' ? 'html' : 'text');
    return {
      ...out,
      body:
        input.bodyType === 'readable'
          ? { contentType: 'readable', content: contentType === 'html' ? htmlToText(content).text : content }
          : { contentType, content },
      ...(input.includeHeaders ? { headers: body.internetMessageHeaders ?? [] } : {}),
      ...(input.includeAttachments === false
        ? {}
        : { attachments: (body.attachments ?? []).map(toAttachment) }),
    };
  },
  mapError: mailError,
});

const listAttachmentsInput = z
  .object({
    messageId: idField('The message id.'),
    cursor: z.string().max(4096).optional().describe('nextCursor of the previous page.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/message-list-attachments
defineAction({
  id: 'mail.listAttachments',
  service: 'mail',
  summary: "List a message's attachments",
  description:
    'Lists the attachments of a message (id, name, contentType, size in bytes, isInline, kind) without their content. Download one with mail.downloadAttachment.',
  input: listAttachmentsInput,
  output: pageOf(MailAttachmentOut),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('mail.listAttachments', input.cursor) }
      : {
          method: 'GET',
          url: `${mailRoot(input)}/messages/${seg(input.messageId)}/attachments`,
          query: { $select: 'id,name,contentType,size,isInline,lastModifiedDateTime' },
        },
  fromGraph: (res) => toPage('mail.listAttachments', res.body, toAttachment),
  mapError: mailError,
});

const downloadInput = z
  .object({
    messageId: idField('The message id.'),
    attachmentId: idField('The attachment id (from mail.getMessage or mail.listAttachments).'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/attachment-get (raw contents via /$value)
defineAction({
  id: 'mail.downloadAttachment',
  service: 'mail',
  summary: 'Download an attachment',
  description:
    'Streams the raw bytes of a file attachment with its content type and file name (Content-Disposition). Called with GET and query parameters messageId, attachmentId (and mailbox).',
  input: downloadInput,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  httpMethod: 'GET',
  run: async (input, ctx) => {
    ctx.targets.push(input.messageId, input.attachmentId);
    return await streamAttachment(
      ctx,
      `${mailRoot(input)}/messages/${seg(input.messageId)}/attachments/${seg(input.attachmentId)}`,
    );
  },
  mapError: mailError,
});

// Text extraction: shared/content/text.ts (PDF, Word, HTML, text formats).
defineAction({
  id: 'mail.readAttachmentText',
  service: 'mail',
  summary: 'Read an attachment as text (PDF, Word, HTML, text)',
  description: `Returns a file attachment's content as readable text. ${READ_TEXT_RULES}`,
  input: downloadInput.extend(sliceInputFields).strict(),
  output: z.object({ messageId: z.string(), attachmentId: z.string(), ...sliceOutputFields('mail') }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const url = `${mailRoot(input)}/messages/${seg(input.messageId)}/attachments/${seg(input.attachmentId)}`;
    const meta = await ctx.graph({ method: 'GET', url, query: { $select: 'id,name,contentType,size' } });
    const att = toAttachment(meta.body);
    ctx.targets.push(input.messageId, input.attachmentId);
    if (att.kind !== 'fileAttachment') {
      throw new Problem(
        'unsupported_media_type',
        `${att.name || 'The attachment'} is an ${att.kind}, not a file: it has no document text.`,
        {
          supported: SUPPORTED,
        },
      );
    }
    const key = `${input.messageId}/${input.attachmentId}`;
    const offset = sliceStart(input, key);
    const response = await ctx.graphRaw({ method: 'GET', url: `${url}/$value` });
    const doc = await documentText(await readDocumentBytes(response.body), att.name, att.contentType);
    return {
      messageId: input.messageId,
      attachmentId: input.attachmentId,
      ...sliceOf(doc, att.name, key, offset, input.maxChars),
    };
  },
  mapError: mailError,
});

const listFoldersInput = z
  .object({
    parentFolder: folderField
      .optional()
      .describe(
        'List the child folders of this folder (id or well-known name); top-level folders when omitted.',
      ),
    depth: z
      .number()
      .int()
      .min(0)
      .max(4)
      .optional()
      .describe('How many levels of child folders to include under each folder (default 1; 0 = none).'),
    includeHidden: z.boolean().optional().describe('Include hidden folders (default false).'),
    top: z.number().int().min(1).max(100).optional().describe('Page size of the first level (default 50).'),
    cursor: z.string().max(4096).optional().describe('nextCursor of the previous page.'),
    mailbox: mailboxField,
  })
  .strict();

type ListFoldersInput = z.output<typeof listFoldersInput>;

type FolderPage = { value?: unknown[]; '@odata.nextLink'?: string };

async function childFolders(
  ctx: ActionContext,
  input: ListFoldersInput,
  folder: MailFolder,
  depth: number,
): Promise<void> {
  if (depth <= 0 || folder.childCount === 0) return;
  folder.children = [];
  let url: string | undefined = `${mailRoot(input)}/mailFolders/${seg(folder.id)}/childFolders`;
  let query: GraphCall['query'] = {
    $top: 100,
    ...(input.includeHidden ? { includeHiddenFolders: 'true' } : {}),
  };
  while (url) {
    const res: GraphResponse<FolderPage> = await ctx.graph<FolderPage>({
      method: 'GET',
      url,
      ...(query ? { query } : {}),
    });
    for (const raw of res.body.value ?? []) folder.children.push(toFolder(raw));
    url = res.body['@odata.nextLink'];
    query = undefined;
  }
  for (const child of folder.children) await childFolders(ctx, input, child, depth - 1);
}

// https://learn.microsoft.com/graph/api/user-list-mailfolders, mailfolder-list-childfolders
defineAction({
  id: 'mail.listFolders',
  service: 'mail',
  summary: 'List mail folders with counts',
  description:
    'Lists mail folders (top level, or the children of parentFolder) with id, name, unreadCount, totalCount and childCount, and nested children down to depth levels. Use a folder id (or a well-known name like inbox) with mail.listMessages.',
  input: listFoldersInput,
  output: pageOf(MailFolderOut),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx): Promise<Page<MailFolder>> => {
    const call: GraphCall = input.cursor
      ? { method: 'GET', url: decodeCursor('mail.listFolders', input.cursor) }
      : {
          method: 'GET',
          url: input.parentFolder
            ? `${mailRoot(input)}/mailFolders/${seg(input.parentFolder)}/childFolders`
            : `${mailRoot(input)}/mailFolders`,
          query: { $top: input.top ?? 50, ...(input.includeHidden ? { includeHiddenFolders: 'true' } : {}) },
        };
    const res = await ctx.graph(call);
    const page = toPage('mail.listFolders', res.body, toFolder);
    for (const folder of page.items) await childFolders(ctx, input, folder, input.depth ?? 1);
    return page;
  },
  mapError: mailError,
});
