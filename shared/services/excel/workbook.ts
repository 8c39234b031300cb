/**
 * What every Excel action shares: the workbook's address (a file by path, id or sharing link, in
 * OneDrive or a SharePoint library), sessions, `$batch` inside a session, A1 addresses, the
 * mapping of Excel's errors and of cell values for a model.
 *
 * Sessions (https://learn.microsoft.com/graph/excel-manage-sessions): an action that makes more
 * than one workbook call opens a session (persistent for writes, non-persistent for reads), sends
 * its calls in one `$batch` chained with dependsOn (Excel recommends one request at a time per
 * workbook, workbook-best-practice.md "Throttling and concurrency"), and closes it. A session
 * that expired or was lost (inner code invalidSessionReCreatable) is created again once and the
 * calls repeated. One call is made sessionless: a session would cost two more round trips.
 */
import { z } from 'zod';
import type { ActionContext } from '../../actions/types';
import { seg } from '../../graph/client';
import { GraphError, graphErrorFrom } from '../../graph/errors';
import { Problem } from '../../http/problem';
import { itemUrl, pathSegments, type DriveAddress } from '../files/map';

// Files.ReadWrite.All (the files feature) covers every workbook call; the Excel API needs
// Files.ReadWrite even to read (worksheet-list.md and its kin list no read-only permission).
export const SCOPES = ['Files.ReadWrite'];

type Json = Record<string, unknown>;

// ---------------------------------------------------------------- the file

const path = z
  .string()
  .min(1)
  .max(1024)
  .describe('Path of the .xlsx from the drive root, e.g. "/Finance/Expenses.xlsx".');
const itemId = z
  .string()
  .min(1)
  .max(400)
  .describe('The drive item id of the .xlsx (from files.search or a listing).');
const shareUrl = z
  .url({ protocol: /^https$/ })
  .max(2048)
  .describe('A sharing link to the workbook (https://…sharepoint.com/:x:/…), as pasted by a user.');
const driveId = z
  .string()
  .min(1)
  .max(400)
  .describe('Drive id of a SharePoint library or another user’s drive; omit for the user’s OneDrive.');
const siteId = z
  .string()
  .min(1)
  .max(400)
  .describe('SharePoint site id: the file is in the site’s default library.');

/** The fields that name the workbook, spread into every action's input. */
export const fileFields = {
  path: path.optional(),
  itemId: itemId.optional(),
  shareUrl: shareUrl.optional(),
  driveId: driveId.optional(),
  siteId: siteId.optional(),
};

export interface FileInput extends DriveAddress {
  path?: string | undefined;
  itemId?: string | undefined;
  shareUrl?: string | undefined;
}

/** Refinements every Excel input schema applies (one address; drive fields only with path/id). */
export function checkFile(v: FileInput, issue: (message: string, path: string) => void): void {
  const given = [v.path, v.itemId, v.shareUrl].filter((x) => x !== undefined).length;
  if (given !== 1) issue('Give exactly one of path, itemId or shareUrl.', 'path');
  if (v.driveId !== undefined && v.siteId !== undefined) issue('Give driveId or siteId, not both.', 'siteId');
  if (v.shareUrl !== undefined && (v.driveId !== undefined || v.siteId !== undefined)) {
    issue('A sharing link names its drive itself: omit driveId and siteId.', 'shareUrl');
  }
  if (v.path !== undefined && !/\.xls[xm]$/i.test(v.path)) {
    issue('The Excel API works on .xlsx (and .xlsm) workbooks.', 'path');
  }
}

/** Graph's encoding of a sharing URL for /shares (shares-get.md): "u!" + unpadded base64url. */
export function encodeSharingUrl(url: string): string {
  return `u!${Buffer.from(url, 'utf8').toString('base64url')}`;
}

/**
 * The workbook's URL (`{item}/workbook`). A sharing link is resolved first, redeemed so the user
 * keeps access (`Prefer: redeemSharingLink`): the calls that follow address the item in its drive.
 */
