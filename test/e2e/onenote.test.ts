/**
 * OneNote through the local host as a platform calls it (issue 25): a page created from Markdown,
 * a paragraph appended, the page read back as text; found by title; sanitized (a script in the
 * input never reaches the notebook); deleted.
 */
import { actionCaller } from '../support/actions';
import { startTestApp, type TestApp } from '../support/app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let adele: string;
let sectionId: string;

const { call, ok } = actionCaller(
  () => t,
  'onenote',
  () => adele,
);

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect('adele.vance@contoso.test', { features: ['onenote'] });
  const notebooks = await ok('listNotebooks', {});
  const notebook = (notebooks.items as Json[]).find((n) => n.isDefault === true)!;
  const sections = await ok('listSections', { notebookId: notebook.id });
  sectionId = (sections.items as Json[]).find((s) => s.name === 'Quick Notes')!.id;
});
afterAll(async () => await t.stop());

test('a page from Markdown, a paragraph appended, read back as text', async () => {
  const created = await call(
    'createPage',
    {
      sectionId,
      title: 'Launch retro',
      markdown:
        '# Went well\n\n- Demo stations\n- **Press** coverage\n\n<script>alert(1)</script>\n\n| Metric | Value |\n| --- | --- |\n| Visitors | 420 |',
    },
    { 'idempotency-key': 'retro-page-1' },
  );
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ title: 'Launch retro', sectionId, sectionName: 'Quick Notes' });
  const id = created.body.id as string;

  const appended = await ok('appendToPage', { pageId: id, markdown: 'Next: book the venue for **March**.' });
  expect(appended.text).toContain('Next: book the venue for March.');

  const page = await ok('getPage', { pageId: id });
  expect(page.title).toBe('Launch retro');
  for (const part of [
    'Went well',
    'Demo stations',
    'Press coverage',
    'Visitors',
    '420',
    'Next: book the venue',
  ])
    expect(page.text).toContain(part);
  // The appended paragraph comes after what the page had.
  expect(page.text.indexOf('Next: book')).toBeGreaterThan(page.text.indexOf('Visitors'));
  expect(page.html).toBeNull();
  const withHtml = await ok('getPage', { pageId: id, format: 'html' });
  expect(withHtml.html).toContain('<h1');
  expect(withHtml.html).toContain('<strong>Press</strong>');
  // Sanitized before it was sent: the script never reached the notebook.
  expect(withHtml.html).not.toMatch(/script|alert/);

  // Found by title, case-insensitively; a quote in the search is a literal.
  const found = await ok('listPages', { titleContains: 'RETRO' });
  expect((found.items as Json[]).map((p) => String(p.id))).toEqual([id]);
  expect((await ok('listPages', { titleContains: "retro' or 1 eq 1 or '" })).items).toEqual([]);
  expect(((await ok('listPages', { sectionId })).items as Json[]).map((p) => String(p.id))).toContain(id);

  expect(await ok('deletePage', { pageId: id })).toEqual({ pageId: id, deleted: true });
  const gone = await call('getPage', { pageId: id });
  expect([gone.status, gone.body.code]).toEqual([404, 'not_found']);
}, 60000);

test('HTML is sanitized too; bad input and a missing feature are clear problems', async () => {
  const created = await ok('createPage', {
    sectionId,
    title: 'From HTML',
    html: '<p onclick="steal()">Hello <a href="javascript:alert(1)">there</a> <a href="https://contoso.com">site</a></p><style>p{}</style>',
  });
  const page = await ok('getPage', { pageId: created.id, format: 'html' });
  expect(page.html).not.toMatch(/onclick|javascript:|<style/);
  expect(page.html).toContain('href="https://contoso.com"');
  expect(page.text).toContain('Hello');

  const both = await call('createPage', { sectionId, title: 'x', markdown: 'a', html: '<p>b</p>' });
  expect([both.status, both.body.code]).toEqual([400, 'invalid_input']);
  const badId = await call('getPage', { pageId: "x'); DROP" });
  expect(badId.status).toBe(400);

  const lee = await t.connect('lee.gu@contoso.test', { features: ['mail'] });
  const res = await t.call(lee, 'POST', '/onenote/listNotebooks', {});
  expect(res.status).toBe(403);
  expect(((await res.json()) as Json).code).toBe('feature_not_granted');
}, 60000);
