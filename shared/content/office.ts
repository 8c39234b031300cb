/**
 * Spreadsheets and presentations as text (shared/content/text.ts calls these).
 *
 * - XLSX: exceljs (the maintained, MIT-licensed Excel reader; 275 ms to load, so only on first
 *   use). Each sheet is a section `--- sheet N: Name ---` with its used rows as `| a | b |` lines,
 *   cells as Excel displays them (formulas as their last result, dates as dates, rich text flat).
 * - PPTX: the slides' DrawingML text read straight from the package with JSZip (already loaded by
 *   mammoth for Word): no maintained Node library extracts slide text with its order, titles and
 *   notes without pulling in OCR and a second PDF engine (officeparser). Each slide is
 *   `--- slide N ---`, its title a `#` heading, then its paragraphs and speaker notes.
 *
 * Office documents saved with a password are not zip packages but encrypted compound files
 * ([MS-OFFCRYPTO]): the caller sees `content_encrypted` before these run.
 */
import { Problem } from '../http/problem';

export interface SectionedText {
  text: string;
  /** Sheets or slides. */
  sections: number;
  /** Sheet names or slide titles. */
  headings: string[];
}

function unreadable(kind: string): Problem {
  return new Problem('unsupported_media_type', `The file says it is ${kind} but cannot be read as one.`);
}

// ---------------------------------------------------------------- XLSX

/** A cell as Excel displays it (exceljs `cell.text`: formula results, formatted numbers and dates). */
function cellText(cell: { text: string }): string {
  let text: string;
  try {
    text = cell.text;
  } catch {
    // exceljs throws on some malformed cell values: an empty cell is the honest reading.
    text = '';
  }
  return (typeof text === 'string' ? text : '').replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').trim();
}

export async function xlsxText(bytes: Uint8Array): Promise<SectionedText> {
  const ExcelJS = require('exceljs') as typeof import('exceljs');
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(Buffer.from(bytes) as unknown as ArrayBuffer);
  } catch {
    throw unreadable('an Excel workbook');
  }
  const parts: string[] = [];
  const headings: string[] = [];
  let n = 0;
  workbook.eachSheet((sheet) => {
    n++;
    headings.push(sheet.name);
    const rows: string[] = [];
    sheet.eachRow({ includeEmpty: false }, (row) => {
      const cells: string[] = [];
      for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c)));
      while (cells.length && cells[cells.length - 1] === '') cells.pop();
      if (cells.length) rows.push(`| ${cells.join(' | ')} |`);
    });
    parts.push(`--- sheet ${n}: ${sheet.name} ---\n${rows.join('\n')}`.trim());
  });
  return { text: parts.join('\n\n'), sections: n, headings };
}

// ---------------------------------------------------------------- PPTX

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : m;
    }
    return ENTITIES[e] ?? m;
  });
}

/** The paragraphs of a DrawingML fragment: `<a:p>` with its `<a:t>` runs (and `<a:br/>` breaks). */
function paragraphs(xml: string): string[] {
  const out: string[] = [];
  for (const p of xml.match(/<a:p\b[\s\S]*?<\/a:p>/g) ?? []) {
    const text = (p.match(/<a:t(?:\s[^>]*)?>[\s\S]*?<\/a:t>|<a:br\b[^>]*\/>/g) ?? [])
      .map((run) => (run.startsWith('<a:br') ? '\n' : decodeXml(run.replace(/^<a:t[^>]*>|<\/a:t>$/g, ''))))
      .join('')
      .trim();
    if (text) out.push(text);
  }
  return out;
}

/** Relationship id → target path, resolved against the part's folder. */
function relationships(xml: string, folder: string): Map<string, { target: string; type: string }> {
  const map = new Map<string, { target: string; type: string }>();
  for (const rel of xml.match(/<Relationship\b[^>]*>/g) ?? []) {
    const id = /\bId="([^"]+)"/.exec(rel)?.[1];
    const target = /\bTarget="([^"]+)"/.exec(rel)?.[1];
    const type = /\bType="([^"]+)"/.exec(rel)?.[1] ?? '';
    if (!id || !target) continue;
    const parts = target.startsWith('/')
      ? target.slice(1).split('/')
      : [...folder.split('/'), ...target.split('/')];
    const resolved: string[] = [];
    for (const p of parts) {
      if (p === '..') resolved.pop();
      else if (p && p !== '.') resolved.push(p);
    }
    map.set(id, { target: resolved.join('/'), type });
  }
  return map;
}

export async function pptxText(bytes: Uint8Array): Promise<SectionedText> {
  const JSZip = require('jszip') as typeof import('jszip');
  let zip: import('jszip');
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch {
    throw unreadable('a PowerPoint presentation');
  }
  const read = async (path: string) => await zip.file(path)?.async('string');
  const presentation = await read('ppt/presentation.xml');
  const presentationRels = await read('ppt/_rels/presentation.xml.rels');
  if (!presentation || !presentationRels) throw unreadable('a PowerPoint presentation');
  const rels = relationships(presentationRels, 'ppt');
  // Slide order is the order of sldIdLst, not of the file names.
  const slideIds = [
    ...(/<p:sldIdLst>([\s\S]*?)<\/p:sldIdLst>/.exec(presentation)?.[1] ?? '').matchAll(/r:id="([^"]+)"/g),
  ].map((m) => m[1]!);
  const parts: string[] = [];
  const headings: string[] = [];
  let n = 0;
  for (const id of slideIds) {
    const path = rels.get(id)?.target;
    const xml = path ? await read(path) : undefined;
    if (!path || !xml) continue;
    n++;
    let title = '';
    const body: string[] = [];
    for (const shape of xml.match(/<p:sp\b[\s\S]*?<\/p:sp>/g) ?? []) {
      const text = paragraphs(shape);
      if (!title && /<p:ph\b[^>]*type="(?:title|ctrTitle)"/.test(shape)) title = text.join(' ');
      else body.push(...text);
    }
    // Tables and grouped shapes outside <p:sp>: their text too.
    for (const frame of xml.match(/<p:graphicFrame\b[\s\S]*?<\/p:graphicFrame>/g) ?? [])
      body.push(...paragraphs(frame));
    const slideFolder = path.slice(0, path.lastIndexOf('/'));
    const fileName = path.slice(path.lastIndexOf('/') + 1);
    const slideRels = await read(`${slideFolder}/_rels/${fileName}.rels`);
    let notes: string[] = [];
    if (slideRels) {
      const notesPart = [...relationships(slideRels, slideFolder).values()].find((r) =>
        r.type.endsWith('/notesSlide'),
      );
      const notesXml = notesPart ? await read(notesPart.target) : undefined;
      // The notes page repeats the slide number and an image of the slide: keep the body placeholder.
      if (notesXml)
        notes = (notesXml.match(/<p:sp\b[\s\S]*?<\/p:sp>/g) ?? [])
          .filter((s) => /<p:ph\b[^>]*type="body"/.test(s))
          .flatMap(paragraphs);
    }
    if (title) headings.push(title);
    parts.push(
      [
        `--- slide ${n} ---`,
        ...(title ? [`# ${title}`] : []),
        ...body,
        ...(notes.length ? [`Notes: ${notes.join('\n')}`] : []),
      ].join('\n'),
    );
  }
  return { text: parts.join('\n\n'), sections: n, headings };
}
