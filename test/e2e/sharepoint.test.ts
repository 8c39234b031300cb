/**
 * SharePoint through the local host as a platform calls it (issue 22): find a site by search and
 * by URL, list its libraries and work with their files through the files actions (a 20 MB upload
 * and download, byte-identical), read a list filtered on a column, and create, update (with the
 * eTag: a stale one is refused with 412 precondition_failed) and delete an item.
 */
import { createHash, randomBytes } from 'node:crypto';
import { startTestApp } from '../support/app';
import { controlCall, mintToken, waitFor, waitForQuiet } from '../support/sandbox';
import type { TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let adele: string;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function call(action: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await t.call(adele, 'POST', `/sharepoint/${action}`, input, headers);
  return { status: res.status, body: (await res.json()) as Json };
}

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect(ADELE, { features: ['files', 'sharepoint', 'sharepoint-write'] });
}, 60000);
afterAll(async () => await t.stop());

test('a site by search, by URL and among the followed ones; its libraries and lists', async () => {
  const found = await call('searchSites', { query: 'marketing' });
  expect(found.status).toBe(200);
  const marketing = (found.body.items as Json[]).find((s) => s.name === 'Marketing')!;
  expect(marketing.id.split(',')).toHaveLength(3);

  // A link to a page inside the site names the site.
  const byUrl = await call('getSite', {
    url: 'https://contoso.sharepoint.com/sites/marketing/Shared%20Documents/Forms/AllItems.aspx',
  });
  expect(byUrl.status).toBe(200);
  expect(byUrl.body.id).toBe(marketing.id);
  const subsite = await call('getSite', { url: 'https://contoso.sharepoint.com/sites/marketing/emea' });
  expect(subsite.body.name).toBe('Marketing EMEA');

  const followed = await call('listFollowedSites', {});
  expect((followed.body.items as Json[]).map((s) => String(s.name))).toEqual(['Marketing']);

  const libraries = await call('listLibraries', { siteId: marketing.id });
  expect(libraries.body.items).toEqual([expect.objectContaining({ name: 'Documents' })]);
  const lists = await call('listLists', { siteId: marketing.id });
  expect((lists.body.items as Json[]).map((l) => [String(l.name), String(l.template)]).sort()).toEqual([
    ['Campaigns', 'genericList'],
    ['Documents', 'documentLibrary'],
  ]);
  const columns = await call('listColumns', { siteId: marketing.id, listId: 'Campaigns' });
  const status = (columns.body.items as Json[]).find((c) => c.name === 'Status');
  expect(status).toMatchObject({ type: 'choice', indexed: true, choices: ['Planned', 'Active', 'Done'] });

  const missing = await call('getSite', { url: 'https://contoso.sharepoint.com/sites/nowhere' });
  expect(missing.status).toBe(404);
  expect(missing.body.code).toBe('not_found');
});

test('a 20 MB file uploaded into a library downloads identical; files actions browse and search it', async () => {
  const site = (await call('searchSites', { query: 'engineering' })).body.items[0] as Json;
  const driveId = (await call('listLibraries', { siteId: site.id })).body.items[0].driveId as string;
  const bytes = randomBytes(20 * 1024 * 1024);

  const up = await fetch(
    `${t.api}/files/upload?${new URLSearchParams({ path: '/Releases/build-20mb.bin', driveId })}`,
    {
      method: 'POST',
      headers: {
        'x-functions-key': 'harness-function-key',
        authorization: `Bearer ${await t.tokenFor(adele)}`,
        'content-type': 'application/octet-stream',
        'content-length': String(bytes.length),
      },
      body: bytes,
    },
  );
  expect(up.status).toBe(200);
  const item = (await up.json()) as Json;
  expect(item).toMatchObject({
    name: 'build-20mb.bin',
    size: bytes.length,
    driveId,
    path: '/Releases/build-20mb.bin',
  });

  // siteId reaches the same library (the site's default one).
  const down = await fetch(
    `${t.api}/files/download?${new URLSearchParams({ path: '/Releases/build-20mb.bin', siteId: site.id })}`,
    {
      headers: {
        'x-functions-key': 'harness-function-key',
        authorization: `Bearer ${await t.tokenFor(adele)}`,
      },
    },
  );
  expect(down.status).toBe(200);
  expect(sha256(new Uint8Array(await down.arrayBuffer()))).toBe(sha256(bytes));

  const listed = await t.call(adele, 'POST', '/files/listChildren', { path: '/Releases', driveId });
  expect(((await listed.json()) as Json).items.map((i: Json) => String(i.name))).toEqual(['build-20mb.bin']);
  const searched = await t.call(adele, 'POST', '/files/search', { query: 'runbook', siteId: site.id });
  expect(((await searched.json()) as Json).items.map((i: Json) => String(i.name)).sort()).toEqual([
    'Incident Runbook.md',
    'Runbooks',
  ]);
  const both = await t.call(adele, 'POST', '/files/getItem', { path: '/x', driveId, siteId: site.id });
  expect(both.status).toBe(400);

  // Sharing works in a library as in OneDrive: an organization link, then who can access.
  const link = await t.call(adele, 'POST', '/files/createLink', { itemId: item.id, driveId, type: 'view' });
  expect(link.status).toBe(200);
  const shared = (await link.json()) as Json;
  expect(shared).toMatchObject({ type: 'view', scope: 'organization', created: true });
  const permissions = await t.call(adele, 'POST', '/files/listPermissions', {
    itemId: item.id,
    siteId: site.id,
  });
  expect(((await permissions.json()) as Json).items.map((p: Json) => String(p.id))).toContain(
    shared.permissionId,
  );

  const deleted = await t.call(adele, 'POST', '/files/deleteItem', { itemId: item.id, driveId });
  expect(deleted.status).toBe(200);
}, 120000);

