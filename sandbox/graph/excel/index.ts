/**
 * Graph's Excel workbook API on a drive item (https://learn.microsoft.com/graph/api/resources/excel):
 * `{item}/workbook/...` under every drive address the files routes accept (OneDrive, a shared
 * drive, a SharePoint library). The files module hands the resolved item here.
 *
 * - Sessions (excel-manage-sessions.md, workbook-createsession.md): `createSession`
 *   {persistChanges} answers 201 with the session (or 202 + Location with `Prefer: respond-async`,
 *   then `operations/{id}` and `sessionInfoResource(key=...)`); `closeSession`, `refreshSession`.
 *   A persistent session and a sessionless request save every change to the file; a
 *   non-persistent session works on its own copy, lost when it closes or expires. Sessions expire
 *   after 5 (persistent) or 7 (non-persistent) idle minutes (microsoft-graph-docs PR 5575); an
 *   unknown or expired session is 404 with inner code invalidSessionReCreatable.
 * - Worksheets: list, add (`worksheets/add` or POST `worksheets`), get by id or name,
 *   `range(address=...)` get/patch (values, formulas, numberFormat), `usedRange(valuesOnly=...)`.
 * - Tables: list (workbook or sheet), get, `rows` (list, `add` with index and values,
 *   `itemAt(index=n)`), `columns`, `range`, `headerRowRange`, `dataBodyRange`.
 * - Errors (workbook-error-codes.md, workbook-error-handling.md): top-level code by status
 *   (badRequest, notFound, conflict, forbidden) with the detailed code in innerError
 *   (invalidArgument, itemNotFound, itemAlreadyExists, accessConflict, unsupportedWorkbook).
 *   A workbook another client holds for editing (`PUT /_sandbox/excel/locks`) refuses writes
 *   and persistent sessions with 409 accessConflict.
 * - Permissions: Files.ReadWrite (or .All, Sites.ReadWrite.All) for reads too; personal
 *   accounts are not supported (the permission tables of worksheet-list.md and its kin).
 * - Throttling: more than `maxQueuedPerWorkbook` requests held by one workbook (running and
 *   waiting; Excel runs a workbook's requests one at a time) answer 429 with Retry-After and inner
 *   code tooManyRequestsUncategorized (workbook-best-practice.md: concurrent requests to one
 *   workbook "are often the cause of throttling"; no numbers are published). Fault injection
 *   adds any other status, as for every route.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type ExcelJS from 'exceljs';
import type { Sandbox } from '../../context';
import { empty, json, safeDecode, type SandboxResponse } from '../../http';
import type { GraphCtx } from '../core';
import { GraphHttpError, formatRetryAfter } from '../errors';
import type { Entity } from '../store';
import { contentKey, filesState, isFolder, replaceSmallFile, type DriveCtx } from '../files/state';
import { MAX_COL, MAX_ROW, cellName, formatArea, parseArea, type Area } from './a1';
import { Book, type TableInfo } from './book';
import { isError, parses, type Scalar } from './formula';

// ---------------------------------------------------------------- errors

function excelError(status: number, inner: string, message: string): GraphHttpError {
  const top: Record<number, string> = {
    400: 'badRequest',
    403: 'forbidden',
    404: 'notFound',
    409: 'conflict',
    413: 'payloadTooLarge',
  };
  return new GraphHttpError(status, top[status] ?? 'badRequest', message, { innerCode: inner });
}

const invalidArgument = (message: string) =>
  excelError(
    400,
    'invalidArgument',
    `The argument is invalid or missing or has an incorrect format. ${message}`,
  );
const itemNotFound = (what: string) =>
  excelError(404, 'itemNotFound', `The requested resource doesn't exist. ${what}`);

// ---------------------------------------------------------------- state

interface WorkbookSession {
  id: string;
  userId: string;
  /** contentKey of the workbook's item. */
  item: string;
  persist: boolean;
  /** A non-persistent session's own copy. */
  copy?: Book;
  lastUsed: number;
}

interface Operation {
  id: string;
  session: WorkbookSession;
  pollsLeft: number;
}

export interface ExcelSettings {
  /** Idle minutes before a persistent session expires (documented: 5). */
  persistentIdleMinutes: number;
  /** Idle minutes before a non-persistent session expires (documented: 7). */
  nonPersistentIdleMinutes: number;
  /** `running` answers of an async createSession's operation before `succeeded` (default 0). */
  operationPollsBeforeDone: number;
  /**
   * Requests one workbook holds (running and waiting) before more are throttled: concurrent
   * requests to one workbook "are often the cause of throttling" (workbook-best-practice.md);
   * Excel publishes no number. Default 8.
   */
  maxQueuedPerWorkbook: number;
  /** Retry-After of those 429s, seconds (fractions allowed). Default 1. */
  throttleRetryAfterSeconds: number;
}

