/**
 * Graph contacts and contact folders (reference §8.5, §5.2; https://learn.microsoft.com/graph/api/resources/contact,
 * https://learn.microsoft.com/graph/api/resources/contactfolder).
 *
 * Collections in the change-tracking store (stable names; change notifications build on them):
 * - `contacts`: every contact of the user, whichever folder; `parentFolderId` says where it lives.
 *   Delta is per folder (`/me/contactFolders/{id}/contacts/delta`, contact-delta.md) and filters on
 *   `parentFolderId`.
 * - `contactFolders`: the user's contact folders, the default "Contacts" folder included
 *   (`wellKnownName: "contacts"`). `GET /me/contactFolders` lists the folders *in* the default folder
 *   (user-list-contactfolders.md: "the contact folder collection in the default Contacts folder"),
 *   so the default folder itself is reached by id (a contact's or a child folder's `parentFolderId`).
 *
 * PATCH follows Graph: top-level properties replace, so `emailAddresses`, `businessPhones` and the
 * other collections are replaced whole, never merged (contact-update; reference §8.5). Outlook keeps
 * at most 3 email addresses per contact. Unknown ids answer 404 `ErrorItemNotFound`.
 */
import { createHash } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, type SandboxResponse } from '../../http';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { deltaResponse } from '../delta';
import { badRequest, GraphHttpError, notFound } from '../errors';
import type { ODataQuery } from '../odata';
import { collection } from '../paging';
import type { ChangeStore, CollectionRef, Entity } from '../store';

export const CONTACTS = 'contacts';
export const CONTACT_FOLDERS = 'contactFolders';
/** Outlook keeps at most three email addresses on a contact (reference §8.5, contact resource). */
export const MAX_CONTACT_EMAILS = 3;

const READ = { anyOf: ['Contacts.Read'] };
const WRITE = { anyOf: ['Contacts.ReadWrite'] };

const STRING_PROPS = [
  'displayName',
  'givenName',
  'middleName',
  'surname',
  'nickName',
  'initials',
  'title',
  'generation',
  'fileAs',
  'mobilePhone',
  'companyName',
  'department',
  'jobTitle',
  'officeLocation',
  'profession',
  'manager',
  'assistantName',
  'businessHomePage',
  'birthday',
  'personalNotes',
  'spouseName',
  'yomiGivenName',
  'yomiSurname',
  'yomiCompanyName',
] as const;
const STRING_LIST_PROPS = ['businessPhones', 'homePhones', 'imAddresses', 'categories', 'children'] as const;
const ADDRESS_PROPS = ['businessAddress', 'homeAddress', 'otherAddress'] as const;
/** Read-only properties a client may echo back; Graph ignores them on write. */
const READ_ONLY = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'changeKey',
  'parentFolderId',
  '@odata.etag',
  '@odata.type',
  '@odata.context',
]);
const WRITABLE = new Set<string>([...STRING_PROPS, ...STRING_LIST_PROPS, ...ADDRESS_PROPS, 'emailAddresses']);

/** The full default shape Graph returns for a contact (nulls and empty collections included). */
function contactDefaults(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of STRING_PROPS) out[k] = null;
  for (const k of STRING_LIST_PROPS) out[k] = [];
  for (const k of ADDRESS_PROPS) out[k] = {};
  out.emailAddresses = [];
  return out;
}

/**
 * OData body deserialisation errors: an unknown property or a wrong type answers 400
 * `RequestBodyRead` before the workload sees the request (observed Graph gateway behaviour).
 */
function bodyError(message: string): GraphHttpError {
  return new GraphHttpError(400, 'RequestBodyRead', message);
}