test('list items: filtered on a column, created, updated with the eTag (stale: 412), deleted', async () => {
  const site = (await call('getSite', { url: 'https://contoso.sharepoint.com/sites/marketing' })).body;
  const base = { siteId: site.id, listId: 'Campaigns' };

  const active = await call('listItems', { ...base, where: [{ column: 'Status', value: 'Active' }] });
  expect(active.status).toBe(200);
  expect((active.body.items as Json[]).map((i) => String(i.fields.Title))).toEqual(['Spring launch']);
  // Budget is not indexed: the app asks SharePoint to try anyway (small list) and it works.
  const big = await call('listItems', {
    ...base,
    where: [{ column: 'Budget', op: 'gt', value: 10000 }],
    orderBy: 'Budget',
    descending: true,
    columns: ['Title', 'Budget'],
  });
  expect(big.status).toBe(200);
  expect((big.body.items as Json[]).map((i) => i.fields as Json)).toEqual([
    { Title: 'Spring launch', Budget: 25000 },
    { Title: 'Winter sale', Budget: 12000 },
  ]);

  const created = await call(
    'createItem',
    { ...base, fields: { Title: 'Trade fair', Status: 'Planned', Budget: 900 } },
    { 'idempotency-key': `trade-fair-${randomBytes(4).toString('hex')}` },
  );
  expect(created.status).toBe(201);
  const first = created.body;
  expect(first.fields).toMatchObject({ Title: 'Trade fair', Status: 'Planned', Budget: 900 });

  const updated = await call('updateItem', {
    ...base,
    itemId: first.id,
    eTag: first.eTag,
    fields: { Status: 'Active' },
  });
  expect(updated.status).toBe(200);
  expect(updated.body.fields.Status).toBe('Active');
  expect(updated.body.eTag).not.toBe(first.eTag);

  // Someone else's change in between: the old eTag is refused, and nothing is overwritten.
  const stale = await call('updateItem', {
    ...base,
    itemId: first.id,
    eTag: first.eTag,
    fields: { Budget: 1 },
  });
  expect(stale.status).toBe(412);
  expect(stale.body.code).toBe('precondition_failed');
  const after = await call('getItem', { ...base, itemId: first.id });
  expect(after.body.fields.Budget).toBe(900);

  const unknown = await call('updateItem', { ...base, itemId: first.id, fields: { Colour: 'red' } });
  expect(unknown.status).toBe(400);
  expect(unknown.body.detail).toContain('Colour');
  const badChoice = await call('updateItem', { ...base, itemId: first.id, fields: { Status: 'Cancelled' } });
  expect(badChoice.status).toBe(400);

  const removed = await call('deleteItem', { ...base, itemId: first.id, eTag: after.body.eTag });
  expect(removed.body).toEqual({ itemId: first.id, deleted: true });
  expect((await call('getItem', { ...base, itemId: first.id })).status).toBe(404);
});

test('bad input: a filter column that is not a name, a URL that is not https, an item id that is not digits', async () => {
  const site = (await call('searchSites', { query: 'marketing' })).body.items[0] as Json;
  const injected = await call('listItems', {
    siteId: site.id,
    listId: 'Campaigns',
    where: [{ column: "Status eq 'x' or 1 eq 1", value: 'y' }],
  });
  expect(injected.status).toBe(400);
  expect(injected.body.code).toBe('invalid_input');
  expect((await call('getSite', { url: 'http://contoso.sharepoint.com/sites/marketing' })).status).toBe(400);
  expect((await call('getItem', { siteId: site.id, listId: 'Campaigns', itemId: 'abc' })).status).toBe(400);
  // Without the write feature a write is refused with the feature named.
  const reader = await t.connect(ADELE, { features: ['sharepoint'] });
  const denied = await t.call(reader, 'POST', '/sharepoint/createItem', {
    siteId: site.id,
    listId: 'Campaigns',
    fields: { Title: 'x' },
  });
  expect(denied.status).toBe(403);
  expect(((await denied.json()) as Json).code).toBe('feature_not_granted');
});