interface ExcelState {
  sessions: Map<string, WorkbookSession>;
  operations: Map<string, Operation>;
  /** The parsed workbook of each item's current content (keyed by contentKey, checked by path). */
  books: Map<string, { path: string; book: Book }>;
  /** Items another client holds open for editing (contentKey). */
  locks: Set<string>;
  /** One request at a time per workbook (Excel runs a workbook's writes in order). */
  queues: Map<string, Promise<unknown>>;
  /** Requests per workbook running or waiting in its queue. */
  pending: Map<string, number>;
  /** Workbooks whose queue is held (control API): requests wait until released. */
  holds: Map<string, { released: Promise<void>; release: () => void }>;
  settings: ExcelSettings;
}

const states = new WeakMap<Sandbox, ExcelState>();

function excelState(sandbox: Sandbox): ExcelState {
  let s = states.get(sandbox);
  if (!s) {
    s = {
      sessions: new Map(),
      operations: new Map(),
      books: new Map(),
      locks: new Set(),
      queues: new Map(),
      pending: new Map(),
      holds: new Map(),
      settings: {
        persistentIdleMinutes: 5,
        nonPersistentIdleMinutes: 7,
        operationPollsBeforeDone: 0,
        maxQueuedPerWorkbook: 8,
        throttleRetryAfterSeconds: 1,
      },
    };
    states.set(sandbox, s);
  }
  return s;
}

/**
 * Runs `work` after the workbook's earlier requests (a per-item queue); beyond
 * `maxQueuedPerWorkbook` requests held, 429 with Retry-After (tooManyRequestsUncategorized).
 */
async function serialized<T>(state: ExcelState, key: string, work: () => Promise<T>): Promise<T> {
  const pending = state.pending.get(key) ?? 0;
  if (pending >= state.settings.maxQueuedPerWorkbook) {
    throw new GraphHttpError(429, 'tooManyRequests', 'The app or user has been throttled.', {
      headers: { 'retry-after': formatRetryAfter(state.settings.throttleRetryAfterSeconds) },
      innerCode: 'tooManyRequestsUncategorized',
    });
  }
  state.pending.set(key, pending + 1);
  try {
    return await queued(state, key, work);
  } finally {
    const left = (state.pending.get(key) ?? 1) - 1;
    if (left > 0) state.pending.set(key, left);
    else state.pending.delete(key);
  }
}

async function queued<T>(state: ExcelState, key: string, work: () => Promise<T>): Promise<T> {
  const before = state.queues.get(key) ?? Promise.resolve();
  const held = async () => {
    await state.holds.get(key)?.released;
    return await work();
  };
  const run = before.then(held, held);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  state.queues.set(key, settled);
  try {
    return await run;
  } finally {
    if (state.queues.get(key) === settled) state.queues.delete(key);
  }
}

// ---------------------------------------------------------------- the request

interface WorkbookRequest {
  ctx: GraphCtx;
  d: DriveCtx;
  item: Entity;
  key: string;
  /** The URL of the item's workbook, for Location and resourceLocation. */
  base: string;
  session?: WorkbookSession;
  book: Book;
  /** The request changed the workbook: save it unless it works on a non-persistent copy. */
  dirty: boolean;
}

const WRITE_SCOPES = ['files.readwrite', 'files.readwrite.all', 'sites.readwrite.all'];

/**
 * Serves `{item}/workbook{rest}`. `item` is the resolved drive item (the files module checked
 * the caller may reach it); `rest` is what follows `/workbook`, raw.
 */