export async function workbookUrl(ctx: ActionContext, input: FileInput): Promise<string> {
  if (ctx.connection.accountType === 'personal') {
    throw new Problem(
      'feature_unavailable',
      'The Excel workbook API needs a work or school account (Microsoft does not offer it for personal accounts). Use files.download to read the file instead.',
      { feature: 'files' },
    );
  }
  if (input.shareUrl) {
    const res = await ctx.graph<Json>({
      method: 'GET',
      url: `/shares/${seg(encodeSharingUrl(input.shareUrl))}/driveItem`,
      query: { $select: 'id,name,parentReference,file' },
      headers: { Prefer: 'redeemSharingLink' },
    });
    const item = res.body;
    const drive = (item.parentReference as Json | undefined)?.driveId;
    if (typeof item.id !== 'string' || typeof drive !== 'string') {
      throw new Problem('not_found', 'The sharing link does not lead to a file.');
    }
    ctx.targets.push(item.id);
    return `/drives/${seg(drive)}/items/${seg(item.id)}/workbook`;
  }
  if (input.path) pathSegments(input.path);
  // The audit log names items by id (a path can say more than the log should keep).
  if (input.itemId) ctx.targets.push(input.itemId);
  return `${itemUrl({ ...input, ...(input.itemId ? {} : { path: input.path ?? '/' }) })}/workbook`;
}

// ---------------------------------------------------------------- sessions and $batch

export interface WorkbookCall {
  method: 'GET' | 'POST' | 'PATCH';
  /** Relative to the workbook URL, e.g. "/tables('Expenses')/rows/add". */
  path: string;
  body?: unknown;
}

interface BatchResponse {
  id: string;
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const isLostSession = (err: unknown) =>
  err instanceof GraphError && /^invalidSession(ReCreatable|NotFound)?$/i.test(err.innerCode ?? '');

/**
 * Runs `work` inside one session: createSession, then each `run(calls)` is one `$batch` (its
 * calls chained with dependsOn), then closeSession. A call that failed throws its GraphError.
 * A lost session (invalidSessionReCreatable) is created again once and `work` repeated: the
 * call that met it did not run.
 */
export async function withSession<T>(
  ctx: ActionContext,
  workbook: string,
  persist: boolean,
  work: (run: (calls: WorkbookCall[]) => Promise<unknown[]>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const created = await ctx.graph<Json>({
      method: 'POST',
      url: `${workbook}/createSession`,
      body: { persistChanges: persist },
      idempotent: true,
    });
    const id = typeof created.body.id === 'string' ? created.body.id : '';
    try {
      return await work((calls) => batch(ctx, workbook, id, calls));
    } catch (err) {
      if (attempt === 1 && isLostSession(err)) continue;
      throw err;
    } finally {
      await closeSession(ctx, workbook, id);
    }
  }
}

async function closeSession(ctx: ActionContext, workbook: string, id: string): Promise<void> {
  try {
    await ctx.graph({
      method: 'POST',
      url: `${workbook}/closeSession`,
      headers: { 'workbook-session-id': id },
      body: {},
      idempotent: true,
    });
  } catch (err) {
    // The session ends by itself after a few idle minutes; the action's result stands.
    ctx.log.warn(
      `excel: closeSession failed (${err instanceof GraphError ? err.status : 'error'}); it will expire`,
    );
  }
}

async function batch(
  ctx: ActionContext,
  workbook: string,
  session: string,
  calls: WorkbookCall[],
): Promise<unknown[]> {
  const headers = { 'workbook-session-id': session };
  const requests = calls.map((c, i) => ({
    id: String(i + 1),
    method: c.method,
    url: `${workbook}${c.path}`,
    headers: { ...headers, ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(c.body !== undefined ? { body: c.body } : {}),
    ...(i > 0 ? { dependsOn: [String(i)] } : {}),
  }));
  const res = await ctx.graph<{ responses?: BatchResponse[] }>({
    method: 'POST',
    url: '/$batch',
    body: { requests },
    // Replaying a batch that holds a write would add rows twice: only reads are repeatable.
    idempotent: calls.every((c) => c.method === 'GET'),
  });
  const out: unknown[] = [];
  for (const [i, call] of calls.entries()) {
    const r = res.body.responses?.find((x) => x.id === String(i + 1));
    if (r && r.status >= 200 && r.status < 300) {
      out.push(r.body);
      continue;
    }
    // Throttled (or never run because an earlier call was): made on its own, in order.
    if (!r || r.status === 429 || r.status === 424) {
      const single = await ctx.graph({
        method: call.method,
        url: `${workbook}${call.path}`,
        headers,
        ...(call.body !== undefined ? { body: call.body } : {}),
        idempotent: call.method !== 'POST',
      });
      out.push(single.body);
      continue;
    }
    throw graphErrorFrom(r.status, new Headers(r.headers ?? {}), r.body);
  }
  return out;
}

// ---------------------------------------------------------------- addresses

const MAX_ROW = 1_048_576;
const MAX_COL = 16_384;

function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

export interface CellArea {
  r1: number;
  c1: number;
  r2: number;
  c2: number;
}

/** An A1 range on one sheet (`B2`, `A1:C10`, `$A$1:$C$3`); undefined when it is not one. */
export function parseA1(address: string): CellArea | undefined {
  const m = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})(?::\$?([A-Za-z]{1,3})\$?(\d{1,7}))?$/.exec(address.trim());
  if (!m) return undefined;
  const c1 = columnNumber(m[1] ?? '');
  const r1 = Number(m[2]);
  const c2 = m[3] ? columnNumber(m[3]) : c1;
  const r2 = m[4] ? Number(m[4]) : r1;
  if ([r1, r2].some((r) => r < 1 || r > MAX_ROW) || [c1, c2].some((c) => c < 1 || c > MAX_COL))
    return undefined;
  return { r1: Math.min(r1, r2), c1: Math.min(c1, c2), r2: Math.max(r1, r2), c2: Math.max(c1, c2) };
}

