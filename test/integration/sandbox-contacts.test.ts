/**
 * The sandbox's contacts and contact folders through the real @microsoft/microsoft-graph-client.
 * Each [EMU] rule cites ../shared/reference/graph-behaviour.md (§8.5 contacts, §5.2 contact delta,
 * §1 errors) and the Microsoft page it comes from.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { controlCall, startTestSandbox, graphFailure, mintToken, graphClientFor } from '../support/sandbox';

let sandbox: Sandbox;
let rw: Client;
let ro: Client;

interface Contact {
  id: string;
  displayName: string | null;
  givenName: string | null;
  parentFolderId: string;
  emailAddresses: Array<{ name: string | null; address: string | null }>;
  businessPhones: string[];
  companyName: string | null;
  changeKey: string;
}

const tokenFor = (user: string, scopes: string[]) => mintToken(sandbox, user, scopes);

const graphClient = (token: string) => graphClientFor(sandbox, token);

const threeEmails = [
  { name: 'Work', address: 'pat@fabrikam.example' },
  { name: 'Home', address: 'pat@home.example' },
  { name: 'Other', address: 'pat@other.example' },
];

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  rw = graphClient(await tokenFor('lee.gu@contoso.test', ['Contacts.ReadWrite']));
  ro = graphClient(await tokenFor('lee.gu@contoso.test', ['Contacts.Read']));
});
afterAll(async () => await sandbox.stop());

describe('contacts', () => {
  test('create answers 201 with the full contact; displayName is derived from the name parts', async () => {
    // §8.5 (user-post-contacts): POST /me/contacts → 201 contact.
    const created = (await rw.api('/me/contacts').post({
      givenName: 'Pavel',
      surname: 'Bansky',
      emailAddresses: [{ address: 'pavelb@contoso.example', name: 'Pavel Bansky' }],
      businessPhones: ['+1 732 555 0102'],
    })) as Contact;
    expect(created.displayName).toBe('Pavel Bansky');
    expect(created.changeKey).toEqual(expect.any(String));
    expect(created.parentFolderId).toEqual(expect.any(String));
    expect(created.companyName).toBeNull();
    const read = (await ro.api(`/me/contacts/${encodeURIComponent(created.id)}`).get()) as Contact;
    expect(read.businessPhones).toEqual(['+1 732 555 0102']);
  });

  test('PATCH replaces a collection whole: sending one address drops the other two', async () => {
    // §8.5 (contact-update): "Collections such as emailAddresses ... are replaced, not merged."
    const c = (await rw
      .api('/me/contacts')
      .post({ givenName: 'Pat', emailAddresses: threeEmails })) as Contact;
    expect(c.emailAddresses).toHaveLength(3);
    const patched = (await rw
      .api(`/me/contacts/${encodeURIComponent(c.id)}`)
      .patch({ emailAddresses: [{ name: 'Work', address: 'pat@new.example' }] })) as Contact;
    expect(patched.emailAddresses).toEqual([{ name: 'Work', address: 'pat@new.example' }]);
    expect(patched.changeKey).not.toBe(c.changeKey);
    // Properties the PATCH didn't name are kept.
    expect(patched.givenName).toBe('Pat');
  });

  test('a fourth email address is refused (Outlook keeps at most three)', async () => {
    // §8.5 contact resource: emailAddresses max 3 in Outlook.
    const err = await graphFailure(
      rw.api('/me/contacts').post({
        givenName: 'Too',
        emailAddresses: [...threeEmails, { name: 'Fourth', address: 'four@example.test' }],
      }),
    );
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('ErrorInvalidRequest');
  });

  test('an unknown property answers 400 RequestBodyRead', async () => {
    const err = await graphFailure(rw.api('/me/contacts').post({ givenName: 'X', favouriteColour: 'blue' }));
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('RequestBodyRead');
  });

  test('unknown ids answer 404 ErrorItemNotFound for get, update and delete', async () => {
    // §1.1/§8.5: Outlook's ErrorItemNotFound for a missing contact.
    for (const call of [
      () => ro.api('/me/contacts/AAMkAGnope').get(),
      () => rw.api('/me/contacts/AAMkAGnope').patch({ givenName: 'x' }),
      () => rw.api('/me/contacts/AAMkAGnope').delete(),
    ]) {
      const err = await graphFailure(call());
      expect(err.statusCode).toBe(404);
      expect(err.code).toBe('ErrorItemNotFound');
    }
  });

  test('delete answers 204 and the contact is gone', async () => {
    const c = (await rw.api('/me/contacts').post({ givenName: 'Gone' })) as Contact;
    const res = await fetch(`${sandbox.graphBaseUrl}/me/contacts/${encodeURIComponent(c.id)}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await tokenFor('lee.gu@contoso.test', ['Contacts.ReadWrite'])}` },
    });
    expect(res.status).toBe(204);
    expect((await graphFailure(ro.api(`/me/contacts/${encodeURIComponent(c.id)}`).get())).statusCode).toBe(
      404,
    );
  });

  test('$filter by email works with any(a:a/address eq ...) only; startswith in the lambda is 400', async () => {
    // §8.5 $filter example; https://github.com/microsoftgraph/microsoft-graph-docs/issues/2933.
    await rw.api('/me/contacts').post({
      givenName: 'Filterable',
      emailAddresses: [{ address: 'filter.me@northwind.example' }],
    });
    const hit = await ro
      .api('/me/contacts')
      .filter("emailAddresses/any(a:a/address eq 'filter.me@northwind.example')")
      .get();
    expect(hit.value.map((c: Contact) => c.displayName)).toEqual(['Filterable']);
    const err = await graphFailure(
      ro.api('/me/contacts').filter("emailAddresses/any(a:startswith(a/address,'filter'))").get(),
    );
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('ErrorInvalidUrlQueryFilter');
    const byName = await ro.api('/me/contacts').filter("startswith(displayName,'filt')").get();
    expect(byName.value).toHaveLength(1);
  });

  test('lists page with $skip and a default page of 10', async () => {
    // §4.1: Outlook contacts page with $skip, default page 10.
    const client = graphClient(await tokenFor('megan.bowen@contoso.test', ['Contacts.ReadWrite']));
    for (let i = 0; i < 12; i++)
      await client.api('/me/contacts').post({ givenName: `Page${String(i).padStart(2, '0')}` });
    const first = await client.api('/me/contacts').get();
    expect(first.value).toHaveLength(10);
    expect(first['@odata.nextLink']).toContain('$skip=10');
    const second = await client.api(first['@odata.nextLink']).get();
    expect(second.value.length).toBeGreaterThan(0);
    expect(second['@odata.nextLink']).toBeUndefined();
  });

  test('a read-only token cannot write (403 ErrorAccessDenied naming Contacts.ReadWrite)', async () => {
    const err = await graphFailure(ro.api('/me/contacts').post({ givenName: 'Nope' }));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe('ErrorAccessDenied');
    expect(err.message).toContain('Contacts.ReadWrite');
  });

  test("another user's contacts need mailbox rights", async () => {
    const err = await graphFailure(rw.api('/users/adele.vance@contoso.test/contacts').get());
    expect(err.statusCode).toBe(403);
  });
});

describe('contact folders', () => {
  test('folders are created in the default folder, names are unique, contacts live in their folder', async () => {
    const folder = await rw.api('/me/contactFolders').post({ displayName: 'Vendors' });
    expect(folder).toMatchObject({ displayName: 'Vendors' });
    // wellKnownName is a beta property: v1.0 (its API description) has none.
    expect(folder).not.toHaveProperty('wellKnownName');
    const clash = await graphFailure(rw.api('/me/contactFolders').post({ displayName: 'vendors' }));
    expect(clash.statusCode).toBe(409);
    expect(clash.code).toBe('ErrorFolderExists');

    const inFolder = (await rw
      .api(`/me/contactFolders/${encodeURIComponent(folder.id)}/contacts`)
      .post({ givenName: 'Vendor', companyName: 'Litware' })) as Contact;
    expect(inFolder.parentFolderId).toBe(folder.id);
    // /me/contacts lists the default folder only (§8.5).
    const defaults = await ro.api('/me/contacts').top(100).get();
    expect(defaults.value.map((c: Contact) => c.id)).not.toContain(inFolder.id);
    const listed = await ro.api(`/me/contactFolders/${encodeURIComponent(folder.id)}/contacts`).get();
    expect(listed.value.map((c: Contact) => c.id)).toEqual([inFolder.id]);

    // user-list-contactfolders.md: the folders in the default Contacts folder.
    const folders = await ro.api('/me/contactFolders').get();
    const names = folders.value.map((f: { displayName: string }) => f.displayName);
    expect(names).toContain('Vendors');
    expect(names).not.toContain('Contacts');
    const def = await ro.api(`/me/contactFolders/${encodeURIComponent(folder.parentFolderId)}`).get();
    expect(def).toMatchObject({ displayName: 'Contacts' });

    const renamed = await rw
      .api(`/me/contactFolders/${encodeURIComponent(folder.id)}`)
      .patch({ displayName: 'Suppliers 2' });
    expect(renamed.displayName).toBe('Suppliers 2');
    await rw.api(`/me/contactFolders/${encodeURIComponent(folder.id)}`).delete();
    expect(
      (await graphFailure(ro.api(`/me/contacts/${encodeURIComponent(inFolder.id)}`).get())).statusCode,
    ).toBe(404);
  });

  test('the default folder cannot be deleted; unknown folders are 404', async () => {
    const c = (await rw.api('/me/contacts').post({ givenName: 'Anchor' })) as Contact;
    const err = await graphFailure(
      rw.api(`/me/contactFolders/${encodeURIComponent(c.parentFolderId)}`).delete(),
    );
    expect(err.statusCode).toBe(400);
    const missing = await graphFailure(ro.api('/me/contactFolders/AAMkAGnope/contacts').get());
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('ErrorItemNotFound');
  });
});

describe('contact delta (per folder)', () => {
  test('initial round, then changes and @removed deletions, tokens carrying $select', async () => {
    // §5.2 (contact-delta.md): GET /me/contactFolders/{id}/contacts/delta; $select; maxpagesize.
    const client = graphClient(await tokenFor('adele.vance@contoso.test', ['Contacts.ReadWrite']));
    const seedContact = (await client.api('/me/contacts').top(1).get()).value[0] as Contact;
    const folderId = seedContact.parentFolderId;
    const url = `/me/contactFolders/${encodeURIComponent(folderId)}/contacts/delta`;
    let page = await client.api(url).select('displayName').header('Prefer', 'odata.maxpagesize=2').get();
    const initial: Array<Record<string, unknown>> = [...page.value];
    while (page['@odata.nextLink']) {
      page = await client.api(page['@odata.nextLink']).header('Prefer', 'odata.maxpagesize=2').get();
      initial.push(...page.value);
    }
    expect(initial.length).toBe(3); // the seeded contacts
    expect(initial[0]).toHaveProperty('displayName');
    expect(initial[0]).not.toHaveProperty('givenName');
    const deltaLink = page['@odata.deltaLink'] as string;
    expect(deltaLink).toContain('$deltatoken=');

    const added = (await client.api('/me/contacts').post({ givenName: 'Delta', surname: 'New' })) as Contact;
    await client.api(`/me/contacts/${encodeURIComponent(seedContact.id)}`).delete();
    const changes = await client.api(deltaLink).get();
    const byId = new Map(changes.value.map((v: { id: string }) => [v.id, v]));
    expect(byId.get(added.id)).toMatchObject({ displayName: 'Delta New' });
    expect(byId.get(added.id)).not.toHaveProperty('givenName'); // $select carried by the token
    expect(byId.get(seedContact.id)).toEqual({ id: seedContact.id, '@removed': { reason: 'deleted' } });
  });

  test('an expired token answers 410 SyncStateNotFound', async () => {
    // §5.1 item 7 (microsoft-graph-docs#2350).
    const client = graphClient(await tokenFor('megan.bowen@contoso.test', ['Contacts.Read']));
    const c = (await client.api('/me/contacts').top(1).get()).value[0] as Contact;
    let page = await client
      .api(`/me/contactFolders/${encodeURIComponent(c.parentFolderId)}/contacts/delta`)
      .get();
    while (page['@odata.nextLink']) page = await client.api(page['@odata.nextLink']).get();
    await controlCall(sandbox, 'POST', '/delta/invalidate', {
      userId: 'megan.bowen@contoso.test',
      collection: 'contacts',
    });
    const err = await graphFailure(client.api(page['@odata.deltaLink']).get());
    expect(err.statusCode).toBe(410);
    expect(err.code).toBe('SyncStateNotFound');
  });
});
