/**
 * The sandbox's SharePoint through the real @microsoft/microsoft-graph-client: sites in every
 * addressing form, lists and columns, list items with `fields`, the non-indexed filter rule,
 * item writes with eTags, and list item delta. Each rule cites the Microsoft page or issue it
 * comes from.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { graphClientFor, graphFailure, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let sandbox: Sandbox;
let ro: Client;
let rw: Client;
let marketing: Json;

const ADELE = 'adele.vance@contoso.test';
const HOST = 'contoso.sharepoint.com';

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  ro = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Sites.Read.All']));
  rw = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Sites.ReadWrite.All']));
  marketing = await ro.api(`/sites/${HOST}:/sites/marketing`).get();
});
afterAll(async () => await sandbox.stop());

describe('sites', () => {
  test('a site id is hostname,siteCollectionId,webId and every documented form reaches the same site', async () => {
    // site.md: "id ... hostname, site collection id and web id, separated by commas"; site-get.md
    // lists /sites/{site-id}, /sites/{hostname}:/{server-relative-path} and /sites/root.
    const parts = String(marketing.id).split(',');
    expect(parts).toHaveLength(3);
    expect(parts[0]).toBe(HOST);
    for (const guid of parts.slice(1))
      expect(guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(marketing).toMatchObject({
      displayName: 'Marketing',
      webUrl: `https://${HOST}/sites/marketing`,
      siteCollection: { hostname: HOST },
      sharepointIds: { siteId: parts[1], webId: parts[2] },
    });
    expect((await ro.api(`/sites/${marketing.id}`).get()).id).toBe(marketing.id);
    // The path form continues into the site after a second colon.
    const lists = await ro.api(`/sites/${HOST}:/sites/marketing:/lists`).get();
    expect(lists.value.map((l: Json) => String(l.displayName))).toContain('Campaigns');

    const root = await ro.api('/sites/root').get();
    expect(root.root).toEqual({});
    expect((await ro.api(`/sites/${HOST}`).get()).id).toBe(root.id);

    const missing = await graphFailure(ro.api(`/sites/${HOST}:/sites/nowhere`).get());
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('itemNotFound');
  });

  test('search, followed sites and subsites', async () => {
    // site-search.md: GET /sites?search={query}.
    const found = await ro.api('/sites').query({ search: 'market' }).get();
    expect(found.value.map((s: Json) => String(s.displayName)).sort()).toEqual([
      'Marketing',
      'Marketing EMEA',
    ]);
    // site-follow.md / site-list-followed: the sites the signed-in user follows.
    const followed = await ro.api('/me/followedSites').get();
    expect(followed.value.map((s: Json) => String(s.displayName))).toEqual(['Marketing']);
    // site-list-subsites.md.
    const subsites = await ro.api(`/sites/${marketing.id}/sites`).get();
    expect(subsites.value.map((s: Json) => String(s.displayName))).toEqual(['Marketing EMEA']);
  });

  test('reading needs Sites.Read.All; writing needs Sites.ReadWrite.All', async () => {
    const none = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Files.Read']));
    expect((await graphFailure(none.api('/sites/root').get())).statusCode).toBe(403);
    const denied = await graphFailure(
      ro.api(`/sites/${marketing.id}/lists/Campaigns/items`).post({ fields: { Title: 'x' } }),
    );
    expect(denied.statusCode).toBe(403);
  });
});

describe('lists, columns and items', () => {
  test('a list by id or title, with the list facet, and its typed columns', async () => {
    const lists = await ro.api(`/sites/${marketing.id}/lists`).get();
    const campaigns = lists.value.find((l: Json) => l.displayName === 'Campaigns');
    expect(campaigns.list).toEqual({ contentTypesEnabled: false, hidden: false, template: 'genericList' });
    expect((await ro.api(`/sites/${marketing.id}/lists/Campaigns`).get()).id).toBe(campaigns.id);
    const columns = (await ro.api(`/sites/${marketing.id}/lists/${campaigns.id}/columns`).get())
      .value as Json[];
    const byName = Object.fromEntries(columns.map((c) => [c.name, c]));
    // columndefinition.md: one type facet per column.
    expect(byName.Status.choice.choices).toEqual(['Planned', 'Active', 'Done']);
    expect(byName.Status.indexed).toBe(true);
    expect(byName.Budget.number).toBeDefined();
    expect(byName.Launch.dateTime).toBeDefined();
    expect(byName.Approved.boolean).toBeDefined();
    expect(byName.Owner.personOrGroup).toBeDefined();
    expect(byName.Created.readOnly).toBe(true);
  });

  test('fields appear only when expanded, and expand can select fields', async () => {
    // listitem-list.md: GET .../items?expand=fields(select=Column1,Column2).
    const bare = await ro.api(`/sites/${marketing.id}/lists/Campaigns/items`).get();
    expect(bare.value[0].fields).toBeUndefined();
    const all = await ro.api(`/sites/${marketing.id}/lists/Campaigns/items`).expand('fields').get();
    expect(all.value[0].fields).toMatchObject({
      Title: 'Spring launch',
      Status: 'Active',
      Budget: 25000,
      Approved: true,
    });
    expect(all.value[0].fields.OwnerLookupId).toMatch(/^\d+$/);
    const some = await ro
      .api(`/sites/${marketing.id}/lists/Campaigns/items`)
      .query({ expand: 'fields(select=Title,Status)' })
      .get();
    expect(Object.keys(some.value[0].fields).sort()).toEqual(['@odata.etag', 'Status', 'Title']);
  });

  test('filtering on a column that is not indexed needs the Prefer header (microsoft-graph-docs#2279)', async () => {
    const items = `/sites/${marketing.id}/lists/Campaigns/items`;
    // Status is indexed: allowed.
    const active = await ro.api(items).expand('fields').filter("fields/Status eq 'Active'").get();
    expect(active.value.map((i: Json) => String(i.fields.Title))).toEqual(['Spring launch']);
    // Budget is not: SharePoint's 400, naming the field and the header.
    const refused = await graphFailure(ro.api(items).expand('fields').filter('fields/Budget gt 10000').get());
    expect(refused.statusCode).toBe(400);
    expect(refused.message).toContain(
      "Field 'Budget' cannot be referenced in filter or orderby as it is not indexed",
    );
    expect(refused.message).toContain('HonorNonIndexedQueriesWarningMayFailRandomly');
    const allowed = await ro
      .api(items)
      .header('Prefer', 'HonorNonIndexedQueriesWarningMayFailRandomly')
      .expand('fields')
      .filter('fields/Budget gt 10000')
      .get();
    expect(allowed.value.map((i: Json) => String(i.fields.Title)).sort()).toEqual([
      'Spring launch',
      'Winter sale',
    ]);
  });

  test('create, update with the eTag (a stale one is refused with 412), delete', async () => {
    const items = `/sites/${marketing.id}/lists/Campaigns/items`;
    const created = await rw
      .api(items)
      .post({ fields: { Title: 'Trade fair', Status: 'Planned', Budget: 500 } });
    expect(created.id).toMatch(/^\d+$/);
    expect(created.fields).toMatchObject({ Title: 'Trade fair', Status: 'Planned', Budget: 500 });
    const etag = created.eTag as string;

    // listitem-update.md: PATCH .../items/{id}/fields answers the fieldValueSet.
    const updated = await rw
      .api(`${items}/${created.id}/fields`)
      .header('If-Match', etag)
      .patch({ Status: 'Active' });
    expect(updated.Status).toBe('Active');
    const stale = await graphFailure(
      rw.api(`${items}/${created.id}/fields`).header('If-Match', etag).patch({ Budget: 1 }),
    );
    expect(stale.statusCode).toBe(412);

    // Values are checked against the column types.
    const badChoice = await graphFailure(
      rw.api(`${items}/${created.id}/fields`).patch({ Status: 'Cancelled' }),
    );
    expect(badChoice.statusCode).toBe(400);
    expect(badChoice.message).toContain('Status');
    const unknown = await graphFailure(rw.api(items).post({ fields: { Title: 'x', Colour: 'red' } }));
    expect(unknown.message).toBe("Field 'Colour' is not recognized");
    const readOnly = await graphFailure(
      rw.api(`${items}/${created.id}/fields`).patch({ Created: '2020-01-01T00:00:00Z' }),
    );
    expect(readOnly.statusCode).toBe(400);

    await rw.api(`${items}/${created.id}`).delete();
    expect((await graphFailure(ro.api(`${items}/${created.id}`).get())).statusCode).toBe(404);
    // Ids are never reused.
    const next = await rw.api(items).post({ fields: { Title: 'After' } });
    expect(Number(next.id)).toBeGreaterThan(Number(created.id));
    await rw.api(`${items}/${next.id}`).delete();
  });

  test('a list is created with columns; list item delta reports changes and deletions drive-style', async () => {
    const list = await rw.api(`/sites/${marketing.id}/lists`).post({
      displayName: 'Assets',
      columns: [
        { name: 'Kind', choice: { choices: ['Logo', 'Photo'] }, indexed: true },
        { name: 'Width', number: {} },
      ],
      list: { template: 'genericList' },
    });
    expect(list.list.template).toBe('genericList');
    const items = `/sites/${marketing.id}/lists/${list.id}/items`;
    const a = await rw.api(items).post({ fields: { Title: 'Logo', Kind: 'Logo', Width: 120 } });

    // listitem-delta.md: the first round enumerates, its deltaLink reports what changed since.
    const first = await ro.api(`${items}/delta`).get();
    expect(first.value.map((i: Json) => String(i.id))).toEqual([a.id]);
    const deltaLink = first['@odata.deltaLink'] as string;
    expect(deltaLink).toContain('token=');

    const b = await rw.api(items).post({ fields: { Title: 'Team photo', Kind: 'Photo' } });
    await rw.api(`${items}/${a.id}`).delete();
    const second = await ro.api(deltaLink).get();
    const byId = Object.fromEntries((second.value as Json[]).map((i) => [i.id, i]));
    expect(Object.keys(byId).sort()).toEqual([a.id, b.id].sort());
    expect(byId[a.id].deleted).toBeDefined();
    expect(byId[b.id].deleted).toBeUndefined();
  });
});

describe('document libraries: drives served by the drive model', () => {
  test('a site has its Documents library, listed as a list and as a drive', async () => {
    // drive-list.md: GET /sites/{siteId}/drives; drive-get.md: GET /sites/{siteId}/drive.
    const drives = await ro.api(`/sites/${marketing.id}/drives`).get();
    expect(drives.value).toHaveLength(1);
    const library = drives.value[0] as Json;
    expect(library).toMatchObject({ driveType: 'documentLibrary', name: 'Documents' });
    expect((await ro.api(`/sites/${marketing.id}/drive`).get()).id).toBe(library.id);
    const lists = await ro.api(`/sites/${marketing.id}/lists`).get();
    const documents = (lists.value as Json[]).find((l) => l.list.template === 'documentLibrary');
    expect(documents?.displayName).toBe('Documents');
    expect(documents?.webUrl).toBe(`https://${HOST}/sites/marketing/Shared%20Documents`);
    expect((await ro.api(`/sites/${marketing.id}/lists/${documents!.id}/drive`).get()).id).toBe(library.id);

    const children = await ro.api(`/drives/${library.id}/root/children`).get();
    expect((children.value as Json[]).map((i) => String(i.name)).sort()).toEqual(['Brand', 'Campaigns']);
    const plan = await ro
      .api(`/sites/${marketing.id}/drive/root:/Campaigns/Spring/Spring Launch Plan.docx`)
      .get();
    expect(plan.parentReference).toMatchObject({ driveId: library.id, driveType: 'documentLibrary' });
    expect(plan.webUrl).toBe(
      `https://${HOST}/sites/marketing/Shared%20Documents/Campaigns/Spring/Spring%20Launch%20Plan.docx`,
    );
  });

  test('upload, download, delta and delete in a library, with either Files.*.All or Sites.*.All', async () => {
    const library = await ro.api(`/sites/${marketing.id}/drive`).get();
    const files = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Files.ReadWrite.All']));
    const start = await files.api(`/drives/${library.id}/root/delta`).get();
    const deltaLink = start['@odata.deltaLink'] as string;

    const put = await files
      .api(`/sites/${marketing.id}/drive/root:/Uploads/hello.txt:/content`)
      .header('content-type', 'text/plain')
      .put('hello library');
    expect(put.parentReference.driveId).toBe(library.id);
    const res = await fetch(`${sandbox.graphBaseUrl}/drives/${library.id}/items/${put.id}/content`, {
      headers: { authorization: `Bearer ${await mintToken(sandbox, ADELE, ['Sites.Read.All'])}` },
    });
    expect(await res.text()).toBe('hello library');

    const changed = await files.api(deltaLink).get();
    expect((changed.value as Json[]).map((i) => String(i.name))).toEqual(
      expect.arrayContaining(['hello.txt']),
    );

    // Files.ReadWrite (the user's own files) does not reach a site's library.
    const own = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Files.ReadWrite']));
    expect((await graphFailure(own.api(`/drives/${library.id}/root/children`).get())).statusCode).toBe(403);
    // Reading with Sites.Read.All is not writing.
    expect((await graphFailure(ro.api(`/drives/${library.id}/items/${put.id}`).delete())).statusCode).toBe(
      403,
    );
    await rw.api(`/drives/${library.id}/items/${put.id}`).delete();
    expect((await graphFailure(ro.api(`/drives/${library.id}/items/${put.id}`).get())).statusCode).toBe(404);
  });
});
