/**
 * What every mail action shares: the optional `mailbox` input (shared or delegated mailboxes,
 * peers.md item 7), the Graph path it selects, our own output shapes for messages, folders and
 * attachments (never raw Graph), and the Outlook-specific error mapping (ErrorSendAsDenied,
 * ErrorAccessDenied, ErrorMessageSizeExceeded ...). Ids are ImmutableIds: the chokepoint sends
 * `Prefer: IdType="ImmutableId"` on every call (peers.md item 12).
 */
import { untrusted } from '../../actions/output';
import { z } from 'zod';
import type { Feature } from '../../config';
import { seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { Problem } from '../../http/problem';
import { invalidInput } from '../../http/validate';

export const MAIL_SCOPES_READ = ['Mail.ReadWrite'];
export const MAIL_SCOPES_SEND = ['Mail.Send'];

export const mailboxField = z
  .string()
  .min(3)
  .max(320)
  .optional()
  .describe(
    "A shared or delegated mailbox to act on (its user principal name, e.g. sales@contoso.com, or its user id) instead of the user's own. Needs the 'mail-shared' feature and Full Access to that mailbox.",
  );

export const idField = (what: string) => z.string().min(1).max(1024).describe(what);

/** `/me` or `/users/{mailbox}`: every path of a mail action starts here. */
export function mailRoot(input: { mailbox?: string | undefined }): string {
  return input.mailbox ? `/users/${seg(input.mailbox)}` : '/me';
}

/** A `mailbox` input needs the 'mail-shared' feature (Mail.ReadWrite.Shared, Mail.Send.Shared). */
export function sharedFeature(input: { mailbox?: string | undefined }): Feature[] {
  return input.mailbox ? ['mail-shared'] : [];
}

export const addressField = z
  .union([
    z.email().max(320),
    z
      .object({
        address: z.email().max(320).describe('Email address.'),
        name: z.string().max(256).optional().describe('Display name.'),
      })
      .strict(),
  ])
  .describe('An email address, either as a plain string or as {address, name}.');

export type AddressInput = z.output<typeof addressField>;

export function toRecipients(
  list: AddressInput[] | undefined,
): Array<{ emailAddress: { address: string; name?: string } }> {
  return (list ?? []).map((a) =>
    typeof a === 'string'
      ? { emailAddress: { address: a } }
      : { emailAddress: { address: a.address, ...(a.name ? { name: a.name } : {}) } },
  );
}

// ---------------------------------------------------------------- output shapes

const GraphAddress = z
  .object({ emailAddress: z.object({ name: z.string().nullish(), address: z.string().nullish() }).nullish() })
  .nullish();

export const AddressOut = z.object({
  name: untrusted(z.string().nullable(), 'mail'),
  address: z.string().nullable(),
});
export type Address = z.infer<typeof AddressOut>;

const optionalText = z.string().nullable().optional();

/**
 * A message in our shape. Lists return the fields asked for (`fields`, default all of these) plus
 * id, so every field but id is optional here.
 */
export const MessageOut = z.object({
  id: z.string(),
  subject: untrusted(z.string().optional(), 'mail'),
  from: AddressOut.nullable().optional(),
  sender: AddressOut.nullable().optional().describe('Differs from `from` when sent on behalf of someone.'),
  to: z.array(AddressOut).optional(),
  cc: z.array(AddressOut).optional(),
  bcc: z.array(AddressOut).optional(),
  replyTo: z.array(AddressOut).optional(),
  receivedAt: optionalText,
  sentAt: optionalText,
  isRead: z.boolean().optional(),
  isDraft: z.boolean().optional(),
  importance: z.string().optional().describe('low, normal or high.'),
  hasAttachments: z.boolean().optional(),
  flag: z.string().optional().describe('notFlagged, flagged or complete.'),
  categories: z.array(z.string()).optional(),
  preview: untrusted(
    z.string().optional().describe('The first 255 characters of the body, as text.'),
    'mail',
  ),
  folderId: optionalText,
  conversationId: optionalText,
  internetMessageId: optionalText,
  webLink: optionalText.describe('Opens the message in Outlook on the web.'),
});

function address(v: z.output<typeof GraphAddress>): Address | null {
  if (!v?.emailAddress) return null;
  return { name: v.emailAddress.name ?? null, address: v.emailAddress.address ?? null };
}

export const GraphMessage = z
  .object({
    id: z.string(),
    conversationId: z.string().nullish(),
    internetMessageId: z.string().nullish(),
    subject: z.string().nullish(),
    bodyPreview: z.string().nullish(),
    body: z.object({ contentType: z.string(), content: z.string() }).nullish(),
    from: GraphAddress,
    sender: GraphAddress,
    toRecipients: z.array(GraphAddress).nullish(),
    ccRecipients: z.array(GraphAddress).nullish(),
    bccRecipients: z.array(GraphAddress).nullish(),
    replyTo: z.array(GraphAddress).nullish(),
    receivedDateTime: z.string().nullish(),
    sentDateTime: z.string().nullish(),
    isRead: z.boolean().nullish(),
    isDraft: z.boolean().nullish(),
    importance: z.string().nullish(),
    hasAttachments: z.boolean().nullish(),
    flag: z.object({ flagStatus: z.string().nullish() }).passthrough().nullish(),
    categories: z.array(z.string()).nullish(),
    parentFolderId: z.string().nullish(),
    webLink: z.string().nullish(),
    internetMessageHeaders: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
    attachments: z.array(z.record(z.string(), z.unknown())).nullish(),
  })
  .passthrough();

/** Our message fields and the Graph properties behind them (for `$select`). */
export const MESSAGE_FIELDS = {
  subject: ['subject'],
  from: ['from'],
  sender: ['sender'],
  to: ['toRecipients'],
  cc: ['ccRecipients'],
  bcc: ['bccRecipients'],
  replyTo: ['replyTo'],
  receivedAt: ['receivedDateTime'],
  sentAt: ['sentDateTime'],
  isRead: ['isRead'],
  isDraft: ['isDraft'],
  importance: ['importance'],
  hasAttachments: ['hasAttachments'],
  flag: ['flag'],
  categories: ['categories'],
  preview: ['bodyPreview'],
  folderId: ['parentFolderId'],
  conversationId: ['conversationId'],
  internetMessageId: ['internetMessageId'],
  webLink: ['webLink'],
} as const;

export type MessageField = keyof typeof MESSAGE_FIELDS;
export const MESSAGE_FIELD_NAMES = Object.keys(MESSAGE_FIELDS) as [MessageField, ...MessageField[]];

export function graphSelect(fields: readonly MessageField[]): string {
  return [...new Set(fields.flatMap((f) => MESSAGE_FIELDS[f]))].join(',');
}

/** A message in our shape; only the asked-for fields (plus id) when `fields` is given. */
export function toMessage(
  raw: unknown,
  fields: readonly MessageField[] = MESSAGE_FIELD_NAMES,
): Record<string, unknown> {
  const m = GraphMessage.parse(raw);
  const all: Record<MessageField, unknown> = {
    subject: m.subject ?? '',
    from: address(m.from),
    sender: address(m.sender),
    to: (m.toRecipients ?? []).map(address).filter(Boolean),
    cc: (m.ccRecipients ?? []).map(address).filter(Boolean),
    bcc: (m.bccRecipients ?? []).map(address).filter(Boolean),
    replyTo: (m.replyTo ?? []).map(address).filter(Boolean),
    receivedAt: m.receivedDateTime ?? null,
    sentAt: m.sentDateTime ?? null,
    isRead: m.isRead ?? false,
    isDraft: m.isDraft ?? false,
    importance: m.importance ?? 'normal',
    hasAttachments: m.hasAttachments ?? false,
    flag: m.flag?.flagStatus ?? 'notFlagged',
    categories: m.categories ?? [],
    preview: m.bodyPreview ?? '',
    folderId: m.parentFolderId ?? null,
    conversationId: m.conversationId ?? null,
    internetMessageId: m.internetMessageId ?? null,
    webLink: m.webLink ?? null,
  };
  const out: Record<string, unknown> = { id: m.id };
  for (const f of fields) out[f] = all[f];
  return out;
}

const GraphAttachment = z
  .object({
    id: z.string(),
    name: z.string().nullish(),
    contentType: z.string().nullish(),
    size: z.number().nullish(),
    isInline: z.boolean().nullish(),
    lastModifiedDateTime: z.string().nullish(),
    '@odata.type': z.string().nullish(),
  })
  .passthrough();

export const MailAttachmentOut = z.object({
  id: z.string(),
  name: untrusted(z.string(), 'mail'),
  contentType: z.string().nullable(),
  size: z.number().nullable(),
  isInline: z.boolean(),
  kind: z.string().describe('fileAttachment, itemAttachment or referenceAttachment.'),
});
export type MailAttachment = z.infer<typeof MailAttachmentOut>;

export function toAttachment(raw: unknown): MailAttachment {
  const a = GraphAttachment.parse(raw);
  return {
    id: a.id,
    name: a.name ?? '',
    contentType: a.contentType ?? null,
    size: a.size ?? null,
    isInline: a.isInline ?? false,
    kind: (a['@odata.type'] ?? '#microsoft.graph.fileAttachment').replace('#microsoft.graph.', ''),
  };
}

const GraphFolder = z
  .object({
    id: z.string(),
    displayName: z.string().nullish(),
    parentFolderId: z.string().nullish(),
    childFolderCount: z.number().nullish(),
    unreadItemCount: z.number().nullish(),
    totalItemCount: z.number().nullish(),
    isHidden: z.boolean().nullish(),
  })
  .passthrough();

export interface MailFolder {
  id: string;
  name: string;
  parentId: string | null;
  unreadCount: number;
  totalCount: number;
  childCount: number;
  isHidden: boolean;
  children?: MailFolder[];
}

const MailFolderFields = z.object({
  id: z.string(),
  name: z.string(),
  parentId: z.string().nullable(),
  unreadCount: z.number(),
  totalCount: z.number(),
  childCount: z.number(),
  isHidden: z.boolean(),
});

/**
 * Subfolders nest as deep as mail.listFolders' `depth` allows (4), spelled out level by level: a
 * recursive schema would need a `$ref` that cannot resolve once embedded in the OpenAPI document.
 */
function folderLevels(depth: number): z.ZodType<MailFolder> {
  if (depth === 0) return MailFolderFields;
  return MailFolderFields.extend({
    children: z
      .array(folderLevels(depth - 1))
      .optional()
      .describe('Subfolders, down to the depth asked for.'),
  });
}

export const MailFolderOut = folderLevels(4);

export function toFolder(raw: unknown): MailFolder {
  const f = GraphFolder.parse(raw);
  return {
    id: f.id,
    name: f.displayName ?? '',
    parentId: f.parentFolderId ?? null,
    unreadCount: f.unreadItemCount ?? 0,
    totalCount: f.totalItemCount ?? 0,
    childCount: f.childFolderCount ?? 0,
    isHidden: f.isHidden ?? false,
  };
}

// ---------------------------------------------------------------- errors

function graphInfo(err: GraphError): Record<string, unknown> {
  return { graphCode: err.code, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
}

/**
 * Outlook errors a caller can act on, named with the permission or limit behind them; anything
 * else falls through to the default mapping (status first, reference §1.1).
 */
export function mailError(
  err: GraphError,
  input: { mailbox?: string | undefined; from?: unknown },
): Problem | undefined {
  switch (err.code) {
    case 'ErrorSendAsDenied':
      // microsoft-graph-docs-contrib#7401: Full Access is not enough to send from a mailbox.
      return new Problem(
        'forbidden',
        'The user may not send from this address: an Exchange administrator must grant the "Send As" (or "Send on Behalf") permission on that mailbox.',
        { ...graphInfo(err), permission: 'SendAs' },
      );
    case 'ErrorAccessDenied':
      if (!input.mailbox) return undefined;
      return new Problem(
        'forbidden',
        `Access to mailbox "${input.mailbox}" is denied: the user needs "Full Access" (mailbox permission in Exchange) on it.`,
        { ...graphInfo(err), permission: 'FullAccess' },
      );
    case 'ErrorMessageSizeExceeded':
      return new Problem(
        'payload_too_large',
        "The message is larger than the organisation's message size limit (35 MB by default).",
        graphInfo(err),
      );
    case 'ErrorInvalidRecipients':
      return new Problem('invalid_input', 'At least one recipient is not a valid email address.', {
        ...graphInfo(err),
        errors: [{ field: 'to', message: 'contains an address Exchange cannot resolve' }],
      });
    case 'ErrorFolderExists':
      return new Problem('conflict', 'A folder with this name already exists in that place.', graphInfo(err));
    case 'ErrorDeleteDistinguishedFolder':
      return new Problem('invalid_input', 'Well-known folders (Inbox, Sent Items ...) cannot be deleted.', {
        ...graphInfo(err),
        errors: [{ field: 'folderId', message: 'is a well-known folder' }],
      });
    default:
      return undefined;
  }
}

/** 400 invalid_input naming one field (checks zod's strict object can't express). */
export function badField(field: string, message: string): Problem {
  return invalidInput([{ field, message }]);
}

export { odataString, searchPhrase as searchValue } from '../../graph/odata';
