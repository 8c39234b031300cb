/**
 * The sandbox's OneDrive endpoints over real HTTPS: items by id and path, children paging,
 * simple upload and upload sessions (ranges, 416, 404, pre-authenticated URLs), 302 downloads
 * with Range, folders and name conflicts, move/copy/delete, search, sharing and drive delta.
 * Every rule cites ../shared/reference/graph-behaviour.md §8.3 (driveItem) and the Microsoft page.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { seedFiles } from '../../sandbox/graph/files';
import { filesState } from '../../sandbox/graph/files/state';
import { SEED_USERS } from '../../sandbox/seed';
import { QuickXorHash } from '../../sandbox/graph/files/hash';
import { controlCall, injectFault, startTestSandbox, mintToken } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const KIB320 = 320 * 1024;

let sandbox: Sandbox;
let token: string;

const tokenFor = (user: string, scopes: string[]) => mintToken(sandbox, user, scopes);

async function graph(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  bearer = token,
): Promise<Response> {
  const isRaw = Buffer.isBuffer(body);
  return await fetch(path.startsWith('http') ? path : `${sandbox.graphBaseUrl}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined && !isRaw ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : isRaw ? (body as unknown as BodyInit) : JSON.stringify(body),
  });
}

async function ok<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function errorOf(res: Response): Promise<{ status: number; code: string; inner?: string }> {
  const body = (await res.json()) as { error: { code: string; innerError?: { code?: string } } };
  return {
    status: res.status,
    code: body.error.code,
    ...(body.error.innerError?.code ? { inner: body.error.innerError.code } : {}),
  };
}

/** Graph JSON as these tests read it (fields absent on some items are still typed, for brevity). */
interface Item {
  id: string;
  name: string;
  size: number;
  eTag: string;
  cTag?: string;
  parentReference: { id: string; driveId: string; path: string };
  folder?: { childCount: number };
  file: { hashes: { quickXorHash: string } };
  '@microsoft.graph.downloadUrl': string;
  remoteItem?: {
    id: string;
    parentReference: { driveId: string };
    shared: { owner: { user: { displayName: string } } };
  };
  shared: { scope: string };
  '@removed'?: unknown;
  searchResult?: unknown;
}
interface Page {
  value: Item[];
  '@odata.nextLink': string;
  '@odata.deltaLink': string;
}

function bytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A sandbox with the demo users and only the files seed (independent of other services' seeds). */
async function filesSandbox(): Promise<Sandbox> {
  const sb = await startTestSandbox({ seed: false });
  for (const user of SEED_USERS) sb.directory.addUser({ ...user });
  seedFiles(sb);
  return sb;
}

beforeAll(async () => {
  sandbox = await filesSandbox();
  token = await tokenFor(ADELE, ['Files.ReadWrite.All']);
});
afterAll(async () => await sandbox.stop());

describe('items and folders', () => {
  test('seeded items resolve by path and by id with driveItem fields (§8.3)', async () => {
    const plan = await ok<Item>(
      await graph('GET', '/me/drive/root:/Projects/Contoso Launch/Launch Plan.docx'),
    );
    expect(plan).toMatchObject({
      name: 'Launch Plan.docx',
      eTag: expect.stringMatching(/^"\{[0-9A-F-]+\},\d+"$/),
      cTag: expect.stringMatching(/^"c:\{[0-9A-F-]+\},\d+"$/),
      file: {
        mimeType: expect.stringContaining('wordprocessingml'),
        hashes: { quickXorHash: expect.any(String) },
      },
      parentReference: { driveType: 'business', path: '/drive/root:/Projects/Contoso%20Launch' }, // percent-encoded (itemReference.md)
    });
    expect(plan['@microsoft.graph.downloadUrl']).toMatch(/^https:\/\/localhost:/);
    const byId = await ok<Item>(await graph('GET', `/me/drive/items/${plan.id}`));
    expect(byId.id).toBe(plan.id);
    // OneDrive for Business returns no cTag for folders (reference §8.3).
    const folder = await ok<Item>(await graph('GET', '/me/drive/root:/Projects'));
    expect(folder.cTag).toBeUndefined();
    expect(folder.folder).toEqual({ childCount: 1 });
  });

  test('unknown ids and paths answer 404 itemNotFound; no Files scope answers 403', async () => {
    expect(await errorOf(await graph('GET', '/me/drive/items/01NOPE'))).toMatchObject({
      status: 404,
      code: 'itemNotFound',
    });
    expect(await errorOf(await graph('GET', '/me/drive/root:/Nope/none.txt'))).toMatchObject({
      status: 404,
      code: 'itemNotFound',
    });
    const mailOnly = await tokenFor(ADELE, ['Mail.Read']);
    expect(
      await errorOf(await graph('GET', '/me/drive/root/children', undefined, {}, mailOnly)),
    ).toMatchObject({
      status: 403,
      code: 'accessDenied',
    });
  });

  test('children page with $top and an absolute $skiptoken nextLink, ordered by name (§4.1)', async () => {
    const folder = await ok<Item>(
      await graph('POST', '/me/drive/root/children', { name: 'Paging', folder: {} }),
      201,
    );
    for (const name of ['c.txt', 'a.txt', 'b.txt']) {
      await ok(await graph('PUT', `/me/drive/items/${folder.id}:/${name}:/content`, Buffer.from(name)), 201);
    }
    const page1 = await ok<Page>(await graph('GET', `/me/drive/items/${folder.id}/children?$top=2`));
    expect(page1.value.map((i: Item) => i.name)).toEqual(['a.txt', 'b.txt']);
    expect(page1['@odata.nextLink']).toContain('$skiptoken=');
    const page2 = await ok<Page>(await graph('GET', page1['@odata.nextLink']));
    expect(page2.value.map((i: Item) => i.name)).toEqual(['c.txt']);
    expect(page2['@odata.nextLink']).toBeUndefined();
    const byPath = await ok<Page>(await graph('GET', '/me/drive/root:/Paging:/children?$orderby=name desc'));
    expect(byPath.value.map((i: Item) => i.name)).toEqual(['c.txt', 'b.txt', 'a.txt']);
  });

  test('create folder: 201, 409 nameAlreadyExists with fail, "Name 1" with rename (driveitem-post-children.md)', async () => {
    const first = await ok<Item>(
      await graph('POST', '/me/drive/root/children', { name: 'Clients', folder: {} }),
      201,
    );
    expect(first.folder).toEqual({ childCount: 0 });
    const again = await graph('POST', '/me/drive/root/children', {
      name: 'clients',
      folder: {},
      '@microsoft.graph.conflictBehavior': 'fail',
    });
    expect(await errorOf(again)).toMatchObject({ status: 409, code: 'nameAlreadyExists' });
    const renamed = await ok<Item>(
      await graph('POST', '/me/drive/root/children', {
        name: 'Clients',
        folder: {},
        '@microsoft.graph.conflictBehavior': 'rename',
      }),
      201,
    );
    expect(renamed.name).toBe('Clients 1');
    const bad = await graph('POST', '/me/drive/root/children', { name: 'a:b', folder: {} });
    expect((await errorOf(bad)).status).toBe(400);
  });

  test.each([
    'a:b',
    'line\r\nbreak',
    'tab\there',
    'bell\u0007',
    'CON',
    'nul.txt',
    'LPT1',
    'com9.log',
    '.lock',
    'desktop.ini',
    'my_vti_folder',
    '~$budget.xlsx',
    'trailing.',
    ' leading',
  ])('OneDrive refuses the invalid name %j with 400 invalidRequest / invalidName', async (name) => {
    const res = await graph('POST', '/me/drive/root/children', { name, folder: {} });
    expect(await errorOf(res)).toMatchObject({ status: 400, code: 'invalidRequest', inner: 'invalidName' });
  });

  test('names that only look reserved are fine (CONTRACT, a.con.txt, 100% done)', async () => {
    for (const name of ['CONTRACT', 'a.con.txt', '100% done', 'com10']) {
      await ok(await graph('POST', '/me/drive/root/children', { name, folder: {} }), 201);
    }
  });

  test('rename and move with PATCH; conflicts 409; a folder cannot move into itself', async () => {
    const a = await ok<Item>(
      await graph('POST', '/me/drive/root/children', { name: 'MoveA', folder: {} }),
      201,
    );
    const b = await ok<Item>(
      await graph('POST', `/me/drive/items/${a.id}/children`, { name: 'MoveB', folder: {} }),
      201,
    );
    const file = await ok<Item>(
      await graph('PUT', '/me/drive/root:/move-me.txt:/content', Buffer.from('x')),
      201,
    );
    const moved = await ok<Item>(
      await graph('PATCH', `/me/drive/items/${file.id}`, {
        parentReference: { id: b.id },
        name: 'moved.txt',
      }),
    );
    expect(moved).toMatchObject({
      id: file.id,
      name: 'moved.txt',
      parentReference: { id: b.id, path: '/drive/root:/MoveA/MoveB' },
    });
    await ok(await graph('PUT', `/me/drive/items/${b.id}:/other.txt:/content`, Buffer.from('y')), 201);
    const clash = await graph('PATCH', `/me/drive/items/${file.id}`, { name: 'other.txt' });
    expect(await errorOf(clash)).toMatchObject({ status: 409, code: 'nameAlreadyExists' });
    const loop = await graph('PATCH', `/me/drive/items/${a.id}`, { parentReference: { id: b.id } });
    expect((await errorOf(loop)).status).toBe(400);
    const stale = await graph(
      'PATCH',
      `/me/drive/items/${file.id}`,
      { name: 'z.txt' },
      { 'if-match': '"{0},1"' },
    );
    expect(await errorOf(stale)).toMatchObject({ status: 412, code: 'resourceModified' });
  });

  test('copy answers 202 + a monitor that reports inProgress, then completed with resourceId (driveitem-copy.md)', async () => {
    const src = await ok<Item>(
      await graph('PUT', '/me/drive/root:/CopySrc/data.bin:/content', bytes(1000)),
      201,
    );
    const dest = await ok<Item>(
      await graph('POST', '/me/drive/root/children', { name: 'CopyDest', folder: {} }),
      201,
    );
    const res = await graph('POST', `/me/drive/items/${src.parentReference.id}/copy`, {
      parentReference: { id: dest.id },
      name: 'CopySrc copy',
    });
    expect(res.status).toBe(202);
    const monitor = res.headers.get('location')!;
    expect(new URL(monitor).hostname).toBe('localhost');
    const first = await fetch(monitor);
    expect(first.status).toBe(202);
    expect(await first.json()).toMatchObject({ status: 'inProgress' });
    const done = await ok<{ resourceId: string }>(await fetch(monitor));
    expect(done).toMatchObject({ status: 'completed', resourceId: expect.any(String) });
    const copied = await ok<Item>(await graph('GET', `/me/drive/items/${done.resourceId}:/data.bin`));
    const content = await fetch(copied['@microsoft.graph.downloadUrl']);
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(bytes(1000)));
    // Same name again with the default (fail): the monitor reports the failure.
    const clash = await graph('POST', `/me/drive/items/${src.parentReference.id}/copy`, {
      parentReference: { id: dest.id },
      name: 'CopySrc copy',
    });
    const clashMonitor = clash.headers.get('location')!;
    await fetch(clashMonitor);
    expect(await (await fetch(clashMonitor)).json()).toMatchObject({
      status: 'failed',
      error: { code: 'nameAlreadyExists' },
    });
  });
});

