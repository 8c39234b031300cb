/**
 * Managing mail: read/unread, flags, categories, importance; move and copy (the id returned is the
 * one to keep using; with ImmutableId it is stable, reference §4.2 and peers.md item 12); delete
 * to Deleted Items or for good; create, rename and delete folders.
 */
import { z } from 'zod';
import { seg } from '../../graph/client';
import {
  badField,
  idField,
  mailboxField,
  mailError,
  mailRoot,
  MAIL_SCOPES_READ,
  sharedFeature,
  toFolder,
  toMessage,
  MailFolderOut,
  MessageOut,
} from './common';
import { defineAction } from '../../actions/registry';

const destinationField = z
  .string()
  .min(1)
  .max(1024)
  .describe('Destination folder id or well-known name (inbox, archive, deleteditems, junkemail, ...).');

const updateMessageInput = z
  .object({
    id: idField('The message id.'),
    isRead: z.boolean().optional().describe('Mark as read (true) or unread (false).'),
    flag: z
      .enum(['flagged', 'complete', 'notFlagged'])
      .optional()
      .describe('Follow-up flag: flagged, complete, or notFlagged to clear it.'),
    categories: z
      .array(z.string().min(1).max(255))
      .max(50)
      .optional()
      .describe('The full list of categories (replaces the current ones; [] clears them).'),
    importance: z.enum(['low', 'normal', 'high']).optional().describe('Importance.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/message-update
defineAction({
  id: 'mail.updateMessage',
  service: 'mail',
  summary: 'Mark read/unread, flag, categorise an email',
  description:
    'Marks a message read or unread, sets or clears its follow-up flag, replaces its categories, or changes its importance (any combination). Returns the updated message summary.',
  input: updateMessageInput,
  output: MessageOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: true,
  toGraph: (input) => {
    const body: Record<string, unknown> = {};
    if (input.isRead !== undefined) body.isRead = input.isRead;
    if (input.flag !== undefined) body.flag = { flagStatus: input.flag };
    if (input.categories !== undefined) body.categories = input.categories;
    if (input.importance !== undefined) body.importance = input.importance;
    if (Object.keys(body).length === 0) {
      throw badField('(body)', 'give at least one of isRead, flag, categories, importance');
    }
    return { method: 'PATCH', url: `${mailRoot(input)}/messages/${seg(input.id)}`, body };
  },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.id);
    return toMessage(res.body);
  },
  mapError: mailError,
});

const moveInput = z
  .object({ id: idField('The message id.'), destination: destinationField, mailbox: mailboxField })
  .strict();

// https://learn.microsoft.com/graph/api/message-move: 201 with the message (a new id without ImmutableId).
defineAction({
  id: 'mail.moveMessage',
  service: 'mail',
  summary: 'Move an email to another folder',
  description:
    'Moves a message to a folder (id or well-known name). Returns the moved message; use its id from now on (ids are immutable ids here, so it normally stays the same).',
  input: moveInput,
  output: MessageOut.extend({ previousId: z.string().describe('The id it had before the move.') }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: false,
  toGraph: (input) => ({
    method: 'POST',
    url: `${mailRoot(input)}/messages/${seg(input.id)}/move`,
    body: { destinationId: input.destination },
  }),
  fromGraph: (res, input, ctx) => {
    const out = toMessage(res.body);
    ctx.targets.push(input.id, String(out.id));
    return { ...out, previousId: input.id };
  },
  mapError: mailError,
});

// https://learn.microsoft.com/graph/api/message-copy: 201 with the copy.
defineAction({
  id: 'mail.copyMessage',
  service: 'mail',
  summary: 'Copy an email to another folder',
  description:
    'Copies a message into a folder (id or well-known name). Returns the copy, with its own new id.',
  input: moveInput,
  output: MessageOut.extend({ sourceId: z.string().describe('The message that was copied.') }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: false,
  toGraph: (input) => ({
    method: 'POST',
    url: `${mailRoot(input)}/messages/${seg(input.id)}/copy`,
    body: { destinationId: input.destination },
  }),
  fromGraph: (res, input, ctx) => {
    const out = toMessage(res.body);
    ctx.targets.push(input.id, String(out.id));
    return { ...out, sourceId: input.id };
  },
  mapError: mailError,
});

const deleteInput = z
  .object({
    id: idField('The message id.'),
    permanent: z
      .boolean()
      .optional()
      .describe('true: delete for good (cannot be undone); default false: move to Deleted Items.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/message-move (to deleteditems), message-permanentdelete
defineAction({
  id: 'mail.deleteMessage',
  service: 'mail',
  summary: 'Delete an email',
  description:
    'Deletes a message: by default it moves to Deleted Items (recoverable; returns its id there); with permanent: true it is purged for good. Returns {deleted: true, permanent, id?}.',
  input: deleteInput,
  output: z.object({
    deleted: z.literal(true),
    permanent: z.boolean(),
    id: z.string().optional().describe('Its id in Deleted Items (not permanent deletes).'),
    folderId: z.string().nullable().optional(),
  }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'destructive',
  idempotent: false,
  toGraph: (input) =>
    input.permanent
      ? { method: 'POST', url: `${mailRoot(input)}/messages/${seg(input.id)}/permanentDelete` }
      : {
          method: 'POST',
          url: `${mailRoot(input)}/messages/${seg(input.id)}/move`,
          body: { destinationId: 'deleteditems' },
        },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.id);
    if (input.permanent) return { deleted: true, permanent: true };
    const out = toMessage(res.body, ['folderId']);
    return { deleted: true, permanent: false, id: out.id, folderId: out.folderId };
  },
  mapError: mailError,
});

const createFolderInput = z
  .object({
    name: z.string().trim().min(1).max(255).describe('Folder name.'),
    parentFolder: destinationField
      .optional()
      .describe('Create inside this folder (id or well-known name); top level when omitted.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-post-mailfolders, mailfolder-post-childfolders
defineAction({
  id: 'mail.createFolder',
  service: 'mail',
  summary: 'Create a mail folder',
  description:
    'Creates a mail folder at the top level or inside parentFolder. A folder of the same name in the same place answers 409 conflict. Returns the folder (id, name, counts).',
  input: createFolderInput,
  output: MailFolderOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input) => ({
    method: 'POST',
    url: input.parentFolder
      ? `${mailRoot(input)}/mailFolders/${seg(input.parentFolder)}/childFolders`
      : `${mailRoot(input)}/mailFolders`,
    body: { displayName: input.name },
  }),
  fromGraph: (res, _input, ctx) => {
    const folder = toFolder(res.body);
    ctx.targets.push(folder.id);
    return folder;
  },
  mapError: mailError,
});

const renameFolderInput = z
  .object({
    folderId: idField('The folder id.'),
    name: z.string().trim().min(1).max(255).describe('New folder name.'),
    mailbox: mailboxField,
  })
  .strict();

// https://learn.microsoft.com/graph/api/mailfolder-update
defineAction({
  id: 'mail.renameFolder',
  service: 'mail',
  summary: 'Rename a mail folder',
  description: 'Renames a mail folder. Returns the folder.',
  input: renameFolderInput,
  output: MailFolderOut,
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'write',
  idempotent: true,
  toGraph: (input) => ({
    method: 'PATCH',
    url: `${mailRoot(input)}/mailFolders/${seg(input.folderId)}`,
    body: { displayName: input.name },
  }),
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.folderId);
    return toFolder(res.body);
  },
  mapError: mailError,
});

const deleteFolderInput = z.object({ folderId: idField('The folder id.'), mailbox: mailboxField }).strict();

// https://learn.microsoft.com/graph/api/mailfolder-delete: 204.
defineAction({
  id: 'mail.deleteFolder',
  service: 'mail',
  summary: 'Delete a mail folder',
  description:
    'Deletes a mail folder with its messages and subfolders. Well-known folders (Inbox, Sent Items, ...) cannot be deleted. Returns {deleted: true}.',
  input: deleteFolderInput,
  output: z.object({ deleted: z.literal(true) }),
  feature: 'mail',
  requires: sharedFeature,
  scopes: MAIL_SCOPES_READ,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: `${mailRoot(input)}/mailFolders/${seg(input.folderId)}` }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.folderId);
    return { deleted: true };
  },
  mapError: mailError,
});