export async function handleWorkbook(
  ctx: GraphCtx,
  d: DriveCtx,
  item: Entity,
  rest: string,
  /** False when the caller may only read the item (a read-only share): changes are 403. */
  canWrite = true,
): Promise<SandboxResponse> {
  const granted = new Set(ctx.auth.scopes.map((s) => s.toLowerCase()));
  if (!ctx.auth.appOnly && !WRITE_SCOPES.some((s) => granted.has(s))) {
    throw excelError(
      403,
      'forbiddenUncategorized',
      'The workbook API needs Files.ReadWrite (or Files.ReadWrite.All).',
    );
  }
  if (d.owner.accountType === 'personal') {
    throw excelError(
      403,
      'forbiddenUncategorized',
      'The workbook API is not supported for personal Microsoft accounts.',
    );
  }
  if (isFolder(item)) throw excelError(400, 'unsupportedWorkbook', 'The item is a folder, not a workbook.');
  const state = excelState(ctx.sandbox);
  const key = contentKey(d.owner.id, item.id);
  const segments = splitSegments(rest);
  // The item's URL (what precedes `/workbook{rest}` in the path), for Location headers.
  const path = ctx.path.replace(/\/+$/, '');
  const base = `${ctx.sandbox.graphBaseUrl}${path.slice('/v1.0'.length, path.length - rest.length - '/workbook'.length)}`;
  return await serialized(state, key, async () => {
    expireSessions(ctx.sandbox, state);
    const first = (segments[0] ?? '').toLowerCase();
    if (ctx.method === 'POST' && first === 'createsession' && segments.length === 1) {
      return await createSession(ctx, state, key, base, canWrite);
    }
    if (ctx.method === 'GET' && first === 'operations' && segments.length === 2) {
      return operationStatus(state, segments[1] ?? '', base);
    }
    if (ctx.method === 'GET' && segments.length === 1 && /^sessionInfoResource\(/i.test(segments[0] ?? '')) {
      const id = /key='([^']*)'/i.exec(segments[0] ?? '')?.[1];
      const session = id ? state.sessions.get(id) : undefined;
      if (!session || session.item !== key) throw itemNotFound('No such session.');
      return json(200, { id: session.id, persistChanges: session.persist });
    }
    const session = sessionOf(ctx, state, key);
    if (
      ctx.method === 'POST' &&
      (first === 'closesession' || first === 'refreshsession') &&
      segments.length === 1
    ) {
      if (!session) throw invalidArgument('The workbook-session-id header names no session.');
      if (first === 'closesession') state.sessions.delete(session.id);
      return empty(204);
    }
    const writes = ctx.method !== 'GET';
    if (writes && !canWrite && !(session && !session.persist)) {
      throw excelError(
        403,
        'accessDenied',
        'The caller can only read this workbook (it was shared read-only).',
      );
    }
    if (writes && state.locks.has(key) && !(session && !session.persist)) {
      throw excelError(
        409,
        'accessConflict',
        'The request failed due to conflicts with other clients that are accessing the workbook (another client has locked the workbook for edit).',
      );
    }
    const book = session?.copy ?? (await currentBook(ctx.sandbox, state, key));
    const r: WorkbookRequest = {
      ctx,
      d,
      item,
      key,
      base,
      book,
      dirty: false,
      ...(session ? { session } : {}),
    };
    const response = await route(r, segments);
    if (r.dirty && !session?.copy) await persist(r, state);
    return response;
  });
}

