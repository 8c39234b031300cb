/**
 * Documents as text (files.readText, mail.readAttachmentText; shared/content/text.ts): a 3-page
 * PDF attachment and a Word document in OneDrive come back as text with their pages and headings,
 * a 200-page PDF is read in slices with a cursor, HTML keeps its links, and what cannot be read
 * says so.
 */
import { Document, ExternalHyperlink, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';
import { PDFDocument, StandardFonts } from 'pdf-lib';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { budgetWorkbook, launchDeck } from '../support/office-fixtures';

let t: TestApp;
let userId: string;

interface TextResult {
  id: string;
  name: string;
  format: string;
  pages: number | null;
  headings: string[];
  text: string;
  offset: number;
  totalChars: number;
  nextCursor?: string;
}

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect('adele.vance@contoso.test', { features: ['files', 'mail'] });
});
afterAll(async () => await t.stop());

async function upload(path: string, bytes: Uint8Array): Promise<string> {
  const res = await fetch(`${t.api}/files/upload?path=${encodeURIComponent(path)}`, {
    method: 'POST',
    headers: {
      'x-functions-key': FUNCTION_KEY,
      authorization: `Bearer ${await t.tokenFor(userId)}`,
      'content-type': 'application/octet-stream',
    },
    body: Buffer.from(bytes),
  });
  if (res.status !== 200 && res.status !== 201) throw new Error(`upload ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

async function readText(
  input: Record<string, unknown>,
): Promise<{ status: number; body: TextResult & { code?: string } }> {
  const res = await t.call(userId, 'POST', '/files/readText', input);
  return { status: res.status, body: (await res.json()) as TextResult & { code?: string } };
}

async function pdf(pages: number, heading: (n: number) => string): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage();
    page.drawText(heading(n), { x: 50, y: 750, size: 20, font });
    page.drawText(`This is the body of page ${n}, with enough words to read as a paragraph.`, {
      x: 50,
      y: 700,
      size: 11,
      font,
    });
  }
  return await doc.save();
}

test('a 3-page PDF comes back as text, page by page, with its headings', async () => {
  const id = await upload('/Text/report.pdf', await pdf(3, (n) => `Chapter ${n}: Results`));
  const { status, body } = await readText({ itemId: id });
  expect(status).toBe(200);
  expect(body).toMatchObject({ id, name: 'report.pdf', format: 'pdf', pages: 3, offset: 0 });
  expect(body.nextCursor).toBeUndefined();
  for (const n of [1, 2, 3]) {
    expect(body.text).toContain(`--- page ${n} ---`);
    expect(body.text).toContain(`Chapter ${n}: Results`);
  }
  expect(body.text.indexOf('Chapter 2')).toBeGreaterThan(body.text.indexOf('--- page 2 ---'));
});

test('a Word document keeps its headings (as Markdown) and its links', async () => {
  const doc = new Document({
    sections: [
      {
        children: [
          new Paragraph({ text: 'Budget 2027', heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ children: [new TextRun('Spending is flat compared with last year.')] }),
          new Paragraph({ text: 'Travel', heading: HeadingLevel.HEADING_2 }),
          new Paragraph({
            children: [
              new TextRun('Book through '),
              new ExternalHyperlink({
                children: [new TextRun('the travel portal')],
                link: 'https://travel.contoso.test/book',
              }),
              new TextRun('.'),
            ],
          }),
        ],
      },
    ],
  });
  const id = await upload('/Text/budget.docx', await Packer.toBuffer(doc));
  const { status, body } = await readText({ path: '/Text/budget.docx' });
  expect(status).toBe(200);
  expect(body).toMatchObject({ id, format: 'docx', pages: null, headings: ['Budget 2027', 'Travel'] });
  expect(body.text).toContain('# Budget 2027');
  expect(body.text).toContain('## Travel');
  expect(body.text).toContain('Spending is flat compared with last year.');
  expect(body.text).toContain('the travel portal [https://travel.contoso.test/book]');
});

test('a 200-page PDF is read in slices: every page once, in order, the last slice without a cursor', async () => {
  const id = await upload('/Text/manual.pdf', await pdf(200, (n) => `Section ${n}`));
  let cursor: string | undefined;
  let text = '';
  let calls = 0;
  do {
    const { status, body } = await readText({ itemId: id, maxChars: 5000, ...(cursor ? { cursor } : {}) });
    expect(status).toBe(200);
    expect(body.pages).toBe(200);
    expect(body.offset).toBe(text.length);
    expect(body.text.length).toBeLessThanOrEqual(5000);
    text += body.text;
    cursor = body.nextCursor;
    calls++;
  } while (cursor && calls < 100);
  expect(cursor).toBeUndefined();
  expect(calls).toBeGreaterThan(3);
  const markers = [...text.matchAll(/--- page (\d+) ---/g)].map((m) => Number(m[1]));
  expect(markers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
});

test('HTML becomes readable text with its links; unsupported and bad cursors are clear problems', async () => {
  await upload(
    '/Text/notes.html',
    Buffer.from(
      '<html><body><h1>Notes</h1><p>See <a href="https://contoso.test/plan">the plan</a>.</p><script>x()</script></body></html>',
    ),
  );
  const html = await readText({ path: '/Text/notes.html' });
  expect(html.body).toMatchObject({ format: 'html', headings: ['Notes'] });
  expect(html.body.text).toContain('# Notes');
  expect(html.body.text).toContain('the plan [https://contoso.test/plan]');
  expect(html.body.text).not.toContain('x()');

  const zipId = await upload('/Text/sheet.xlsx', Buffer.from('PK\u0003\u0004not really a workbook'));
  const xlsx = await readText({ itemId: zipId });
  expect(xlsx.status).toBe(415);
  expect(xlsx.body.code).toBe('unsupported_media_type');
  const archive = await readText({
    itemId: await upload('/Text/photos.zip', Buffer.from('PK\u0003\u0004zip')),
  });
  expect(archive.status).toBe(415);

  const other = await readText({
    itemId: zipId,
    cursor: Buffer.from('{"k":"someone-else","o":5}').toString('base64url'),
  });
  expect(other.status).toBe(400);
  expect(other.body.code).toBe('invalid_input');

  const folder = await readText({ path: '/Text' });
  expect(folder.status).toBe(400);
});

test('an Excel workbook, a PowerPoint deck and an RTF letter in OneDrive come back as text with their structure', async () => {
  await upload('/Text/Budget.xlsx', await budgetWorkbook());
  const sheet = await readText({ path: '/Text/Budget.xlsx' });
  expect(sheet.status).toBe(200);
  expect(sheet.body).toMatchObject({ format: 'xlsx', pages: 2, headings: ['Budget 2027', 'People'] });
  expect(sheet.body.text).toContain(
    '--- sheet 1: Budget 2027 ---\n| Item | Q1 | Q2 | Total |\n| Travel | 1200 | 800 | 2000 |',
  );

  // A long deck pages through with the cursor, slide markers intact.
  const titles = Array.from({ length: 40 }, (_, i) => `Topic ${i + 1}`);
  await upload('/Text/Launch.pptx', launchDeck(titles));
  let deck = await readText({ path: '/Text/Launch.pptx', maxChars: 1000 });
  expect(deck.body).toMatchObject({ format: 'pptx', pages: 41 });
  expect(deck.body.headings).toEqual(titles);
  let text = deck.body.text;
  while (deck.body.nextCursor) {
    deck = await readText({ path: '/Text/Launch.pptx', maxChars: 1000, cursor: deck.body.nextCursor });
    text += deck.body.text;
  }
  expect(text).toContain(
    '--- slide 2 ---\n# Topic 2\nPoint one of slide 2\nPoint two\nNotes: Say that the budget risk is covered.',
  );
  expect(text.match(/--- slide \d+ ---/g)).toHaveLength(41);

  await upload(
    '/Text/Letter.rtf',
    Buffer.from(
      String.raw`{\rtf1\ansi\ansicpg1252{\fonttbl{\f0 Arial;}}\f0 Dear Megan,\par Caf\'e9 at 10.\par}`,
    ),
  );
  const letter = await readText({ path: '/Text/Letter.rtf' });
  expect(letter.body).toMatchObject({ format: 'rtf', text: 'Dear Megan,\nCafé at 10.' });
});

