/**
 * Documents as text a model can read: PDF (pdfjs-dist, Mozilla's PDF engine, page by page), DOCX
 * (mammoth, Word's structure as HTML with headings), HTML (html-to-text, links kept as
 * `text [url]`), and plain text, Markdown, CSV and JSON. Headings become Markdown `#` lines and
 * are listed apart, PDF pages are marked (`--- page 3 ---`), and long text is read in slices with a
 * cursor. Each library is loaded on first use only: a cold instance that never reads a document
 * pays nothing for them (bench/results.md, "content libraries").
 *
 * Excel workbooks and PowerPoint presentations come sheet by sheet and slide by slide
 * (shared/content/office.ts), RTF as its body text (shared/content/rtf.ts). Other formats (legacy
 * .doc/.xls/.ppt, images, archives) answer `unsupported_media_type` naming what is; an encrypted
 * PDF or password-protected Office document answers `content_encrypted`.
 */
import { Problem } from '../http/problem';
import { pptxText, xlsxText } from './office';
import { rtfToText } from './rtf';

export type TextFormat =
  'pdf' | 'docx' | 'xlsx' | 'pptx' | 'rtf' | 'html' | 'text' | 'csv' | 'markdown' | 'json';
export const TEXT_FORMATS: readonly TextFormat[] = [
  'pdf',
  'docx',
  'xlsx',
  'pptx',
  'rtf',
  'html',
  'text',
  'csv',
  'markdown',
  'json',
];

export interface DocumentText {
  format: TextFormat;
  text: string;
  /** PDF pages, PPTX slides or XLSX sheets; null for formats without them. */
  pages: number | null;
  /** Section headings in order (DOCX and HTML headings, slide titles, sheet names). */
  headings: string[];
}

export const SUPPORTED =
  'PDF, Word (.docx), Excel (.xlsx), PowerPoint (.pptx), RTF, HTML, plain text, Markdown, CSV and JSON';

/** The compound-file signature ([MS-CFB]): legacy Office files and password-protected OOXML. */
const CFB = 'd0cf11e0a1b11ae1';
const OOXML_EXTENSIONS = new Set(['docx', 'xlsx', 'pptx', 'docm', 'xlsm', 'pptm']);

/** Extensions of plain text besides the typed formats below. */
const TEXT_EXTENSIONS = new Set(['txt', 'log']);

/** What a document is: its leading bytes first (they cannot lie about PDF), then type and name. */
export function detectFormat(
  bytes: Uint8Array,
  name: string,
  contentType: string | null,
): TextFormat | undefined {
  const head = Buffer.from(bytes.subarray(0, 5)).toString('latin1');
  if (head === '%PDF-') return 'pdf';
  if (head === '{\\rtf') return 'rtf';
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : '';
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  // A Word, Excel or PowerPoint file saved with a password is an encrypted compound file, not a zip.
  if (
    Buffer.from(bytes.subarray(0, 8)).toString('hex') === CFB &&
    (OOXML_EXTENSIONS.has(ext) || type.includes('openxmlformats'))
  )
    throw new Problem(
      'content_encrypted',
      'The Office document is password-protected: it cannot be read as text.',
    );
  const isZip = head.startsWith('PK');
  if (isZip && (ext === 'docx' || type.includes('wordprocessingml'))) return 'docx';
  if (isZip && (ext === 'xlsx' || type.includes('spreadsheetml'))) return 'xlsx';
  if (isZip && (ext === 'pptx' || type.includes('presentationml'))) return 'pptx';
  if (isZip) return undefined; // other archives: not read as text
  if (type === 'application/rtf' || type === 'text/rtf' || ext === 'rtf') return 'rtf';
  if (type === 'text/html' || ext === 'html' || ext === 'htm') return 'html';
  if (type === 'text/csv' || ext === 'csv') return 'csv';
  if (type === 'text/markdown' || ext === 'md' || ext === 'markdown') return 'markdown';
  if (type === 'application/json' || ext === 'json') return 'json';
  if (type.startsWith('text/') || TEXT_EXTENSIONS.has(ext)) return looksBinary(bytes) ? undefined : 'text';
  if (!type && !ext) return looksBinary(bytes) ? undefined : 'text';
  return undefined;
}

function looksBinary(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 4096);
  return sample.includes(0);
}

function unsupported(name: string, contentType: string | null): Problem {
  return new Problem(
    'unsupported_media_type',
    `"${name.slice(0, 100)}"${contentType ? ` (${contentType.slice(0, 100)})` : ''} cannot be read as text: supported are ${SUPPORTED}. Download it instead.`,
    { supported: SUPPORTED },
  );
}

/** Heading tags as Markdown lines, so the structure survives the conversion to text. */
function markHeadings(html: string): { html: string; headings: string[] } {
  const headings: string[] = [];
  const marked = html.replace(/<h([1-6])[^>]*>([\s\S]*?)<\/h\1>/gi, (_m, level: string, inner: string) => {
    const plain = inner
      .replace(/<[^>]+>/g, '')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .trim();
    if (plain) headings.push(plain);
    return `<p>${'#'.repeat(Number(level))} ${inner}</p>`;
  });
  return { html: marked, headings };
}

