/**
 * Contacts actions over HTTP through the local host, against the sandbox (reference §8.5):
 * list and search, get, create, update with merged collections, delete, folders, and the error
 * paths a caller sees (bad input, not found, no rights, conflicts).
 */
import { graphState } from '../../sandbox/graph';
import { injectFault, requestLog } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const LEE = 'lee.gu@contoso.test';
let t: TestApp;
let userId: string;

interface Contact {
  id: string;
  folderId: string;
  displayName: string | null;
  companyName: string | null;
  emails: Array<{ address: string; name: string | null }>;
  businessPhones: string[];
  birthday: string | null;
}

async function call<T = unknown>(action: string, input: unknown, expected = 200): Promise<T> {
  const res = await t.call(userId, 'POST', `/contacts/${action}`, input);
  const body = (await res.json()) as T;
  if (res.status !== expected) throw new Error(`${action} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function problem(
  action: string,
  input: unknown,
): Promise<{ status: number; code: string; detail: string; errors?: Array<{ field: string }> }> {
  const res = await t.call(userId, 'POST', `/contacts/${action}`, input);
  return { status: res.status, ...((await res.json()) as { code: string; detail: string }) };
}

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect(LEE, { features: ['contacts'] });
});
afterAll(async () => await t.stop());

test('create and get a contact: our own shape, birthday as a calendar date', async () => {
  const created = await call<Contact>(
    'createContact',
    {
      givenName: 'Pavel',
      surname: 'Bansky',
      companyName: 'Fabrikam',
      emails: [{ address: 'pavelb@fabrikam.example', name: 'Pavel Bansky' }],
      businessPhones: ['+1 732 555 0102'],
      birthday: '1984-07-22',
    },
    201,
  );
  expect(created).toMatchObject({
    displayName: 'Pavel Bansky',
    companyName: 'Fabrikam',
    emails: [{ address: 'pavelb@fabrikam.example', name: 'Pavel Bansky' }],
    businessPhones: ['+1 732 555 0102'],
    birthday: '1984-07-22',
    folderId: expect.any(String),
  });
  expect(created).not.toHaveProperty('@odata.etag');
  const read = await call<Contact>('getContact', { contactId: created.id });
  expect(read).toEqual(created);
});

test('changing one of three email addresses leaves the other two', async () => {
  // Graph replaces emailAddresses whole on PATCH (§8.5, contact-update); the action merges first.
  const c = await call<Contact>(
    'createContact',
    {
      givenName: 'Ana',
      emails: [
        { address: 'ana@northwind.example', name: 'Work' },
        { address: 'ana@home.example', name: 'Home' },
        { address: 'ana@other.example', name: 'Other' },
      ],
      businessPhones: ['+49 30 555 0100'],
    },
    201,
  );
  const updated = await call<Contact>('updateContact', {
    contactId: c.id,
    emails: { change: [{ from: 'ana@home.example', address: 'ana@newhome.example' }] },
    businessPhones: { add: ['+49 30 555 0199'] },
  });
  expect(updated.emails).toEqual([
    { address: 'ana@northwind.example', name: 'Work' },
    { address: 'ana@newhome.example', name: 'Home' },
    { address: 'ana@other.example', name: 'Other' },
  ]);
  expect(updated.businessPhones).toEqual(['+49 30 555 0100', '+49 30 555 0199']);
  // What Microsoft Graph now holds (the sandbox's store), not just what the action answered.
  const user = t.sandbox.directory.findUser(LEE)!;
  const store = graphState(t.sandbox).store;
  const stored = store.get(store.collection(user.id, 'contacts'), c.id)!;
  expect((stored.emailAddresses as Array<{ address: string }>).map((e) => e.address)).toEqual([
    'ana@northwind.example',
    'ana@newhome.example',
    'ana@other.example',
  ]);
});

test('scalar updates touch nothing else; a merge that would exceed three addresses is refused before Graph', async () => {
  const c = await call<Contact>(
    'createContact',
    {
      givenName: 'Full',
      emails: [{ address: 'a@x.example' }, { address: 'b@x.example' }, { address: 'c@x.example' }],
    },
    201,
  );
  const renamed = await call<Contact>('updateContact', { contactId: c.id, companyName: 'Litware' });
  expect(renamed.companyName).toBe('Litware');
  expect(renamed.emails).toHaveLength(3);

  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const p = await problem('updateContact', {
    contactId: c.id,
    emails: { add: [{ address: 'd@x.example' }] },
  });
  expect(p.status).toBe(400);
  expect(p.code).toBe('invalid_input');
  expect(p.errors?.[0]?.field).toBe('emails');
  expect((await requestLog(t.sandbox, since)).filter((e) => e.method === 'PATCH')).toHaveLength(0);

  const unknownFrom = await problem('updateContact', {
    contactId: c.id,
    emails: { change: [{ from: 'nobody@x.example', address: 'e@x.example' }] },
  });
  expect(unknownFrom.status).toBe(400);
  expect(unknownFrom.errors?.[0]?.field).toBe('emails.change');
});

test('bad input is named field by field', async () => {
  const four = await problem('createContact', {
    givenName: 'Four',
    emails: ['1', '2', '3', '4'].map((n) => ({ address: `${n}@x.example` })),
  });
  expect(four.status).toBe(400);
  expect(four.code).toBe('invalid_input');
  const badDate = await problem('createContact', { givenName: 'X', birthday: '22/07/1984' });
  expect(badDate.status).toBe(400);
  const nothing = await problem('updateContact', { contactId: 'AAMkAGx' });
  expect(nothing.status).toBe(400);
});

test('search by name prefix, company prefix and exact email; pages carry a cursor', async () => {
  await call(
    'createContact',
    {
      givenName: 'Zelda',
      surname: 'Quist',
      companyName: 'Quokka Ltd',
      emails: [{ address: 'zq@quokka.example' }],
    },
    201,
  );
  const byName = await call<{ items: Contact[] }>('listContacts', { search: 'Zel' });
  expect(byName.items.map((c) => c.displayName)).toEqual(['Zelda Quist']);
  const byCompany = await call<{ items: Contact[] }>('listContacts', { search: 'quokka' });
  expect(byCompany.items).toHaveLength(1);
  const byEmail = await call<{ items: Contact[] }>('listContacts', { search: 'zq@quokka.example' });
  expect(byEmail.items).toHaveLength(1);
  const none = await call<{ items: Contact[] }>('listContacts', { search: "O'Brien" });
  expect(none.items).toEqual([]);

  const first = await call<{ items: Contact[]; nextCursor?: string }>('listContacts', { top: 2 });
  expect(first.items).toHaveLength(2);
  expect(first.nextCursor).toEqual(expect.any(String));
  const second = await call<{ items: Contact[] }>('listContacts', { top: 2, cursor: first.nextCursor });
  expect(second.items[0]!.id).not.toBe(first.items[0]!.id);
});

test('not found, no rights and an ungranted feature are clear problems', async () => {
  const missing = await problem('getContact', { contactId: 'AAMkAGdoesnotexist' });
  expect(missing.status).toBe(404);
  expect(missing.code).toBe('not_found');

  const user = t.sandbox.directory.findUser(LEE)!;
  await injectFault(t.sandbox, {
    method: 'GET',
    path: '/me/contacts(\\?|$)',
    userId: user.id,
    status: 403,
    code: 'ErrorAccessDenied',
  });
  const denied = await problem('listContacts', {});
  expect(denied.status).toBe(403);
  expect(denied.code).toBe('forbidden');

  const todoOnly = await t.connect('megan.bowen@contoso.test', { features: ['todo'] });
  const res = await t.call(todoOnly, 'POST', '/contacts/listContacts', {});
  expect(res.status).toBe(403);
  expect((await res.json()).code).toBe('feature_not_granted');
});

test('delete a contact; a second delete is not_found', async () => {
  const c = await call<Contact>('createContact', { givenName: 'Temp' }, 201);
  expect(await call('deleteContact', { contactId: c.id })).toEqual({ contactId: c.id, deleted: true });
  expect((await problem('deleteContact', { contactId: c.id })).code).toBe('not_found');
});

test('contact folders: create, clash, contacts in a folder, rename, delete; the default folder is protected', async () => {
  const folder = await call<{ id: string; name: string; parentFolderId: string }>(
    'createFolder',
    { name: 'Vendors' },
    201,
  );
  expect(folder.name).toBe('Vendors');
  const clash = await problem('createFolder', { name: 'Vendors' });
  expect(clash.status).toBe(409);
  expect(clash.code).toBe('conflict');

  const inside = await call<Contact>(
    'createContact',
    { folderId: folder.id, givenName: 'Vera', companyName: 'Vendorco' },
    201,
  );
  expect(inside.folderId).toBe(folder.id);
  const listed = await call<{ items: Contact[] }>('listContacts', { folderId: folder.id });
  expect(listed.items.map((c) => c.id)).toEqual([inside.id]);
  const folders = await call<{ items: Array<{ id: string; name: string }> }>('listFolders', {});
  expect(folders.items.map((f) => f.name)).toContain('Vendors');

  expect(
    (await call<{ name: string }>('renameFolder', { folderId: folder.id, name: 'Suppliers B' })).name,
  ).toBe('Suppliers B');
  const protectedDelete = await problem('deleteFolder', { folderId: folder.parentFolderId });
  expect(protectedDelete.status).toBe(400);
  expect(protectedDelete.detail).toContain('default Contacts folder');
  await call('deleteFolder', { folderId: folder.id });
  expect((await problem('getContact', { contactId: inside.id })).status).toBe(404);
});