/** The sheet of an address as Graph writes it (quotes removed, doubled quotes undone). */
export function sheetOf(address: string): string {
  const bang = address.lastIndexOf('!');
  const raw = bang >= 0 ? address.slice(0, bang) : '';
  return /^'.*'$/.test(raw) ? raw.slice(1, -1).replace(/''/g, "'") : raw;
}

/** `Sheet1!A1:C3` / `'Q1'!A1` as Graph writes a range's address → the sheet and the cells. */
export function splitAddress(address: string): { sheet: string; area: CellArea } {
  const sheet = sheetOf(address);
  const area = parseA1(address.slice(address.lastIndexOf('!') + 1));
  if (!area) throw new Problem('upstream_error', 'Graph answered a range address that is not A1.');
  return { sheet, area };
}

export const a1Address = z
  .string()
  .min(2)
  .max(30)
  .refine((s) => parseA1(s) !== undefined, 'must be an A1 range on one sheet, e.g. "A1:C10" or "B2"')
  .describe('An A1 range, e.g. "A1:D20" or "F2" (the sheet is given in `sheet`).');

export const sheetName = z
  .string()
  .min(1)
  .max(31)
  .refine((s) => !/[\\/?*[\]:]/.test(s), 'a worksheet name cannot contain \\ / ? * [ ] or :')
  .describe('The worksheet name, e.g. "Sheet1" (from excel.listWorksheets).');

export const tableName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^'/\\[\]]+$/, 'must be a table name or id (from excel.listTables)')
  .describe('The table name, e.g. "Expenses", or its id (from excel.listTables).');

export const sheetPath = (sheet: string) => `/worksheets('${encodeURIComponent(sheet.replace(/'/g, "''"))}')`;
export const tablePath = (table: string) => `/tables('${encodeURIComponent(table.replace(/'/g, "''"))}')`;
export const rangePath = (sheet: string, address: string) =>
  `${sheetPath(sheet)}/range(address='${encodeURIComponent(address)}')`;

// ---------------------------------------------------------------- cells for a model

/** A cell value: a string, number, boolean, null for an empty cell, or an ISO date for a date cell. */
export type Cell = string | number | boolean | null;

/** True for a number format that shows a date (d, m with y, or y), not an elapsed or plain number. */
function isDateFormat(format: unknown): boolean {
  if (typeof format !== 'string' || format === 'General') return false;
  const bare = format.replace(/"[^"]*"|\[[^\]]*\]|\\./g, '');
  return /[dy]/i.test(bare) || /m.*[dy]|[dy].*m/i.test(bare);
}