/** HTML as readable text: paragraphs and lists kept, links as `text [url]`, images and scripts dropped. */
export function htmlToText(html: string): { text: string; headings: string[] } {
  const { convert } = require('html-to-text') as typeof import('html-to-text');
  const { html: marked, headings } = markHeadings(html);
  const text = convert(marked, {
    wordwrap: false,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
      { selector: 'img', format: 'skip' },
      { selector: 'table', format: 'dataTable' },
    ],
  });
  return { text: text.trim(), headings };
}

async function pdfText(bytes: Uint8Array): Promise<DocumentText> {
  // The legacy build runs on Node without a DOM; it is ESM, loaded by require (Node ≥ 20.19).
  const pdfjs = require('pdfjs-dist/legacy/build/pdf.mjs') as typeof import('pdfjs-dist');
  let doc: Awaited<ReturnType<typeof pdfjs.getDocument>['promise']>;
  try {
    doc = await pdfjs.getDocument({
      data: new Uint8Array(bytes),
      isEvalSupported: false,
      useSystemFonts: false,
      verbosity: 0,
    }).promise;
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name === 'PasswordException')
      throw new Problem('content_encrypted', 'The PDF is password-protected: it cannot be read as text.');
    throw new Problem('unsupported_media_type', 'The file says it is a PDF but cannot be read as one.', {
      supported: SUPPORTED,
    });
  }
  try {
    const pages: string[] = [];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : item.str && !item.str.endsWith(' ') ? ' ' : '');
      }
      pages.push(`--- page ${n} ---\n${text.replace(/[ \t]+\n/g, '\n').trim()}`);
      page.cleanup();
    }
    return { format: 'pdf', text: pages.join('\n\n'), pages: doc.numPages, headings: [] };
  } finally {
    await doc.destroy();
  }
}

async function docxText(bytes: Uint8Array): Promise<DocumentText> {
  const mammoth = require('mammoth') as typeof import('mammoth');
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch {
    throw new Problem(
      'unsupported_media_type',
      'The file says it is a Word document but cannot be read as one.',
      {
        supported: SUPPORTED,
      },
    );
  }
  const { text, headings } = htmlToText(html);
  return { format: 'docx', text, pages: null, headings };
}

/** The document's text, or a problem saying why it cannot be read. */
export async function documentText(
  bytes: Uint8Array,
  name: string,
  contentType: string | null,
): Promise<DocumentText> {
  const format = detectFormat(bytes, name, contentType);
  if (!format) throw unsupported(name, contentType);
  if (format === 'pdf') return await pdfText(bytes);
  if (format === 'docx') return await docxText(bytes);
  if (format === 'xlsx' || format === 'pptx') {
    const doc = format === 'xlsx' ? await xlsxText(bytes) : await pptxText(bytes);
    return { format, text: doc.text, pages: doc.sections, headings: doc.headings };
  }
  if (format === 'rtf') {
    // RTF is 7-bit: other characters come as \'hh or \uN escapes.
    return { format, text: rtfToText(Buffer.from(bytes).toString('latin1')), pages: null, headings: [] };
  }
  const decoded = new TextDecoder('utf-8').decode(bytes).replace(/^\uFEFF/, '');
  if (format === 'html') {
    const { text, headings } = htmlToText(decoded);
    return { format, text, pages: null, headings };
  }
  const headings =
    format === 'markdown' ? [...decoded.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1]!.trim()) : [];
  return { format, text: decoded, pages: null, headings };
}

// ---------------------------------------------------------------- reading

/** Documents larger than this are not read as text (download them instead). */
export const MAX_TEXT_SOURCE_BYTES = 50 * 1024 * 1024;

/** A response body read whole, refusing (413 payload_too_large) beyond MAX_TEXT_SOURCE_BYTES. */
export async function readDocumentBytes(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!body) return new Uint8Array(0);
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_TEXT_SOURCE_BYTES) {
      await body.cancel().catch(() => undefined);
      throw new Problem(
        'payload_too_large',
        `The document is larger than ${MAX_TEXT_SOURCE_BYTES / 1024 / 1024} MB: download it instead of reading it as text.`,
      );
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------- slices

/** A slice of `text` from `offset`, ending at a line or word break near `maxChars` when one is close. */
export function textSlice(text: string, offset: number, maxChars: number): { slice: string; next?: number } {
  if (offset + maxChars >= text.length) return { slice: text.slice(offset) };
  const hard = offset + maxChars;
  const window = text.slice(offset, hard);
  const breakAt = Math.max(window.lastIndexOf('\n'), window.lastIndexOf(' '));
  const end = breakAt > maxChars * 0.8 ? offset + breakAt + 1 : hard;
  return { slice: text.slice(offset, end), next: end };
}

/** An opaque cursor for the next slice of one item's text (tied to the item, not forgeable into another). */
export function encodeTextCursor(itemKey: string, offset: number): string {
  return Buffer.from(JSON.stringify({ k: itemKey, o: offset })).toString('base64url');
}

export function decodeTextCursor(cursor: string, itemKey: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      k?: unknown;
      o?: unknown;
    };
    if (parsed.k === itemKey && typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0)
      return parsed.o;
  } catch {
    // fall through
  }
  throw new Problem('invalid_input', 'The cursor is not one this action gave for this item.', {
    errors: [{ field: 'cursor', message: 'is not a cursor of this item’s text' }],
  });
}
