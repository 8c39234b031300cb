/**
 * Contacts actions (reference §8.5): list and search, get, create, update (merging collections so
 * one changed address or number keeps the others), delete; contact folders.
 */
import { deletedOf, pageOf } from '../../actions/output';
import { z } from 'zod';
import { seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { odataString } from '../../graph/odata';
import { Problem } from '../../http/problem';
import {
  CONTACT_SELECT,
  contactScalarFields,
  createEmailsField,
  createPhonesField,
  emailChangesField,
  emailsBody,
  GraphContact,
  idField,
  mergeEmails,
  mergePhones,
  phoneChangesField,
  scalarBody,
  toContact,
  toFolder,
  ContactOut,
  ContactFolderOut,
} from './shape';
import { decodeCursor, toPage } from '../../actions/cursor';
import { defineAction } from '../../actions/registry';

const READ = ['Contacts.Read'];
const WRITE = ['Contacts.ReadWrite'];
const contactId = idField('The contact id.');
const folderId = idField("A contact folder id (from contacts.listFolders or a contact's folderId).");
const top = z.number().int().min(1).max(100).optional().describe('Page size, 1–100 (default 25).');
const cursor = z.string().max(4096).optional().describe('nextCursor of the previous page, to continue.');

/** OData string literal ('' escapes a quote, reference §4.2). */
const lit = odataString;

/** Outlook answers for contacts: a refused folder operation or a clashing name, said plainly. */
function contactsError(err: GraphError): Problem | undefined {
  const graph = { graphCode: err.code, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
  if (err.code === 'ErrorFolderExists')
    return new Problem('conflict', 'A contact folder with that name already exists.', graph);
  if (err.code === 'ErrorDeleteDistinguishedFolder' || err.code === 'ErrorCannotRenameDistinguishedFolder')
    return new Problem('invalid_input', 'The default Contacts folder cannot be renamed or deleted.', graph);
  return undefined;
}

const listContactsInput = z
  .object({
    folderId: folderId.optional().describe('List this folder; the default Contacts folder when omitted.'),
    search: z
      .string()
      .min(1)
      .max(255)
      .optional()
      .describe(
        'Find contacts whose name (display, first or last) or company starts with this text, or whose email address is exactly this address.',
      ),
    top,
    cursor,
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-list-contacts, contactfolder-list-contacts
defineAction({
  id: 'contacts.listContacts',
  service: 'contacts',
  summary: 'List or search contacts',
  description:
    'Lists the user\'s Outlook contacts (the default Contacts folder, or one folder). search finds contacts by name or company prefix (e.g. "Ana", "North") or by an exact email address. Returns a page of contacts (id, folderId, names, companyName, jobTitle, emails, phones, addresses, birthday, notes, categories) and nextCursor when more exist.',
  input: listContactsInput,
  output: pageOf(ContactOut),
  feature: 'contacts',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) => {
    if (input.cursor) return { method: 'GET', url: decodeCursor('contacts.listContacts', input.cursor) };
    const url = input.folderId ? `/me/contactFolders/${seg(input.folderId)}/contacts` : '/me/contacts';
    const query: Record<string, string | number> = { $select: CONTACT_SELECT, $top: input.top ?? 25 };
    if (input.search) {
      const q = lit(input.search.trim());
      // Outlook filters emailAddresses only with `any(a:a/address eq ...)`: no prefix match on
      // addresses (https://github.com/microsoftgraph/microsoft-graph-docs/issues/2933).
      query.$filter = [
        `startswith(displayName,${q})`,
        `startswith(givenName,${q})`,
        `startswith(surname,${q})`,
        `startswith(companyName,${q})`,
        `emailAddresses/any(a:a/address eq ${q})`,
      ].join(' or ');
    }
    return { method: 'GET', url, query };
  },
  fromGraph: (res) => toPage('contacts.listContacts', res.body, toContact),
});

// https://learn.microsoft.com/graph/api/contact-get
defineAction({
  id: 'contacts.getContact',
  service: 'contacts',
  summary: 'Get one contact',
  description:
    'Returns one contact by id with all its fields (names, company, emails, phones, addresses, birthday, notes).',
  input: z.object({ contactId }).strict(),
  output: ContactOut,
  feature: 'contacts',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) => ({
    method: 'GET',
    url: `/me/contacts/${seg(input.contactId)}`,
    query: { $select: CONTACT_SELECT },
  }),
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.contactId);
    return toContact(res.body);
  },
});

