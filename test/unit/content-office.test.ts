/**
 * Excel, PowerPoint and RTF as text (shared/content/office.ts, rtf.ts): real files made by
 * exceljs and pptxgenjs (test/support/office-fixtures.ts), and RTF as WordPad and Word write it,
 * read back with their structure.
 */
import { detectFormat, documentText } from '../../shared/content/text';
import { rtfToText } from '../../shared/content/rtf';
import { Problem } from '../../shared/http/problem';
import { budgetWorkbook, launchDeck } from '../support/office-fixtures';

test('an Excel workbook: one section per sheet, rows as | cells |, formulas as results, dates as dates', async () => {
  const doc = await documentText(await budgetWorkbook(), 'budget.xlsx', null);
  expect(doc.format).toBe('xlsx');
  expect(doc.pages).toBe(2);
  expect(doc.headings).toEqual(['Budget 2027', 'People']);
  const [budget, people] = doc.text.split('\n\n');
  expect(budget!.split('\n')).toEqual([
    '--- sheet 1: Budget 2027 ---',
    '| Item | Q1 | Q2 | Total |',
    '| Travel | 1200 | 800 | 2000 |',
    '| Software \\| licences | 300.5 | 0 | 300.5 |',
  ]);
  expect(people).toContain('--- sheet 2: People ---');
  expect(people).toMatch(/\| Megan \| .*2027/);
  expect(people).toContain('| Rich text |');
});

test('a PowerPoint deck: slides in order, titles as headings, bullet text and speaker notes', async () => {
  const doc = await documentText(launchDeck(), 'launch.pptx', null);
  expect(doc.format).toBe('pptx');
  expect(doc.pages).toBe(4);
  expect(doc.headings).toEqual(['Launch plan', 'Risks & mitigations', 'Next steps']);
  const slides = doc.text.split('\n\n');
  expect(slides[0]).toBe('--- slide 1 ---\n# Launch plan\nPoint one of slide 1\nPoint two');
  expect(slides[1]).toBe(
    '--- slide 2 ---\n# Risks & mitigations\nPoint one of slide 2\nPoint two\nNotes: Say that the budget risk is covered.',
  );
  expect(slides[3]).toBe('--- slide 4 ---\nThank you');
});

test('RTF: body text with paragraphs, code-page and Unicode characters, tables; tables of fonts and styles left out', () => {
  const rtf = String.raw`{\rtf1\ansi\ansicpg1252\deff0\nouicompat{\fonttbl{\f0\fnil\fcharset0 Calibri;}}
{\colortbl ;\red255\green0\blue0;}
{\*\generator Riched20 10.0.19041}\viewkind4\uc1
\pard\sa200\sl276\slmult1\b\f0\fs28 Caf\'e9 contract\b0\par
Price: 100 \u8364?, due \u8211?\~next week.\par
{\field{\*\fldinst{HYPERLINK "https://example.com"}}{\fldrslt{example.com}}}\par
\trowd\cellx1000\cellx2000 A1\cell B1\cell\row
Line one\line line two {\*\comment hidden} end\par
}`;
  expect(rtfToText(rtf)).toBe(
    'Café contract\nPrice: 100 €, due –\u00a0next week.\nexample.com\nA1 | B1 |\nLine one\nline two  end',
  );
});

test('formats are told by their bytes; password-protected Office files are content_encrypted', async () => {
  expect(detectFormat(Buffer.from('{\\rtf1\\ansi hi}'), 'letter.doc', null)).toBe('rtf');
  expect(
    detectFormat(
      Buffer.from('PK\u0003\u0004'),
      'x.bin',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ),
  ).toBe('pptx');
  // An encrypted OOXML file is an OLE compound file ([MS-OFFCRYPTO]).
  const cfb = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(504)]);
  const err = await documentText(cfb, 'salaries.xlsx', null).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(Problem);
  expect((err as Problem).code).toBe('content_encrypted');
  // A legacy .xls (also a compound file) is simply not supported.
  const legacy = await documentText(cfb, 'old.xls', 'application/vnd.ms-excel').catch((e: unknown) => e);
  expect((legacy as Problem).code).toBe('unsupported_media_type');
});