/** Excel serial (days since 1899-12-30) → "2026-11-02" or "2026-11-02T09:30:00". */
function serialToIso(serial: number): string {
  const ms = Math.round((serial - 25569) * 86_400_000);
  const iso = new Date(ms).toISOString();
  return serial % 1 === 0 ? iso.slice(0, 10) : iso.slice(0, 19);
}

/**
 * Graph's range values as a model reads them: empty cells null, dates (a date number format on
 * a number) as ISO dates, errors ("#DIV/0!") as their text.
 */
export function cellOf(value: unknown, format?: unknown): Cell {
  if (value === '' || value === undefined || value === null) return null;
  if (typeof value === 'number' && isDateFormat(format) && value >= 0 && value < 2_958_466)
    return serialToIso(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** Column names for rows as objects: the header text, else the column letter; repeats get " (2)". */
export function headerNames(header: unknown[], firstColumn = 1): string[] {
  const seen = new Map<string, number>();
  return header.map((h, i) => {
    let name = h === null || h === undefined || h === '' ? columnLetters(firstColumn + i) : String(cellOf(h));
    const n = (seen.get(name.toLowerCase()) ?? 0) + 1;
    seen.set(name.toLowerCase(), n);
    if (n > 1) name = `${name} (${n})`;
    return name;
  });
}

export function columnLetters(col: number): string {
  let name = '';
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26))
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

export function rowObject(names: string[], row: unknown[], formats?: unknown[]): Record<string, Cell> {
  const out: Record<string, Cell> = {};
  names.forEach((name, i) => (out[name] = cellOf(row[i], formats?.[i])));
  return out;
}

// ---------------------------------------------------------------- errors

/**
 * Excel's errors (workbook-error-codes.md): the detailed code is in innerError. A 404 from the
 * drive (code itemNotFound at the top) is the file; from Excel (top code notFound) a worksheet
 * or table.
 */
export function excelProblem(
  err: GraphError,
  names: { sheet?: string; table?: string },
): Problem | undefined {
  const info = {
    graphCode: err.innerCode ?? err.code,
    ...(err.requestId ? { graphRequestId: err.requestId } : {}),
  };
  const inner = (err.innerCode ?? '').toLowerCase();
  if (err.status === 404 && err.code.toLowerCase() === 'itemnotfound' && !err.innerCode) {
    return new Problem(
      'not_found',
      'No such file: check the path, item id or link (excel works on .xlsx files).',
      info,
    );
  }
  if (err.status === 404 && !inner.startsWith('invalidsession')) {
    const what = names.table
      ? `a table "${names.table}"`
      : names.sheet
        ? `a worksheet "${names.sheet}"`
        : 'that worksheet or table';
    return new Problem(
      'not_found',
      `The workbook has no ${what}. List them with excel.listWorksheets / excel.listTables.`,
      info,
    );
  }
  if (err.status === 400 && inner === 'unsupportedworkbook') {
    return new Problem(
      'unsupported_media_type',
      'The file is not an Excel workbook the service can open (only .xlsx / .xlsm files work).',
      info,
    );
  }
  if (err.status === 400 && (inner === 'invalidargument' || inner === 'invalidreference')) {
    return new Problem(
      'invalid_input',
      'Excel refused the input (an address, value or formula it cannot use).',
      {
        ...info,
        errors: [{ field: 'input', message: err.message.slice(0, 300) }],
      },
    );
  }
  if (err.status === 400 && inner === 'rangeexceedslimit') {
    return new Problem(
      'invalid_input',
      'The range is too large for one request; read a smaller address.',
      info,
    );
  }
  if (err.status === 409 && inner === 'itemalreadyexists') {
    return new Problem('conflict', 'A worksheet with that name already exists in the workbook.', info);
  }
  if (err.status === 409) {
    return new Problem(
      'conflict',
      'The workbook is locked by another client (for example open in Excel desktop without co-authoring); retry later or close it there.',
      info,
    );
  }
  return undefined;
}