/** Validates a contact body and returns the writable properties it sets. */
export function contactPatch(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw bodyError('The request body must be a JSON object.');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (READ_ONLY.has(key) || key.startsWith('@odata.')) continue;
    if (!WRITABLE.has(key)) {
      throw bodyError(
        `The property '${key}' does not exist on type 'microsoft.graph.contact'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
      );
    }
    if ((STRING_PROPS as readonly string[]).includes(key)) {
      if (value !== null && typeof value !== 'string')
        throw bodyError(`Cannot convert the value of '${key}' to Edm.String.`);
    } else if ((STRING_LIST_PROPS as readonly string[]).includes(key)) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
        throw bodyError(`Property '${key}' must be a collection of Edm.String.`);
    } else if ((ADDRESS_PROPS as readonly string[]).includes(key)) {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value)))
        throw bodyError(`Property '${key}' must be a microsoft.graph.physicalAddress.`);
    } else if (key === 'emailAddresses') {
      if (!Array.isArray(value) || value.some((v) => !v || typeof v !== 'object' || Array.isArray(v)))
        throw bodyError(`Property 'emailAddresses' must be a collection of microsoft.graph.emailAddress.`);
      if (value.length > MAX_CONTACT_EMAILS) {
        // Outlook's cap of three addresses (reference §8.5); the store never holds a fourth.
        throw badRequest(
          'outlook',
          `A contact can have at most ${MAX_CONTACT_EMAILS} email addresses; ${value.length} were given.`,
        );
      }
      out[key] = (value as Array<Record<string, unknown>>).map((e) => ({
        name: typeof e.name === 'string' ? e.name : typeof e.address === 'string' ? e.address : null,
        address: typeof e.address === 'string' ? e.address : null,
      }));
      continue;
    }
    out[key] = value === null && (ADDRESS_PROPS as readonly string[]).includes(key) ? {} : value;
  }
  return out;
}

/** Outlook fills displayName from the name parts when a new contact has none (contact resource). */
function derivedDisplayName(c: Record<string, unknown>): string | null {
  const parts = [c.givenName, c.middleName, c.surname].filter((p) => typeof p === 'string' && p);
  if (parts.length > 0) return parts.join(' ');
  const email = (c.emailAddresses as Array<{ address?: string | null }> | undefined)?.[0]?.address;
  return typeof c.companyName === 'string' && c.companyName ? c.companyName : (email ?? null);
}

/** Deterministic Outlook-looking ids for seeded data (stable across restarts). */
export function seededId(key: string, prefix = 'AAMkAG'): string {
  return prefix + createHash('sha256').update(key).digest('base64url').slice(0, 40);
}

function contactsRef(store: ChangeStore, userId: string): CollectionRef {
  return store.collection(userId, CONTACTS, { etag: 'outlook' });
}

function foldersRef(store: ChangeStore, userId: string): CollectionRef {
  return store.collection(userId, CONTACT_FOLDERS, { etag: 'outlook' });
}

/** The user's default "Contacts" folder, created on first use (every mailbox has one). */
export function defaultContactFolder(store: ChangeStore, userId: string): Entity {
  const ref = foldersRef(store, userId);
  const existing = store.list(ref).find((f) => f.wellKnownName === 'contacts');
  if (existing) return existing;
  return store.insert(ref, {
    id: seededId(`${userId}/contactFolders/contacts`, 'AAMkAGcf'),
    displayName: 'Contacts',
    parentFolderId: seededId(`${userId}/msgfolderroot`, 'AAMkAGrt'),
    wellKnownName: 'contacts',
  });
}

/**
 * contactFolder has no changeKey or timestamps (contactfolder resource); `wellKnownName` is a beta
 * property, kept inside the sandbox only.
 */
function renderFolder(f: Entity): Record<string, unknown> {
  return { id: f.id, displayName: f.displayName, parentFolderId: f.parentFolderId };
}

function findFolder(ctx: GraphCtx, idOrName: string): Entity {
  const store = ctx.graph.store;
  const def = defaultContactFolder(store, ctx.user!.id);
  // The well-known name `contacts` also addresses the default folder, as mail's well-known folder names do.
  if (idOrName.toLowerCase() === 'contacts') return def;
  const folder = store.get(foldersRef(store, ctx.user!.id), idOrName);
  if (!folder) throw notFound('outlook');
  return folder;
}

function findContact(ctx: GraphCtx, id: string, folderId?: string): Entity {
  const store = ctx.graph.store;
  const contact = store.get(contactsRef(store, ctx.user!.id), id);
  if (!contact || (folderId !== undefined && contact.parentFolderId !== folderId)) throw notFound('outlook');
  return contact;
}

function searchContact(c: Entity, term: string): boolean {
  const needle = term.replace(/^"|"$/g, '').toLowerCase();
  const fields = [c.displayName, c.givenName, c.surname, c.companyName, c.nickName];
  for (const e of (c.emailAddresses as Array<{ address?: string | null; name?: string | null }>) ?? []) {
    fields.push(e.address, e.name);
  }
  return fields.some((f) => typeof f === 'string' && f.toLowerCase().includes(needle));
}

/**
 * `emailAddresses` is not filterable beyond `any(a:a/address eq '...')`: a lambda with
 * startswith/contains answers 400 ErrorInvalidUrlQueryFilter
 * (https://github.com/microsoftgraph/microsoft-graph-docs/issues/2933).
 */
function assertContactFilter(query: ODataQuery): void {
  const text = query.filterText ?? '';
  const lambda = /emailAddresses\/(any|all)\s*\(([^)]*\)?)\)/gi;
  for (const m of text.matchAll(lambda)) {
    const body = m[2] ?? '';
    if (m[1]?.toLowerCase() !== 'any' || !/^\s*\w+\s*:\s*\w+\/address\s+eq\s+'/i.test(body)) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidUrlQueryFilter',
        'The query filter contains one or more invalid nodes.',
      );
    }
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function listContacts(ctx: GraphCtx, folderId: string): SandboxResponse {
  const store = ctx.graph.store;
  const items = store.list(contactsRef(store, ctx.user!.id)).filter((c) => c.parentFolderId === folderId);
  return collection(ctx, items, {
    kind: 'outlook', // $skip paging, default page 10 (reference §4.1)
    search: searchContact,
    validate: assertContactFilter,
    defaultOrder: (a, b) => text(a.displayName).localeCompare(text(b.displayName)),
  });
}

async function createContact(ctx: GraphCtx, folderId: string): Promise<SandboxResponse> {
  const patch = contactPatch(await ctx.json());
  const store = ctx.graph.store;
  const data: Record<string, unknown> = { ...contactDefaults(), ...patch, parentFolderId: folderId };
  if (!data.displayName) data.displayName = derivedDisplayName(data);
  const created = store.insert(contactsRef(store, ctx.user!.id), data);
  return entityResponse(ctx, created, { status: 201, context: `users('${ctx.user!.id}')/contacts/$entity` });
}

async function updateContact(ctx: GraphCtx, id: string, folderId?: string): Promise<SandboxResponse> {
  findContact(ctx, id, folderId);
  const patch = contactPatch(await ctx.json());
  const store = ctx.graph.store;
  // Top-level replace: a PATCH with emailAddresses replaces the whole collection (reference §8.5).
  const updated = store.update(contactsRef(store, ctx.user!.id), id, patch)!;
  return entityResponse(ctx, updated, { context: `users('${ctx.user!.id}')/contacts/$entity` });
}

function deleteContact(ctx: GraphCtx, id: string, folderId?: string): SandboxResponse {
  findContact(ctx, id, folderId);
  const store = ctx.graph.store;
  store.remove(contactsRef(store, ctx.user!.id), id);
  return empty(204);
}

function folderName(body: unknown): string {
  const name = (body as { displayName?: unknown } | null)?.displayName;
  if (typeof name !== 'string' || !name.trim())
    throw badRequest('outlook', 'The folder displayName is required.');
  return name;
}

function createFolder(ctx: GraphCtx, parentId: string, name: string): SandboxResponse {
  const store = ctx.graph.store;
  const ref = foldersRef(store, ctx.user!.id);
  const clash = store
    .list(ref)
    .some((f) => f.parentFolderId === parentId && String(f.displayName).toLowerCase() === name.toLowerCase());
  // Outlook refuses a sibling with the same name (observed for mail and contact folders).
  if (clash)
    throw new GraphHttpError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  const created = store.insert(ref, { displayName: name, parentFolderId: parentId, wellKnownName: null });
  return entityResponse(ctx, renderFolder(created), {
    status: 201,
    context: `users('${ctx.user!.id}')/contactFolders/$entity`,
  });
}

/** Removes a folder, its sub-folders and their contacts (each a tracked delete). */
function removeFolderTree(store: ChangeStore, userId: string, folderId: string): void {
  const folders = foldersRef(store, userId);
  for (const child of store.list(folders).filter((f) => f.parentFolderId === folderId)) {
    removeFolderTree(store, userId, child.id);
  }
  const contacts = contactsRef(store, userId);
  for (const c of store.list(contacts).filter((x) => x.parentFolderId === folderId))
    store.remove(contacts, c.id);
  store.remove(folders, folderId);
}

export function installContacts(sandbox: Sandbox): void {
  // ---- contact folders (literal routes before :param routes)
  graphRoute(sandbox, 'GET', '/me/contactFolders/delta', { scopes: READ }, (ctx) => {
    const store = ctx.graph.store;
    const def = defaultContactFolder(store, ctx.user!.id);
    return deltaResponse(ctx, foldersRef(store, ctx.user!.id), {
      style: 'outlook',
      filter: (f) => f.id !== def.id,
      render: (f) => renderFolder(f),
      context: 'Collection(contactFolder)',
    });
  });

  graphRoute(sandbox, 'GET', '/me/contactFolders', { scopes: READ }, (ctx) => {
    const store = ctx.graph.store;
    const def = defaultContactFolder(store, ctx.user!.id);
    const items = store.list(foldersRef(store, ctx.user!.id)).filter((f) => f.parentFolderId === def.id);
    return collection(ctx, items, { kind: 'outlook', render: renderFolder });
  });

  graphRoute(sandbox, 'POST', '/me/contactFolders', { scopes: WRITE }, async (ctx) => {
    const name = folderName(await ctx.json());
    return createFolder(ctx, defaultContactFolder(ctx.graph.store, ctx.user!.id).id, name);
  });

  // contact-delta.md: per folder; `$select` and `Prefer: odata.maxpagesize` are honoured.
  graphRoute(sandbox, 'GET', '/me/contactFolders/:folderId/contacts/delta', { scopes: READ }, (ctx) => {
    const folder = findFolder(ctx, ctx.params.folderId!);
    return deltaResponse(ctx, contactsRef(ctx.graph.store, ctx.user!.id), {
      style: 'outlook',
      filter: (c) => c.parentFolderId === folder.id,
      context: 'Collection(contact)',
    });
  });

  graphRoute(sandbox, 'GET', '/me/contactFolders/:folderId/contacts', { scopes: READ }, (ctx) =>
    listContacts(ctx, findFolder(ctx, ctx.params.folderId!).id),
  );
  graphRoute(
    sandbox,
    'POST',
    '/me/contactFolders/:folderId/contacts',
    { scopes: WRITE },
    async (ctx) => await createContact(ctx, findFolder(ctx, ctx.params.folderId!).id),
  );
  graphRoute(sandbox, 'GET', '/me/contactFolders/:folderId/contacts/:id', { scopes: READ }, (ctx) => {
    const folder = findFolder(ctx, ctx.params.folderId!);
    return entityResponse(ctx, findContact(ctx, ctx.params.id!, folder.id));
  });
  graphRoute(
    sandbox,
    'PATCH',
    '/me/contactFolders/:folderId/contacts/:id',
    { scopes: WRITE },
    async (ctx) => await updateContact(ctx, ctx.params.id!, findFolder(ctx, ctx.params.folderId!).id),
  );
  graphRoute(sandbox, 'DELETE', '/me/contactFolders/:folderId/contacts/:id', { scopes: WRITE }, (ctx) =>
    deleteContact(ctx, ctx.params.id!, findFolder(ctx, ctx.params.folderId!).id),
  );

  graphRoute(sandbox, 'GET', '/me/contactFolders/:folderId/childFolders', { scopes: READ }, (ctx) => {
    const folder = findFolder(ctx, ctx.params.folderId!);
    const store = ctx.graph.store;
    const items = store.list(foldersRef(store, ctx.user!.id)).filter((f) => f.parentFolderId === folder.id);
    return collection(ctx, items, { kind: 'outlook', render: renderFolder });
  });
  graphRoute(sandbox, 'POST', '/me/contactFolders/:folderId/childFolders', { scopes: WRITE }, async (ctx) => {
    const folder = findFolder(ctx, ctx.params.folderId!);
    return createFolder(ctx, folder.id, folderName(await ctx.json()));
  });

  graphRoute(sandbox, 'GET', '/me/contactFolders/:folderId', { scopes: READ }, (ctx) =>
    entityResponse(ctx, renderFolder(findFolder(ctx, ctx.params.folderId!)), {
      context: `users('${ctx.user!.id}')/contactFolders/$entity`,
    }),
  );
  graphRoute(sandbox, 'PATCH', '/me/contactFolders/:folderId', { scopes: WRITE }, async (ctx) => {
    const folder = findFolder(ctx, ctx.params.folderId!);
    const name = folderName(await ctx.json());
    if (folder.wellKnownName) throw distinguishedFolderError('renamed');
    const store = ctx.graph.store;
    const updated = store.update(foldersRef(store, ctx.user!.id), folder.id, { displayName: name })!;
    return entityResponse(ctx, renderFolder(updated), {
      context: `users('${ctx.user!.id}')/contactFolders/$entity`,
    });
  });
  graphRoute(sandbox, 'DELETE', '/me/contactFolders/:folderId', { scopes: WRITE }, (ctx) => {
    const folder = findFolder(ctx, ctx.params.folderId!);
    if (folder.wellKnownName) throw distinguishedFolderError('deleted');
    removeFolderTree(ctx.graph.store, ctx.user!.id, folder.id);
    return empty(204);
  });

  // ---- contacts in the default folder (/me/contacts, reference §8.5)
  graphRoute(sandbox, 'GET', '/me/contacts', { scopes: READ }, (ctx) =>
    listContacts(ctx, defaultContactFolder(ctx.graph.store, ctx.user!.id).id),
  );
  graphRoute(
    sandbox,
    'POST',
    '/me/contacts',
    { scopes: WRITE },
    async (ctx) => await createContact(ctx, defaultContactFolder(ctx.graph.store, ctx.user!.id).id),
  );
  // /me/contacts/{id} addresses a contact in any folder (contact-get.md).
  graphRoute(sandbox, 'GET', '/me/contacts/:id', { scopes: READ }, (ctx) =>
    entityResponse(ctx, findContact(ctx, ctx.params.id!)),
  );
  graphRoute(
    sandbox,
    'PATCH',
    '/me/contacts/:id',
    { scopes: WRITE },
    async (ctx) => await updateContact(ctx, ctx.params.id!),
  );
  graphRoute(sandbox, 'DELETE', '/me/contacts/:id', { scopes: WRITE }, (ctx) =>
    deleteContact(ctx, ctx.params.id!),
  );
}

/** Exchange refuses to delete or rename a distinguished (well-known) folder. */
function distinguishedFolderError(what: 'deleted' | 'renamed'): GraphHttpError {
  return new GraphHttpError(
    400,
    what === 'deleted' ? 'ErrorDeleteDistinguishedFolder' : 'ErrorCannotRenameDistinguishedFolder',
    `Distinguished folders cannot be ${what}.`,
  );
}

const SEED: Record<string, Array<Record<string, unknown>>> = {
  'adele.vance@contoso.test': [
    {
      givenName: 'Pavel',
      surname: 'Bansky',
      companyName: 'Fabrikam',
      jobTitle: 'Buyer',
      emailAddresses: [{ name: 'Pavel Bansky', address: 'pavelb@fabrikam.example' }],
      businessPhones: ['+1 732 555 0102'],
    },
    {
      givenName: 'Ana',
      surname: 'Trujillo',
      companyName: 'Northwind Traders',
      jobTitle: 'Account Manager',
      emailAddresses: [
        { name: 'Ana Trujillo', address: 'ana@northwind.example' },
        { name: 'Ana Trujillo (home)', address: 'ana.trujillo@mail.example' },
      ],
      mobilePhone: '+49 151 5550 1234',
    },
    {
      givenName: 'Megan',
      surname: 'Bowen',
      companyName: 'Contoso',
      emailAddresses: [{ name: 'Megan Bowen', address: 'megan.bowen@contoso.test' }],
    },
  ],
  'megan.bowen@contoso.test': [
    {
      givenName: 'Adele',
      surname: 'Vance',
      companyName: 'Contoso',
      emailAddresses: [{ name: 'Adele Vance', address: 'adele.vance@contoso.test' }],
    },
    {
      givenName: 'Diego',
      surname: 'Siciliani',
      companyName: 'Litware',
      jobTitle: 'Event Planner',
      emailAddresses: [{ name: 'Diego Siciliani', address: 'diego@litware.example' }],
      businessPhones: ['+1 206 555 0199'],
    },
  ],
  'lee.gu@contoso.test': [
    {
      givenName: 'Yuki',
      surname: 'Tanaka',
      companyName: 'Adventure Works',
      emailAddresses: [{ name: 'Yuki Tanaka', address: 'yuki@adventure-works.example' }],
    },
  ],
};

/** Demo data for the seeded users (npm start): a default folder, a "Suppliers" folder, a few contacts. */
export function seedContacts(sandbox: Sandbox): void {
  const store = graphState(sandbox).store;
  for (const [upn, contacts] of Object.entries(SEED)) {
    const user = sandbox.directory.findUser(upn);
    if (!user) continue;
    const def = defaultContactFolder(store, user.id);
    const folders = foldersRef(store, user.id);
    const suppliersId = seededId(`${user.id}/contactFolders/suppliers`, 'AAMkAGcf');
    if (!store.get(folders, suppliersId)) {
      store.insert(folders, {
        id: suppliersId,
        displayName: 'Suppliers',
        parentFolderId: def.id,
        wellKnownName: null,
      });
    }
    const ref = contactsRef(store, user.id);
    contacts.forEach((c, i) => {
      const id = seededId(`${user.id}/contacts/${i}`);
      if (store.get(ref, id)) return;
      const data: Record<string, unknown> = { ...contactDefaults(), ...c, id, parentFolderId: def.id };
      data.displayName = derivedDisplayName(data);
      store.insert(ref, data);
    });
  }
}