/** Splits what follows /workbook into segments, keeping `range(address='a/b')` whole. */
function splitSegments(rest: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  const decoded = safeDecode(rest);
  for (const ch of decoded) {
    if (ch === "'") quoted = !quoted;
    if (ch === '/' && !quoted) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

function expireSessions(sandbox: Sandbox, state: ExcelState): void {
  const now = sandbox.now();
  for (const s of [...state.sessions.values()]) {
    const idle = s.persist ? state.settings.persistentIdleMinutes : state.settings.nonPersistentIdleMinutes;
    if (now - s.lastUsed > idle * 60_000) state.sessions.delete(s.id);
  }
}

function sessionOf(ctx: GraphCtx, state: ExcelState, key: string): WorkbookSession | undefined {
  const header = ctx.headers['workbook-session-id'];
  const id = Array.isArray(header) ? header[0] : header;
  if (!id) return undefined;
  const session = state.sessions.get(id);
  if (!session || session.item !== key || session.userId !== (ctx.caller?.id ?? ctx.user?.id ?? '')) {
    throw excelError(
      404,
      'invalidSessionReCreatable',
      'The session specified in the request does not exist or is invalid due to a transient error.',
    );
  }
  session.lastUsed = ctx.sandbox.now();
  return session;
}

async function currentBook(sandbox: Sandbox, state: ExcelState, key: string): Promise<Book> {
  const path = filesState(sandbox).content.get(key);
  if (!path) throw excelError(400, 'unsupportedWorkbook', 'The file has no content.');
  const cached = state.books.get(key);
  if (cached && cached.path === path) return cached.book;
  const book = await Book.load(readFileSync(path));
  if (!book) {
    throw excelError(
      400,
      'unsupportedWorkbook',
      'The request failed. The file is not an Excel workbook (.xlsx) the service can open.',
    );
  }
  state.books.set(key, { path, book });
  return book;
}

/** Saves the workbook into the drive item (new content, eTag and cTag: delta and webhooks see it). */
async function persist(r: WorkbookRequest, state: ExcelState): Promise<void> {
  const bytes = await r.book.save();
  replaceSmallFile(r.d, r.item, bytes);
  const path = filesState(r.ctx.sandbox).content.get(r.key);
  if (path) state.books.set(r.key, { path, book: r.book });
}

// ---------------------------------------------------------------- sessions

async function createSession(
  ctx: GraphCtx,
  state: ExcelState,
  key: string,
  base: string,
  canWrite: boolean,
): Promise<SandboxResponse> {
  const body = (await ctx.json<Record<string, unknown>>()) ?? {};
  const persist = body.persistChanges;
  if (persist !== undefined && typeof persist !== 'boolean')
    throw invalidArgument('persistChanges must be true or false.');
  const persistent = persist !== false;
  if (persistent && !canWrite) {
    throw excelError(
      403,
      'accessDenied',
      'A persistent session needs write access; this workbook is shared read-only.',
    );
  }
  if (persistent && state.locks.has(key)) {
    throw excelError(
      409,
      'accessConflict',
      'The session cannot be created: another client has locked the workbook for edit.',
    );
  }
  const book = await currentBook(ctx.sandbox, state, key);
  const session: WorkbookSession = {
    id: `cluster=SDX.sandbox&session=${randomUUID()}`,
    userId: ctx.caller?.id ?? ctx.user?.id ?? '',
    item: key,
    persist: persistent,
    lastUsed: ctx.sandbox.now(),
    ...(persistent ? {} : { copy: await Book.load(await book.save()) }),
  };
  state.sessions.set(session.id, session);
  if (/respond-async/i.test(String(ctx.headers.prefer ?? ''))) {
    const op: Operation = {
      id: randomBytes(12).toString('hex'),
      session,
      pollsLeft: state.settings.operationPollsBeforeDone,
    };
    state.operations.set(op.id, op);
    return empty(202, { location: `${base}/workbook/operations/${op.id}` });
  }
  return json(201, {
    '@odata.context': `${ctx.sandbox.graphBaseUrl}/$metadata#microsoft.graph.workbookSessionInfo`,
    id: session.id,
    persistChanges: session.persist,
  });
}

function operationStatus(state: ExcelState, id: string, base: string): SandboxResponse {
  const op = state.operations.get(id);
  if (!op) throw itemNotFound('No such operation.');
  if (op.pollsLeft > 0) {
    op.pollsLeft--;
    return json(200, { id: op.id, status: 'running' });
  }
  return json(200, {
    id: op.id,
    status: 'succeeded',
    resourceLocation: `${base}/workbook/sessionInfoResource(key='${op.session.id}')`,
  });
}

// ---------------------------------------------------------------- routing

/** `name(arg='x')` / `name(arg=3)` → its arguments. */
function callArgs(segment: string, name: string): Record<string, string> | undefined {
  const m = new RegExp(`^${name}(?:\\((.*)\\))?$`, 'i').exec(segment);
  if (!m) return undefined;
  const args: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:'((?:[^']|'')*)'|([^,]*))/g;
  for (let a = re.exec(m[1] ?? ''); a; a = re.exec(m[1] ?? '')) {
    args[(a[1] ?? '').toLowerCase()] = a[2] !== undefined ? a[2].replace(/''/g, "'") : (a[3] ?? '').trim();
  }
  return args;
}

/** `worksheets/{key}` or `worksheets('{key}')` (the same for tables). */
function keyed(segments: string[], collection: string): { key?: string; rest: string[] } | undefined {
  const [head = '', ...tail] = segments;
  if (head.toLowerCase() === collection) {
    if (tail.length === 0) return { rest: [] };
    const [k = '', ...rest] = tail;
    if (k.toLowerCase() === 'add' || k.toLowerCase() === 'count') return { rest: tail };
    return { key: k, rest };
  }
  const m = new RegExp(`^${collection}\\('((?:[^']|'')*)'\\)$`, 'i').exec(head);
  if (m) return { key: (m[1] ?? '').replace(/''/g, "'"), rest: tail };
  return undefined;
}

async function route(r: WorkbookRequest, segments: string[]): Promise<SandboxResponse> {
  const sheets = keyed(segments, 'worksheets');
  if (sheets) {
    if (sheets.key === undefined) return await worksheetCollection(r, sheets.rest);
    const ws = r.book.sheet(sheets.key);
    if (!ws) throw itemNotFound(`There is no worksheet '${sheets.key}'.`);
    return await worksheetMember(r, ws, sheets.rest);
  }
  const tables = keyed(segments, 'tables');
  if (tables) return await tableRoute(r, tables, undefined);
  throw excelError(400, 'badRequestUncategorized', `Unsupported workbook segment '/${segments.join('/')}'.`);
}

