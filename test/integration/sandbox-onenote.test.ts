/**
 * The sandbox's OneNote over real HTTP. Sources, as cited in sandbox/graph/onenote:
 * - onenote-create-page.md / section-post-pages.md: pages from text/html or multipart/form-data
 *   with a "Presentation" part; 201 with the page's metadata; the title from <title>.
 * - onenote-input-output-html.md: input ids discarded, data-id kept, content in the default div;
 *   generated ids only with includeIDs=true.
 * - onenote-update-page.md / page-update.md: PATCH .../content with change objects: append
 *   (body, div, ol, ul; position before = first child), insert (siblings), prepend, replace (title;
 *   img/object by data-id; other elements by generated id only); 204.
 * - onenote-error-codes: 20102 unknown id, 20117 name in use.
 */
import type { Sandbox } from '../../sandbox';
import { mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let sandbox: Sandbox;
let rw: string;
let ro: string;
let sectionId: string;

async function graph(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; body: Json; text: string }> {
  const res = await fetch(`${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': contentType } : {}),
    },
    ...(body !== undefined
      ? { body: typeof body === 'string' || body instanceof FormData ? body : JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  let parsed: Json = {};
  try {
    parsed = text ? (JSON.parse(text) as Json) : {};
  } catch {
    parsed = {};
  }
  return { status: res.status, body: parsed, text };
}

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  rw = await mintToken(sandbox, 'adele.vance@contoso.test', ['Notes.ReadWrite']);
  ro = await mintToken(sandbox, 'adele.vance@contoso.test', ['Notes.Read']);
  const sections = await graph(ro, 'GET', '/me/onenote/sections');
  sectionId = sections.body.value.find((s: Json) => s.displayName === 'Quick Notes').id;
});
afterAll(async () => await sandbox.stop());

test('notebooks, sections and section groups; names are unique and checked', async () => {
  const notebooks = await graph(ro, 'GET', '/me/onenote/notebooks');
  expect(notebooks.body.value).toEqual([
    expect.objectContaining({ displayName: "Adele's Notebook", isDefault: true, userRole: 'Owner' }),
  ]);
  const created = await graph(rw, 'POST', '/me/onenote/notebooks', { displayName: 'Launch' });
  expect(created.status).toBe(201);
  expect(created.body.sectionsUrl).toMatch(/\/notebooks\/.+\/sections$/);
  const again = await graph(rw, 'POST', '/me/onenote/notebooks', { displayName: 'launch' });
  expect([again.status, again.body.error.code]).toEqual([409, '20117']);
  const badName = await graph(rw, 'POST', '/me/onenote/notebooks', { displayName: 'a/b' });
  expect(badName.status).toBe(400);

  const group = await graph(rw, 'POST', `/me/onenote/notebooks/${created.body.id}/sectionGroups`, {
    displayName: 'Vendors',
  });
  expect(group.status).toBe(201);
  const inGroup = await graph(rw, 'POST', `/me/onenote/sectionGroups/${group.body.id}/sections`, {
    displayName: 'Catering',
  });
  expect(inGroup.body).toMatchObject({
    displayName: 'Catering',
    parentNotebook: { id: created.body.id },
    parentSectionGroup: { id: group.body.id },
  });
  expect((await graph(ro, 'GET', `/me/onenote/notebooks/${created.body.id}/sections`)).body.value).toEqual(
    [],
  );
  expect(
    (await graph(ro, 'GET', `/me/onenote/sectionGroups/${group.body.id}/sections`)).body.value.map(
      (s: Json) => String(s.displayName),
    ),
  ).toEqual(['Catering']);
  expect((await graph(ro, 'GET', '/me/onenote/notebooks/1-nothing')).body.error.code).toBe('20102');
  expect((await graph(ro, 'POST', '/me/onenote/notebooks', { displayName: 'x' })).status).toBe(403);
});

test('a page from HTML: title from <title>, input ids dropped, data-id kept, generated ids on request', async () => {
  const created = await graph(
    rw,
    'POST',
    `/me/onenote/sections/${sectionId}/pages`,
    '<html><head><title>Venue shortlist</title></head><body><p id="mine" data-id="intro">Three options.</p><ol data-id="venues"><li>Hall A</li></ol></body></html>',
    'text/html',
  );
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ title: 'Venue shortlist', parentSection: { id: sectionId } });
  const content = await graph(ro, 'GET', `/me/onenote/pages/${created.body.id}/content`);
  expect(content.text).toContain('<title>Venue shortlist</title>');
  expect(content.text).toContain('data-id="intro"');
  expect(content.text).toContain('data-id="_default"');
  expect(content.text).not.toContain('id="mine"');
  expect(content.text).not.toMatch(/ id="p:/);
  const withIds = await graph(ro, 'GET', `/me/onenote/pages/${created.body.id}/content?includeIDs=true`);
  expect(withIds.text).toMatch(/<p id="p:\{[0-9a-f-]+\}\{\d+\}" data-id="intro">/);

  // Found by title.
  const found = await graph(
    ro,
    'GET',
    `/me/onenote/pages?$filter=${encodeURIComponent("contains(tolower(title),'venue')")}`,
  );
  expect(found.body.value.map((p: Json) => String(p.title))).toEqual(['Venue shortlist']);
});

test('PATCH commands: append, prepend, insert, replace, title; unsupported ones refused', async () => {
  const created = await graph(
    rw,
    'POST',
    `/me/onenote/sections/${sectionId}/pages`,
    '<html><head><title>Agenda</title></head><body><p data-id="p1">Welcome</p><ul data-id="items"><li>Intro</li></ul></body></html>',
    'text/html',
  );
  const id = created.body.id as string;
  const patch = (commands: unknown) => graph(rw, 'PATCH', `/me/onenote/pages/${id}/content`, commands);
  expect(
    (
      await patch([
        { target: 'body', action: 'append', content: '<p data-id="last">Questions</p>' },
        { target: 'body', action: 'prepend', content: '<h1>Day 1</h1>' },
        { target: '#items', action: 'append', content: '<li>Demo</li>' },
        { target: '#p1', action: 'insert', position: 'before', content: '<p>Doors open 9:00</p>' },
        { target: 'title', action: 'replace', content: 'Agenda (final)' },
      ])
    ).status,
  ).toBe(204);
  let html = (await graph(ro, 'GET', `/me/onenote/pages/${id}/content?includeIDs=true`)).text;
  const order = ['Day 1', 'Doors open 9:00', 'Welcome', 'Intro', 'Demo', 'Questions'].map((t) =>
    html.indexOf(t),
  );
  expect(order.every((pos, i) => pos > 0 && (i === 0 || pos > order[i - 1]!))).toBe(true);
  expect(html).toContain('<title>Agenda (final)</title>');
  expect((await graph(ro, 'GET', `/me/onenote/pages/${id}`)).body.title).toBe('Agenda (final)');

  // Replace a paragraph: by its generated id only.
  const byDataId = await patch([{ target: '#p1', action: 'replace', content: '<p>Hello</p>' }]);
  expect(byDataId.status).toBe(400);
  const generated = /<p id="(p:\{[^"]+)" data-id="p1">/.exec(html)![1]!;
  expect((await patch([{ target: generated, action: 'replace', content: '<p>Hello all</p>' }])).status).toBe(
    204,
  );
  html = (await graph(ro, 'GET', `/me/onenote/pages/${id}/content`)).text;
  expect(html).toContain('Hello all');
  expect(html).not.toContain('Welcome');

  // Append only to body, div, ol, ul; unknown targets and bad commands are 400s; nothing applied.
  expect((await patch([{ target: '#last', action: 'append', content: '<p>x</p>' }])).status).toBe(400);
  const missing = await patch([{ target: '#nope', action: 'insert', content: '<p>x</p>' }]);
  expect([missing.status, missing.body.error.code]).toEqual([400, '20125']);
  expect((await patch({ target: 'body' })).status).toBe(400);
  const half = await patch([
    { target: 'body', action: 'append', content: '<p>Half</p>' },
    { target: '#nope', action: 'append', content: '<p>x</p>' },
  ]);
  expect(half.status).toBe(400);
  expect((await graph(ro, 'GET', `/me/onenote/pages/${id}/content`)).text).not.toContain('Half');
});

test('multipart pages carry their images; a missing part is a 400; delete is 204 then 404', async () => {
  const form = new FormData();
  form.append(
    'Presentation',
    new Blob(
      ['<html><head><title>Floor plan</title></head><body><img src="name:plan" alt="Plan"/></body></html>'],
      {
        type: 'text/html',
      },
    ),
  );
  form.append('plan', new Blob([Buffer.from('89504e47', 'hex')], { type: 'image/png' }), 'plan.png');
  const res = await fetch(`${sandbox.graphBaseUrl}/me/onenote/sections/${sectionId}/pages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${rw}` },
    body: form,
  });
  expect(res.status).toBe(201);
  const page = (await res.json()) as Json;

  const noPart = new FormData();
  noPart.append(
    'Presentation',
    '<html><head><title>x</title></head><body><img src="name:gone"/></body></html>',
  );
  const bad = await fetch(`${sandbox.graphBaseUrl}/me/onenote/sections/${sectionId}/pages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${rw}` },
    body: noPart,
  });
  expect(bad.status).toBe(400);

  expect((await graph(rw, 'DELETE', `/me/onenote/pages/${page.id}`)).status).toBe(204);
  expect((await graph(ro, 'GET', `/me/onenote/pages/${page.id}`)).status).toBe(404);
});