describe('content', () => {
  test('simple PUT: 201 new, 200 replace (same id, new eTag), fail → 409, rename → "name 1" (§8.3)', async () => {
    const created = await graph('PUT', '/me/drive/root:/Conflicts/report.txt:/content', Buffer.from('v1'));
    const v1 = await ok<Item>(created, 201);
    const v2 = await ok<Item>(
      await graph('PUT', '/me/drive/root:/Conflicts/report.txt:/content', Buffer.from('v2!')),
    );
    expect(v2.id).toBe(v1.id);
    expect(v2.eTag).not.toBe(v1.eTag);
    expect(v2.size).toBe(3);
    const fail = await graph(
      'PUT',
      '/me/drive/root:/Conflicts/report.txt:/content?@microsoft.graph.conflictBehavior=fail',
      Buffer.from('v3'),
    );
    expect(await errorOf(fail)).toMatchObject({ status: 409, code: 'nameAlreadyExists' });
    const renamed = await ok<Item>(
      await graph(
        'PUT',
        '/me/drive/root:/Conflicts/report.txt:/content?@microsoft.graph.conflictBehavior=rename',
        Buffer.from('v4'),
      ),
      201,
    );
    expect(renamed.name).toBe('report 1.txt');
  });

  test('quickXorHash follows the published algorithm (quickxorhash.md test vectors)', async () => {
    expect(new QuickXorHash().digest()).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(new QuickXorHash().update(Buffer.from('tbQ=', 'base64')).digest()).toBe(
      'taAFAAAAAAAAAAAAAgAAAAAAAAA=',
    );
    expect(new QuickXorHash().update(Buffer.from('0pZP', 'base64')).digest()).toBe(
      '0rDEEwAAAAAAAAAAAwAAAAAAAAA=',
    );
    const item = await ok<Item>(
      await graph('PUT', '/me/drive/root:/hash.bin:/content', Buffer.from('0pZP', 'base64')),
      201,
    );
    expect(item.file.hashes.quickXorHash).toBe('0rDEEwAAAAAAAAAAAwAAAAAAAAA=');
  });

  test('/content answers 302 to a pre-authenticated URL that serves Range requests with 206 (driveitem-get-content.md)', async () => {
    const data = bytes(100_000, 7);
    const item = await ok<Item>(await graph('PUT', '/me/drive/root:/dl/data.bin:/content', data), 201);
    const redirect = await graph('GET', `/me/drive/items/${item.id}/content`);
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    // A host the Graph client does not send its token to (reference §9).
    expect(new URL(location).hostname).toBe('localhost');
    const full = await fetch(location);
    expect(full.status).toBe(200);
    expect(sha256(Buffer.from(await full.arrayBuffer()))).toBe(sha256(data));
    const part = await fetch(location, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/100000');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(data.subarray(10, 20));
    expect((await fetch(location, { headers: { range: 'bytes=200000-' } })).status).toBe(416);
    expect(
      (await graph('GET', `/me/drive/items/${item.id}/content`, undefined, { 'if-none-match': item.eTag }))
        .status,
    ).toBe(304);
    expect((await fetch(location.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')))).status).toBe(401);
  });

  test('content is stored in temp files on disk, not in memory', async () => {
    const dir = filesState(sandbox).dir;
    expect(dir).toContain(`m365-sandbox-${process.pid}`);
    expect(readdirSync(dir).length).toBeGreaterThan(5);
  });
});

describe('upload sessions (driveitem-createuploadsession.md)', () => {
  async function session(path: string, item: Record<string, unknown> = {}) {
    return await ok<{ uploadUrl: string; nextExpectedRanges: string[]; expirationDateTime: string }>(
      await graph('POST', `/me/drive/root:/${path}:/createUploadSession`, { item }),
    );
  }
  const put = async (
    url: string,
    body: Buffer,
    start: number,
    total: number,
    headers: Record<string, string> = {},
  ) =>
    await fetch(url, {
      method: 'PUT',
      headers: { 'content-range': `bytes ${start}-${start + body.length - 1}/${total}`, ...headers },
      body: body as unknown as BodyInit,
    });

  test('fragments in order: 202 with nextExpectedRanges, then 201 with the driveItem; the bytes match', async () => {
    const data = bytes(2 * KIB320 + 1234, 3);
    const s = await session('Sessions/big.bin', { '@microsoft.graph.conflictBehavior': 'fail' });
    expect(s.nextExpectedRanges).toEqual(['0-']);
    expect(new URL(s.uploadUrl).hostname).toBe('localhost');
    // No Authorization header on upload URLs: including one may give 401 (reference §8.3, §9).
    const withToken = await put(s.uploadUrl, data.subarray(0, KIB320), 0, data.length, {
      authorization: `Bearer ${token}`,
    });
    expect(withToken.status).toBe(401);
    const r1 = await put(s.uploadUrl, data.subarray(0, KIB320), 0, data.length);
    expect(r1.status).toBe(202);
    expect((await r1.json()).nextExpectedRanges).toEqual([`${KIB320}-${data.length - 1}`]);
    // Re-sending received bytes → 416 fragmentOverlap; skipping ahead → 416 fragmentOutOfOrder.
    expect(await errorOf(await put(s.uploadUrl, data.subarray(0, KIB320), 0, data.length))).toMatchObject({
      status: 416,
      code: 'invalidRange',
      inner: 'fragmentOverlap',
    });
    expect(
      await errorOf(await put(s.uploadUrl, data.subarray(2 * KIB320), 2 * KIB320, data.length)),
    ).toMatchObject({
      status: 416,
      inner: 'fragmentOutOfOrder',
    });
    // Fragments other than the last are multiples of 320 KiB.
    expect((await put(s.uploadUrl, data.subarray(KIB320, KIB320 + 1000), KIB320, data.length)).status).toBe(
      400,
    );
    const status = await ok<{ nextExpectedRanges: string[] }>(await fetch(s.uploadUrl));
    expect(status.nextExpectedRanges).toEqual([`${KIB320}-${data.length - 1}`]);
    expect((await put(s.uploadUrl, data.subarray(KIB320, 2 * KIB320), KIB320, data.length)).status).toBe(202);
    const done = await put(s.uploadUrl, data.subarray(2 * KIB320), 2 * KIB320, data.length);
    const item = await ok<Item>(done, 201);
    expect(item).toMatchObject({
      name: 'big.bin',
      size: data.length,
      file: { hashes: { quickXorHash: new QuickXorHash().update(data).digest() } },
    });
    const content = await fetch(
      (await graph('GET', `/me/drive/items/${item.id}/content`)).headers.get('location')!,
    );
    expect(sha256(Buffer.from(await content.arrayBuffer()))).toBe(sha256(data));
    // The session is gone once committed.
    expect((await fetch(s.uploadUrl)).status).toBe(404);
  });

  test('a name conflict at commit answers 409 nameAlreadyExists with the default conflictBehavior fail', async () => {
    await ok(await graph('PUT', '/me/drive/root:/Sessions/taken.bin:/content', Buffer.from('old')), 201);
    const s = await session('Sessions/taken.bin');
    const res = await put(s.uploadUrl, Buffer.from('new content'), 0, 11);
    expect(await errorOf(res)).toMatchObject({ status: 409, code: 'nameAlreadyExists' });
    const r = await session('Sessions/taken.bin', { '@microsoft.graph.conflictBehavior': 'replace' });
    const replaced = await ok<Item>(await put(r.uploadUrl, Buffer.from('new content'), 0, 11), 200);
    expect(replaced.size).toBe(11);
  });

  test('expired or cancelled sessions answer 404; the session can be queried and resumed', async () => {
    const s = await session('Sessions/expire.bin');
    await controlCall(sandbox, 'POST', '/files/upload-sessions/expire', {});
    expect(await errorOf(await put(s.uploadUrl, Buffer.from('abc'), 0, 3))).toMatchObject({
      status: 404,
      code: 'itemNotFound',
    });
    const c = await session('Sessions/cancel.bin');
    expect((await fetch(c.uploadUrl, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(c.uploadUrl)).status).toBe(404);
  });

  test('a fragment stored but answered 503 shows up in nextExpectedRanges (resume without re-sending)', async () => {
    const data = bytes(2 * KIB320, 9);
    const s = await session('Sessions/fault.bin');
    await controlCall(sandbox, 'POST', '/files/fragment-faults', { status: 503, afterWrite: true });
    expect((await put(s.uploadUrl, data.subarray(0, KIB320), 0, data.length)).status).toBe(503);
    const status = await ok<{ nextExpectedRanges: string[] }>(await fetch(s.uploadUrl));
    expect(status.nextExpectedRanges).toEqual([`${KIB320}-${data.length - 1}`]);
    await ok(await put(s.uploadUrl, data.subarray(KIB320), KIB320, data.length), 201);
    // An injected 503 before the handler (generic fault) leaves the range expected again.
    const s2 = await session('Sessions/fault2.bin');
    await injectFault(sandbox, { method: 'PUT', path: '^/preauth/upload/', status: 503 });
    expect((await put(s2.uploadUrl, data.subarray(0, KIB320), 0, data.length)).status).toBe(503);
    expect(
      (await ok<{ nextExpectedRanges: string[] }>(await fetch(s2.uploadUrl))).nextExpectedRanges,
    ).toEqual(['0-']);
  });

  test('a fileSize beyond the quota answers 507 quotaLimitReached', async () => {
    const res = await graph('POST', '/me/drive/root:/huge.bin:/createUploadSession', {
      item: { fileSize: 2 * 1024 ** 4 },
    });
    expect(await errorOf(res)).toMatchObject({ status: 507, code: 'quotaLimitReached' });
  });
});

describe('search, sharing and delta', () => {
  test('search matches names and text content; /drive/search includes items shared with me as remoteItem', async () => {
    const byName = await ok<Page>(await graph('GET', "/me/drive/root/search(q='launch plan')"));
    expect(byName.value.map((i: Item) => i.name)).toContain('Launch Plan.docx');
    expect(byName.value[0]?.searchResult).toEqual({});
    const byContent = await ok<Page>(await graph('GET', "/me/drive/root/search(q='milestones')"));
    expect(byContent.value.map((i: Item) => i.name)).toEqual(['Launch Plan.docx']);
    const none = await ok<Page>(await graph('GET', "/me/drive/root/search(q='zzz-nothing')"));
    expect(none.value).toEqual([]);
    const drive = await ok<Page>(await graph('GET', "/me/drive/search(q='campaign brief')"));
    expect(drive.value.find((i: Item) => i.remoteItem)).toMatchObject({
      name: 'Q3 Campaign Brief.docx',
      remoteItem: { parentReference: { driveId: expect.stringMatching(/^b!/) } },
    });
  });

  test('sharedWithMe lists items others granted, and the item opens through /drives/{id}', async () => {
    const shared = await ok<Page>(await graph('GET', '/me/drive/sharedWithMe'));
    const brief = shared.value.find((i: Item) => i.name === 'Q3 Campaign Brief.docx')!.remoteItem!;
    expect(brief.shared.owner.user.displayName).toBe('Megan Bowen');
    const { driveId } = brief.parentReference;
    const item = await ok<Item>(await graph('GET', `/drives/${driveId}/items/${brief.id}`));
    expect(item.name).toBe('Q3 Campaign Brief.docx');
    expect((await graph('GET', `/drives/${driveId}/items/${brief.id}/content`)).status).toBe(302);
    // Not shared: 403.
    const root = await ok<Item>(
      await graph('GET', '/me/drive/root', undefined, {}, await tokenFor(MEGAN, ['Files.Read'])),
    );
    expect((await graph('GET', `/drives/${driveId}/items/${root.id}/children`)).status).toBe(403);
    // sharedWithMe needs Files.Read.All.
    const narrow = await tokenFor(ADELE, ['Files.ReadWrite']);
    expect((await graph('GET', '/me/drive/sharedWithMe', undefined, {}, narrow)).status).toBe(403);
  });

  test('createLink: 201 for a new link, 200 for the existing one; permissions listed and removed (driveitem-createlink.md)', async () => {
    const file = await ok<Item>(
      await graph('PUT', '/me/drive/root:/Share/deck.pptx:/content', Buffer.from('deck')),
      201,
    );
    const first = await graph('POST', `/me/drive/items/${file.id}/createLink`, {
      type: 'view',
      scope: 'organization',
    });
    const perm = await ok<Item>(first, 201);
    expect(perm).toMatchObject({
      roles: ['read'],
      link: { type: 'view', scope: 'organization', webUrl: expect.stringMatching(/^https:/) },
    });
    const again = await ok<Item>(
      await graph('POST', `/me/drive/items/${file.id}/createLink`, { type: 'view', scope: 'organization' }),
      200,
    );
    expect(again.id).toBe(perm.id);
    const edit = await ok<Item>(
      await graph('POST', `/me/drive/items/${file.id}/createLink`, {
        type: 'edit',
        scope: 'anonymous',
        expirationDateTime: '2099-01-01T00:00:00Z',
      }),
      201,
    );
    expect(edit).toMatchObject({ roles: ['write'], expirationDateTime: '2099-01-01T00:00:00.000Z' });
    const shared = await ok<Item>(await graph('GET', `/me/drive/items/${file.id}`));
    expect(shared.shared.scope).toBe('anonymous');
    const list = await ok<Page>(await graph('GET', `/me/drive/items/${file.id}/permissions`));
    expect(list.value.map((p: Item) => p.id)).toEqual(['owner', perm.id, edit.id]);
    expect((await graph('DELETE', `/me/drive/items/${file.id}/permissions/${edit.id}`)).status).toBe(204);
    expect((await graph('DELETE', `/me/drive/items/${file.id}/permissions/owner`)).status).toBe(403);
    expect(
      (await errorOf(await graph('POST', `/me/drive/items/${file.id}/createLink`, { type: 'embed' }))).status,
    ).toBe(400);
    await controlCall(sandbox, 'PUT', '/files/settings', { anonymousLinks: false });
    try {
      expect(
        (await graph('POST', `/me/drive/items/${file.id}/createLink`, { type: 'view', scope: 'anonymous' }))
          .status,
      ).toBe(403);
    } finally {
      await controlCall(sandbox, 'PUT', '/files/settings', { anonymousLinks: true });
    }
  });

  test('shares: a link (u! + base64url) or share id resolves to the item; redeemSharingLink keeps access (shares-get.md)', async () => {
    const file = await ok<Item>(
      await graph('PUT', '/me/drive/root:/Share/budget.xlsx:/content', Buffer.from('numbers')),
      201,
    );
    const link = await ok<{ shareId: string; link: { webUrl: string } }>(
      await graph('POST', `/me/drive/items/${file.id}/createLink`, { type: 'edit', scope: 'organization' }),
      201,
    );
    const encoded = `u!${Buffer.from(link.link.webUrl).toString('base64url')}`;
    const megan = await tokenFor(MEGAN, ['Files.ReadWrite.All']);
    const driveUrl = `/drives/${file.parentReference.driveId}/items/${file.id}`;
    // Not shared with Megan yet: the item itself is out of reach.
    expect((await graph('GET', driveUrl, undefined, {}, megan)).status).toBe(403);
    const viaLink = await ok<Item>(await graph('GET', `/shares/${encoded}/driveItem`, undefined, {}, megan));
    expect(viaLink).toMatchObject({ id: file.id, name: 'budget.xlsx' });
    expect(viaLink.parentReference.driveId).toBe(file.parentReference.driveId);
    const byId = await ok<Item>(await graph('GET', `/shares/${link.shareId}`, undefined, {}, megan));
    expect(byId.name).toBe('budget.xlsx');
    // Without redeeming, access was for that request only; redeemed, Megan keeps it.
    expect((await graph('GET', driveUrl, undefined, {}, megan)).status).toBe(403);
    await ok(
      await graph('GET', `/shares/${encoded}/driveItem`, undefined, { prefer: 'redeemSharingLink' }, megan),
    );
    expect((await graph('GET', driveUrl, undefined, {}, megan)).status).toBe(200);
    const unknown = `u!${Buffer.from('https://contoso-my.sharepoint.test/:x:/g/nothing').toString('base64url')}`;
    expect(
      (await errorOf(await graph('GET', `/shares/${unknown}/driveItem`, undefined, {}, megan))).status,
    ).toBe(404);
  });

  test('delta: token=latest, then changes with the deleted facet (driveitem-delta.md, §5.2)', async () => {
    const file = await ok<Item>(
      await graph('PUT', '/me/drive/root:/Delta/gone.txt:/content', Buffer.from('bye')),
      201,
    );
    const latest = await ok<Page>(await graph('GET', '/me/drive/root/delta?token=latest'));
    expect(latest.value).toEqual([]);
    expect((await graph('DELETE', `/me/drive/items/${file.id}`)).status).toBe(204);
    expect((await graph('GET', `/me/drive/items/${file.id}`)).status).toBe(404);
    const changes = await ok<Page>(await graph('GET', latest['@odata.deltaLink']));
    const deleted = changes.value.find((i: Item) => i.id === file.id);
    expect(deleted).toMatchObject({ deleted: { state: 'deleted' } });
    expect(deleted?.['@removed']).toBeUndefined();
    expect(changes.value.find((i: Item) => i.name === 'Delta')).toBeDefined();
    expect(changes['@odata.deltaLink']).toContain('token=');
  });

  test('the real Graph client reads the drive (customHosts) and follows nothing it should not', async () => {
    const client = Client.initWithMiddleware({
      authProvider: { getAccessToken: async () => token },
      baseUrl: `${sandbox.url}/`,
      customHosts: new Set([sandbox.graphHost]),
    });
    const children = (await client.api('/me/drive/root/children').get()) as { value: Item[] };
    expect(children.value.map((i) => i.name)).toEqual(
      expect.arrayContaining(['Projects', 'Reports', 'Notes.txt']),
    );
    const root = (await client.api('/me/drive/root:/Notes.txt').get()) as Item;
    expect(root.size).toBeGreaterThan(0);
  });
});

test('stopping the sandbox removes its content directory', async () => {
  const other = await filesSandbox();
  const dir = filesState(other).dir;
  expect(existsSync(dir)).toBe(true);
  await other.stop();
  expect(existsSync(dir)).toBe(false);
});