async function worksheetCollection(r: WorkbookRequest, rest: string[]): Promise<SandboxResponse> {
  const { ctx, book } = r;
  if (rest.length === 0 && ctx.method === 'GET') {
    return json(200, { value: book.sheets().map((ws) => worksheetJson(book, ws)) });
  }
  const adding = (rest.length === 1 && rest[0]?.toLowerCase() === 'add') || rest.length === 0;
  if (adding && ctx.method === 'POST') {
    const body = (await ctx.json<Record<string, unknown>>()) ?? {};
    let name = body.name;
    if (name === undefined || name === null || name === '') {
      const taken = new Set(book.sheets().map((ws) => ws.name.toLowerCase()));
      let n = book.sheets().length + 1;
      while (taken.has(`sheet${n}`)) n++;
      name = `Sheet${n}`;
    }
    if (typeof name !== 'string') throw invalidArgument('name must be a string.');
    const why = Book.invalidSheetName(name);
    if (why) throw invalidArgument(why);
    if (book.sheet(name)) {
      throw excelError(
        409,
        'itemAlreadyExists',
        `The resource being created already exists: a worksheet named '${name}'.`,
      );
    }
    const ws = book.addSheet(name);
    r.dirty = true;
    return json(201, worksheetJson(book, ws));
  }
  throw excelError(400, 'badRequestUncategorized', 'Unsupported worksheets request.');
}

function worksheetJson(book: Book, ws: ExcelJS.Worksheet): Record<string, unknown> {
  const visibility = ws.state === 'hidden' ? 'Hidden' : ws.state === 'veryHidden' ? 'VeryHidden' : 'Visible';
  return { id: book.sheetId(ws), name: ws.name, position: book.sheets().indexOf(ws), visibility };
}

async function worksheetMember(
  r: WorkbookRequest,
  ws: ExcelJS.Worksheet,
  rest: string[],
): Promise<SandboxResponse> {
  const { ctx, book } = r;
  if (rest.length === 0 && ctx.method === 'GET') return json(200, worksheetJson(book, ws));
  const [head = '', ...tail] = rest;
  const range = callArgs(head, 'range');
  if (range && tail.length === 0) {
    const address = range.address;
    if (address === undefined) {
      // `range` without an address: the whole sheet (worksheet-range.md).
      return rangeResponse(r, ws, { r1: 1, c1: 1, r2: MAX_ROW, c2: MAX_COL });
    }
    const area = parseArea(address);
    if (!area) throw invalidArgument(`'${address}' is not a valid A1 address.`);
    if (area.sheet !== undefined && area.sheet.toLowerCase() !== ws.name.toLowerCase()) {
      throw invalidArgument(`The address names another worksheet ('${area.sheet}').`);
    }
    if (ctx.method === 'PATCH') return await patchRange(r, ws, area);
    if (ctx.method === 'GET') return rangeResponse(r, ws, area);
  }
  const used = callArgs(head, 'usedRange');
  if (used && tail.length === 0 && ctx.method === 'GET') {
    const area = book.usedArea(ws) ?? { r1: 1, c1: 1, r2: 1, c2: 1 };
    return rangeResponse(r, ws, area);
  }
  const tables = keyed(rest, 'tables');
  if (tables) return await tableRoute(r, tables, ws);
  throw excelError(400, 'badRequestUncategorized', `Unsupported worksheet segment '${head}'.`);
}

// ---------------------------------------------------------------- ranges

/** Graph refuses ranges beyond a size it will serve (rangeExceedsLimit); the sandbox: 5 million cells. */
const MAX_CELLS = 5_000_000;

function checkCellCount(rows: number, cols: number): void {
  if (rows * cols > MAX_CELLS) {
    throw excelError(
      400,
      'rangeExceedsLimit',
      'The cell count in range has exceeded the maximum supported number.',
    );
  }
}

/** The rows/columns a whole-sheet or whole-column range actually serves: up to the used extent. */
function servedArea(book: Book, ws: ExcelJS.Worksheet, a: Area): Area {
  const used = book.usedArea(ws);
  const r2 = a.r2 === MAX_ROW ? Math.max(a.r1, used?.r2 ?? a.r1) : a.r2;
  const c2 = a.c2 === MAX_COL ? Math.max(a.c1, used?.c2 ?? a.c1) : a.c2;
  return { r1: a.r1, c1: a.c1, r2, c2 };
}

function valueType(v: Scalar): string {
  if (v === null || v === '') return 'Empty';
  if (isError(v)) return 'Error';
  if (typeof v === 'number') return 'Double';
  if (typeof v === 'boolean') return 'Boolean';
  return 'String';
}