const createContactInput = z
  .object({
    folderId: folderId
      .optional()
      .describe('Create it in this folder; the default Contacts folder when omitted.'),
    ...contactScalarFields,
    emails: createEmailsField,
    businessPhones: createPhonesField('Business'),
    homePhones: createPhonesField('Home'),
  })
  .strict();

// https://learn.microsoft.com/graph/api/user-post-contacts: 201 contact.
defineAction({
  id: 'contacts.createContact',
  service: 'contacts',
  summary: 'Create a contact',
  description:
    'Creates an Outlook contact (in the default Contacts folder or the given folder) from names, company, job title, up to 3 email addresses, phone numbers, postal addresses, birthday (YYYY-MM-DD), notes and categories. displayName defaults to the name parts. Returns the created contact with its id.',
  input: createContactInput,
  output: ContactOut,
  feature: 'contacts',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  toGraph: (input) => {
    const body: Record<string, unknown> = scalarBody(input);
    if (input.emails) body.emailAddresses = emailsBody(input.emails);
    if (input.businessPhones) body.businessPhones = input.businessPhones;
    if (input.homePhones) body.homePhones = input.homePhones;
    const url = input.folderId ? `/me/contactFolders/${seg(input.folderId)}/contacts` : '/me/contacts';
    return { method: 'POST', url, body };
  },
  fromGraph: (res, _input, ctx) => {
    const contact = toContact(res.body);
    ctx.targets.push(contact.id);
    return contact;
  },
  mapError: contactsError,
});

const updateContactInput = z
  .object({
    contactId,
    ...contactScalarFields,
    emails: emailChangesField.optional(),
    businessPhones: phoneChangesField('business').optional(),
    homePhones: phoneChangesField('home').optional(),
  })
  .strict();

// https://learn.microsoft.com/graph/api/contact-update: PATCH replaces collections whole (§8.5).
defineAction({
  id: 'contacts.updateContact',
  service: 'contacts',
  summary: 'Update a contact (other addresses and numbers are kept)',
  description:
    'Changes the given fields of a contact; fields not named stay as they are. emails, businessPhones and homePhones take changes (add, remove, change one entry) and the entries not named are kept: the action reads the current lists and sends the merged list, because Microsoft Graph would otherwise replace the whole list. A contact holds at most 3 email addresses. Returns the updated contact.',
  input: updateContactInput,
  output: ContactOut,
  feature: 'contacts',
  scopes: WRITE,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.contactId);
    const url = `/me/contacts/${seg(input.contactId)}`;
    const body: Record<string, unknown> = scalarBody(input);
    if (input.emails || input.businessPhones || input.homePhones) {
      const res = await ctx.graph({
        method: 'GET',
        url,
        query: { $select: 'id,emailAddresses,businessPhones,homePhones' },
      });
      const current = GraphContact.parse(res.body);
      if (input.emails) body.emailAddresses = mergeEmails(current.emailAddresses ?? [], input.emails);
      if (input.businessPhones)
        body.businessPhones = mergePhones(
          'businessPhones',
          current.businessPhones ?? [],
          input.businessPhones,
        );
      if (input.homePhones)
        body.homePhones = mergePhones('homePhones', current.homePhones ?? [], input.homePhones);
    }
    if (Object.keys(body).length === 0) {
      throw new Problem('invalid_input', 'Name at least one field to change.', {
        errors: [{ field: '(body)', message: 'no field to change' }],
      });
    }
    const updated = await ctx.graph({ method: 'PATCH', url, body });
    return toContact(updated.body);
  },
  mapError: contactsError,
});