test('a 3-page PDF attachment comes back as text with its pages', async () => {
  const subject = `Report attached ${Date.now()}`;
  const bytes = await pdf(3, (n) => `Quarter ${n} figures`);
  const sent = await t.call(userId, 'POST', '/mail/sendMessage', {
    to: ['adele.vance@contoso.test'],
    subject,
    body: 'See the attached report.',
    attachments: [
      {
        name: 'q-report.pdf',
        contentType: 'application/pdf',
        contentBytes: Buffer.from(bytes).toString('base64'),
      },
    ],
  });
  expect(sent.status).toBe(200);
  const listed = await t.call(userId, 'POST', '/mail/listMessages', {
    folder: 'inbox',
    search: `subject:${subject}`,
  });
  const [message] = ((await listed.json()) as { items: Array<{ id: string }> }).items;
  const got = await t.call(userId, 'POST', '/mail/getMessage', { id: message!.id });
  const [attachment] = ((await got.json()) as { attachments: Array<{ id: string; name: string }> })
    .attachments;
  expect(attachment!.name).toBe('q-report.pdf');

  const res = await t.call(userId, 'POST', '/mail/readAttachmentText', {
    messageId: message!.id,
    attachmentId: attachment!.id,
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as TextResult;
  expect(body).toMatchObject({ name: 'q-report.pdf', format: 'pdf', pages: 3, offset: 0 });
  for (const n of [1, 2, 3]) expect(body.text).toContain(`--- page ${n} ---\nQuarter ${n} figures`);
});

test('a short-lived download link gives the file without a token; a folder has none', async () => {
  const id = await upload('/Text/share-me.txt', Buffer.from('plain words to share'));
  const res = await t.call(userId, 'POST', '/files/getDownloadLink', { itemId: id });
  expect(res.status).toBe(200);
  const link = (await res.json()) as { id: string; name: string; size: number; url: string };
  expect(link).toMatchObject({ id, name: 'share-me.txt', size: 20 });
  const download = await fetch(link.url);
  expect(download.status).toBe(200);
  expect(await download.text()).toBe('plain words to share');
  const folder = await t.call(userId, 'POST', '/files/getDownloadLink', { path: '/Text' });
  expect(folder.status).toBe(400);
});