function displayText(v: Scalar, format: string): string {
  if (v === null) return '';
  if (isError(v)) return v.error;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  const numfmt = require('numfmt') as { format(pattern: string, value: unknown): string };
  try {
    return numfmt.format(format || 'General', v);
  } catch {
    return String(v);
  }
}

/** workbookRange JSON (range.md): values calculated, text formatted, formulas as written. */
export function rangeJson(book: Book, ws: ExcelJS.Worksheet, requested: Area): Record<string, unknown> {
  const a = servedArea(book, ws, requested);
  const rows = a.r2 - a.r1 + 1;
  const cols = a.c2 - a.c1 + 1;
  checkCellCount(rows, cols);
  const values: unknown[][] = [];
  const text: string[][] = [];
  const formulas: unknown[][] = [];
  const numberFormat: string[][] = [];
  const valueTypes: string[][] = [];
  for (let r = a.r1; r <= a.r2; r++) {
    const vRow: unknown[] = [];
    const tRow: string[] = [];
    const fRow: unknown[] = [];
    const nRow: string[] = [];
    const typeRow: string[] = [];
    for (let c = a.c1; c <= a.c2; c++) {
      const stored = book.stored(ws, r, c);
      const v = book.value(ws.name, r, c);
      vRow.push(v === null ? '' : isError(v) ? v.error : v);
      tRow.push(displayText(v, stored.numberFormat));
      fRow.push(
        stored.formula !== undefined
          ? `=${stored.formula}`
          : stored.value === null
            ? ''
            : isError(stored.value)
              ? stored.value.error
              : stored.value,
      );
      nRow.push(stored.numberFormat);
      typeRow.push(valueType(v));
    }
    values.push(vRow);
    text.push(tRow);
    formulas.push(fRow);
    numberFormat.push(nRow);
    valueTypes.push(typeRow);
  }
  const address = formatArea(ws.name, a);
  return {
    address,
    addressLocal: address,
    cellCount: rows * cols,
    columnCount: cols,
    columnHidden: false,
    columnIndex: a.c1 - 1,
    formulas,
    formulasLocal: formulas,
    formulasR1C1: formulas,
    hidden: false,
    numberFormat,
    rowCount: rows,
    rowHidden: false,
    rowIndex: a.r1 - 1,
    text,
    values,
    valueTypes,
  };
}

function rangeResponse(r: WorkbookRequest, ws: ExcelJS.Worksheet, a: Area): SandboxResponse {
  return json(200, {
    '@odata.context': `${r.ctx.sandbox.graphBaseUrl}/$metadata#workbookRange`,
    ...rangeJson(r.book, ws, a),
  });
}

/** A 2-D array the size of the range (one value also fills the whole range, as in Excel). */
function grid(name: string, v: unknown, rows: number, cols: number): unknown[][] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) {
    if (typeof v === 'object' && v !== null)
      throw invalidArgument(`${name} must be a two-dimensional array.`);
    return Array.from({ length: rows }, () => Array.from({ length: cols }, () => v));
  }
  if (v.length !== rows || v.some((row) => !Array.isArray(row) || row.length !== cols)) {
    throw invalidArgument(
      `The number of rows or columns in ${name} does not match the size of the range (${rows} x ${cols}).`,
    );
  }
  for (const row of v as unknown[][]) {
    for (const cell of row) {
      if (cell !== null && !['string', 'number', 'boolean'].includes(typeof cell)) {
        throw invalidArgument(`${name} holds a value that is not a string, number, boolean or null.`);
      }
      if (typeof cell === 'number' && !Number.isFinite(cell))
        throw invalidArgument(`${name} holds a number Excel cannot store.`);
    }
  }
  return v as unknown[][];
}

async function patchRange(r: WorkbookRequest, ws: ExcelJS.Worksheet, a: Area): Promise<SandboxResponse> {
  const body = (await r.ctx.json<Record<string, unknown>>()) ?? {};
  const area = servedArea(r.book, ws, a);
  const rows = area.r2 - area.r1 + 1;
  const cols = area.c2 - area.c1 + 1;
  checkCellCount(rows, cols);
  const values = grid('values', body.values, rows, cols);
  const formulas = grid('formulas', body.formulas, rows, cols);
  const formats = grid('numberFormat', body.numberFormat, rows, cols);
  if (formats?.some((row) => row.some((f) => f !== null && typeof f !== 'string'))) {
    throw invalidArgument('numberFormat holds a value that is not a string (e.g. "0.00" or "yyyy-mm-dd").');
  }
  // Every formula is checked before any cell changes: a request is applied whole or not at all.
  for (const g of [values, formulas]) {
    for (const row of g ?? []) {
      for (const cell of row) {
        if (typeof cell === 'string' && cell.startsWith('=') && cell.length > 1 && !parses(cell.slice(1))) {
          throw invalidArgument(`'${cell}' is not a formula Excel can read.`);
        }
      }
    }
  }
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      if (formats) r.book.setNumberFormat(ws, area.r1 + i, area.c1 + j, formats[i]?.[j] as string | null);
      if (values) r.book.write(ws, area.r1 + i, area.c1 + j, values[i]?.[j], 'values');
      if (formulas) r.book.write(ws, area.r1 + i, area.c1 + j, formulas[i]?.[j], 'formulas');
    }
  }
  r.book.invalidate();
  r.dirty = true;
  return rangeResponse(r, ws, area);
}