// https://learn.microsoft.com/graph/api/contact-delete: 204.
defineAction({
  id: 'contacts.deleteContact',
  service: 'contacts',
  summary: 'Delete a contact',
  description: 'Deletes a contact (Outlook moves it to Deleted Items). Returns {contactId, deleted: true}.',
  input: z.object({ contactId }).strict(),
  output: deletedOf('contactId'),
  feature: 'contacts',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: `/me/contacts/${seg(input.contactId)}` }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.contactId);
    return { contactId: input.contactId, deleted: true };
  },
});

// ---------------------------------------------------------------- folders

// https://learn.microsoft.com/graph/api/user-list-contactfolders: the folders in the default folder.
defineAction({
  id: 'contacts.listFolders',
  service: 'contacts',
  summary: 'List contact folders',
  description:
    "Lists the user's contact folders (those inside the default Contacts folder; contacts without a folder live in the default folder itself, whose id is each folder's parentFolderId). Returns a page of {id, name, parentFolderId} and nextCursor when more exist.",
  input: z.object({ top, cursor }).strict(),
  output: pageOf(ContactFolderOut),
  feature: 'contacts',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('contacts.listFolders', input.cursor) }
      : { method: 'GET', url: '/me/contactFolders', query: { $top: input.top ?? 25 } },
  fromGraph: (res) => toPage('contacts.listFolders', res.body, toFolder),
});

const folderName = z.string().trim().min(1).max(255).describe('The folder name.');

// https://learn.microsoft.com/graph/api/user-post-contactfolders: 201.
defineAction({
  id: 'contacts.createFolder',
  service: 'contacts',
  summary: 'Create a contact folder',
  description:
    'Creates a contact folder inside the default Contacts folder. Names are unique among siblings (a clash answers conflict). Returns {id, name, parentFolderId}.',
  input: z.object({ name: folderName }).strict(),
  output: ContactFolderOut,
  feature: 'contacts',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input) => ({ method: 'POST', url: '/me/contactFolders', body: { displayName: input.name } }),
  fromGraph: (res, _input, ctx) => {
    const folder = toFolder(res.body);
    ctx.targets.push(folder.id);
    return folder;
  },
  mapError: contactsError,
});

// https://learn.microsoft.com/graph/api/contactfolder-update
defineAction({
  id: 'contacts.renameFolder',
  service: 'contacts',
  summary: 'Rename a contact folder',
  description:
    'Renames a contact folder (not the default Contacts folder). Returns {id, name, parentFolderId}.',
  input: z.object({ folderId, name: folderName }).strict(),
  output: ContactFolderOut,
  feature: 'contacts',
  scopes: WRITE,
  kind: 'write',
  idempotent: true,
  toGraph: (input) => ({
    method: 'PATCH',
    url: `/me/contactFolders/${seg(input.folderId)}`,
    body: { displayName: input.name },
  }),
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.folderId);
    return toFolder(res.body);
  },
  mapError: contactsError,
});

// https://learn.microsoft.com/graph/api/contactfolder-delete: 204.
defineAction({
  id: 'contacts.deleteFolder',
  service: 'contacts',
  summary: 'Delete a contact folder and its contacts',
  description:
    'Deletes a contact folder together with the contacts and folders in it. The default Contacts folder cannot be deleted. Returns {folderId, deleted: true}.',
  input: z.object({ folderId }).strict(),
  output: deletedOf('folderId'),
  feature: 'contacts',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: `/me/contactFolders/${seg(input.folderId)}` }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.folderId);
    return { folderId: input.folderId, deleted: true };
  },
  mapError: contactsError,
});