test('a document added to a synced library and an item added to a synced list reach the change feed once', async () => {
  const site = (await call('searchSites', { query: 'marketing' })).body.items.find(
    (s: Json) => s.name === 'Marketing',
  ) as Json;
  const library = await call('syncLibrary', { siteId: site.id });
  expect(library.status).toBe(200);
  expect(library.body).toMatchObject({ kind: 'library', status: 'running' });
  const list = await call('syncList', { siteId: site.id, listId: 'Campaigns' });
  expect(list.body).toMatchObject({ kind: 'list', siteId: site.id });
  // A library is not a list to follow, and the user's OneDrive is not a library.
  expect((await call('syncList', { siteId: site.id, listId: 'Documents' })).status).toBe(400);

  // The first rounds index what exists (nothing reported), then the subscriptions follow.
  await waitFor(async () => {
    const synced = (await call('listSynced', {})).body.items as Json[];
    return synced.length === 2 && synced.every((x) => x.lastSyncedAt !== null);
  }, 30000);
  await waitForQuiet(t.sandbox, 500, 30000);
  const feed = async () => {
    const res = await t.call(adele, 'GET', '/changes?after=0');
    return ((await res.json()) as { items: Json[] }).items.filter((e) => e.service === 'sharepoint');
  };
  expect(await feed()).toEqual([]);
  // Each got its subscription right after its first round: changes are pushed, not polled.
  const subscriptions = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value;
  expect(subscriptions.map((x) => String(x.resource))).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^drives\/.+\/root$/),
      expect.stringMatching(new RegExp(`^sites/.+/lists/`)),
    ]),
  );

  // Megan adds a document to the library and an item to the list, straight through Graph.
  const megan = await mintToken(t.sandbox, 'megan.bowen@contoso.test', ['Sites.ReadWrite.All']);
  const put = await fetch(
    `${t.sandbox.graphBaseUrl}/sites/${site.id}/drive/root:/Brand/Logo pack.zip:/content`,
    {
      method: 'PUT',
      headers: { authorization: `Bearer ${megan}`, 'content-type': 'application/zip' },
      body: 'zip bytes',
    },
  );
  expect(put.status).toBe(201);
  const item = await fetch(`${t.sandbox.graphBaseUrl}/sites/${site.id}/lists/Campaigns/items`, {
    method: 'POST',
    headers: { authorization: `Bearer ${megan}`, 'content-type': 'application/json' },
    body: JSON.stringify({ fields: { Title: 'Autumn teaser', Status: 'Planned' } }),
  });
  expect(item.status).toBe(201);

  await waitFor(async () => {
    const entries = await feed();
    return (
      entries.some((e) => e.summary?.name === 'Logo pack.zip') &&
      entries.some((e) => e.summary?.title === 'Autumn teaser')
    );
  }, 30000);
  await waitForQuiet(t.sandbox, 1000, 30000);
  const entries = await feed();
  const doc = entries.filter((e) => e.summary?.name === 'Logo pack.zip');
  expect(doc).toHaveLength(1);
  expect(doc[0]).toMatchObject({ type: 'created', resource: library.body.resource });
  expect(doc[0]!.summary.path).toBe('/Brand/Logo pack.zip');
  const row = entries.filter((e) => e.summary?.title === 'Autumn teaser');
  expect(row).toHaveLength(1);
  expect(row[0]).toMatchObject({ type: 'created', resource: list.body.resource });

  // Stopped: later changes stay out of the feed, even when a notification still arrives.
  expect((await call('stopSync', { resource: library.body.resource })).body).toEqual({
    resource: library.body.resource,
    stopped: true,
  });
  await fetch(`${t.sandbox.graphBaseUrl}/sites/${site.id}/drive/root:/Brand/After.txt:/content`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${megan}`, 'content-type': 'text/plain' },
    body: 'later',
  });
  await waitForQuiet(t.sandbox, 1000, 30000);
  expect((await feed()).some((e) => e.summary?.name === 'After.txt')).toBe(false);
  expect(((await call('listSynced', {})).body.items as Json[]).map((x) => String(x.kind))).toEqual(['list']);
}, 120000);