// ---------------------------------------------------------------- tables

function tableJson(t: TableInfo): Record<string, unknown> {
  const style = t.model.style ?? {};
  return {
    id: t.id,
    name: t.name,
    legacyId: t.id,
    showHeaders: t.headerRow,
    showTotals: t.totalsRow,
    style: style.theme ?? 'TableStyleMedium2',
    highlightFirstColumn: style.showFirstColumn === true,
    highlightLastColumn: style.showLastColumn === true,
    showBandedRows: style.showRowStripes === true,
    showBandedColumns: style.showColumnStripes === true,
    showFilterButton: true,
  };
}

function rowValues(book: Book, t: TableInfo, row: number): unknown[] {
  const out: unknown[] = [];
  for (let c = t.area.c1; c <= t.area.c2; c++) {
    const v = book.value(t.sheet.name, row, c);
    out.push(v === null ? '' : isError(v) ? v.error : v);
  }
  return out;
}

async function tableRoute(
  r: WorkbookRequest,
  found: { key?: string; rest: string[] },
  ws: ExcelJS.Worksheet | undefined,
): Promise<SandboxResponse> {
  const { ctx, book } = r;
  if (found.key === undefined) {
    if (found.rest.length === 0 && ctx.method === 'GET') {
      return json(200, { value: book.tables(ws).map(tableJson) });
    }
    throw excelError(400, 'badRequestUncategorized', 'Adding tables is not supported by the sandbox.');
  }
  const t = book
    .tables(ws)
    .find((x) => x.id === found.key || x.name.toLowerCase() === found.key?.toLowerCase());
  if (!t) throw itemNotFound(`There is no table '${found.key}'.`);
  const [head = '', ...tail] = found.rest;
  const data = book.dataArea(t);
  if (found.rest.length === 0 && ctx.method === 'GET') return json(200, tableJson(t));
  if (head.toLowerCase() === 'rows') {
    if (tail.length === 0 && ctx.method === 'GET') {
      // $top and $skip page the rows (table-list-rows.md supports the OData paging options).
      const top = ctx.query.get('$top');
      const skip = ctx.query.get('$skip');
      const first = data.r1 + (skip !== null && /^\d+$/.test(skip) ? Number(skip) : 0);
      const last = top !== null && /^\d+$/.test(top) ? Math.min(data.r2, first + Number(top) - 1) : data.r2;
      const value = [];
      for (let row = first; row <= last; row++) {
        value.push({ index: row - data.r1, values: [rowValues(book, t, row)] });
      }
      return json(200, { value });
    }
    if (tail.length === 1 && tail[0]?.toLowerCase() === 'add' && ctx.method === 'POST') {
      return await addRows(r, t);
    }
    const at = tail.length === 1 ? callArgs(tail[0] ?? '', 'itemAt') : undefined;
    if (at && ctx.method === 'GET') {
      const index = Number(at.index);
      if (!Number.isInteger(index) || index < 0 || index > data.r2 - data.r1) {
        throw invalidArgument(`index ${at.index ?? ''} is outside the table's rows.`);
      }
      return json(200, { index, values: [rowValues(book, t, data.r1 + index)] });
    }
  }
  if (head.toLowerCase() === 'columns' && tail.length === 0 && ctx.method === 'GET') {
    const value = t.columns.map((name, i) => {
      const values: unknown[][] = [];
      for (let row = t.area.r1; row <= t.area.r2; row++) {
        const v = book.value(t.sheet.name, row, t.area.c1 + i);
        values.push([v === null ? '' : isError(v) ? v.error : v]);
      }
      return { id: String(i + 1), index: i, name, values };
    });
    return json(200, { value });
  }
  if (tail.length === 0 && ctx.method === 'GET') {
    const which = head.toLowerCase();
    if (which === 'range' || which === 'range()') return rangeResponse(r, t.sheet, t.area);
    if (which === 'databodyrange' || which === 'databodyrange()') return rangeResponse(r, t.sheet, data);
    if ((which === 'headerrowrange' || which === 'headerrowrange()') && t.headerRow) {
      return rangeResponse(r, t.sheet, { ...t.area, r2: t.area.r1 });
    }
  }
  throw excelError(400, 'badRequestUncategorized', `Unsupported table segment '${head}'.`);
}

/** POST rows/add (tablerowcollection-add.md): {index, values}; answers the first new row. */
async function addRows(r: WorkbookRequest, t: TableInfo): Promise<SandboxResponse> {
  const body = (await r.ctx.json<Record<string, unknown>>()) ?? {};
  const data = r.book.dataArea(t);
  const count = data.r2 - data.r1 + 1;
  const index = body.index;
  if (
    index !== undefined &&
    index !== null &&
    (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > count)
  ) {
    throw invalidArgument(`index must be an integer from 0 to ${count} (the table has ${count} rows).`);
  }
  const values = body.values;
  if (!Array.isArray(values) || values.length === 0)
    throw invalidArgument('values must be a non-empty array of rows.');
  const rows = grid('values', values, values.length, t.columns.length) ?? [];
  for (const row of rows) {
    for (const cell of row) {
      if (typeof cell === 'string' && cell.startsWith('=') && cell.length > 1 && !parses(cell.slice(1))) {
        throw invalidArgument(`'${cell}' is not a formula Excel can read.`);
      }
    }
  }
  const at = r.book.insertTableRows(t, typeof index === 'number' ? index : undefined, rows);
  r.dirty = true;
  const start = r.book.dataArea(t).r1 + at;
  return json(201, {
    '@odata.context': `${r.ctx.sandbox.graphBaseUrl}/$metadata#workbookTableRow`,
    index: at,
    values: rows.map((_, i) => rowValues(r.book, t, start + i)),
  });
}

// ---------------------------------------------------------------- install

/**
 * Control routes: PUT /_sandbox/excel/hold {user, itemId, held} (requests wait; the answer counts
 * those waiting), PUT /_sandbox/excel/locks {user, itemId, locked} (another client holds the
 * workbook for editing), GET/PUT /_sandbox/excel/settings, GET /_sandbox/excel/sessions,
 * POST /_sandbox/excel/sessions/expire.
 */
export function installExcel(sandbox: Sandbox): void {
  const state = excelState(sandbox);
  const c = sandbox.control;
  c.on('PUT', '/excel/locks', async (ctx) => {
    const body = await ctx.json<{ user?: string; itemId?: string; locked?: boolean }>();
    const user = body.user ? sandbox.directory.findUser(body.user) : undefined;
    if (!user || !body.itemId) return json(400, { error: 'user and itemId are required' });
    const key = contentKey(user.id, body.itemId);
    if (body.locked === false) state.locks.delete(key);
    else state.locks.add(key);
    return json(200, { locked: state.locks.has(key) });
  });
  c.on('GET', '/excel/settings', () => json(200, state.settings));
  // A workbook busy elsewhere, deterministically: its requests wait (and count toward the
  // throttling limit) until released.
  c.on('PUT', '/excel/hold', async (ctx) => {
    const body = await ctx.json<{ user?: string; itemId?: string; held?: boolean }>();
    const user = body.user ? sandbox.directory.findUser(body.user) : undefined;
    if (!user || !body.itemId) return json(400, { error: 'user and itemId are required' });
    const key = contentKey(user.id, body.itemId);
    const hold = state.holds.get(key);
    if (body.held === false) {
      hold?.release();
      state.holds.delete(key);
    } else if (!hold) {
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      state.holds.set(key, { released, release });
    }
    return json(200, { held: state.holds.has(key), pending: state.pending.get(key) ?? 0 });
  });
  c.on('PUT', '/excel/settings', async (ctx) => {
    const body = await ctx.json<Record<string, unknown>>();
    const keys = [
      'persistentIdleMinutes',
      'nonPersistentIdleMinutes',
      'operationPollsBeforeDone',
      'maxQueuedPerWorkbook',
      'throttleRetryAfterSeconds',
    ] as const;
    for (const k of keys) {
      if (typeof body[k] === 'number' && body[k] >= 0) state.settings[k] = body[k];
    }
    return json(200, state.settings);
  });
  c.on('GET', '/excel/sessions', () =>
    json(200, {
      value: [...state.sessions.values()].map((s) => ({
        id: s.id,
        userId: s.userId,
        persistChanges: s.persist,
      })),
    }),
  );
  c.on('POST', '/excel/sessions/expire', () => {
    const count = state.sessions.size;
    state.sessions.clear();
    return json(200, { expired: count });
  });
}

export { cellName };
