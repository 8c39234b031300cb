/**
 * A workbook as the Excel service sees it: the drive item's .xlsx bytes read and written with
 * exceljs (so a file uploaded through OneDrive and one edited through the workbook API are the
 * same bytes), cells calculated with formula.ts, tables grown the way Excel grows them.
 */
import type ExcelJS from 'exceljs';
import { MAX_COL, cellName, columnName, parseArea, type Area } from './a1';
import {
  evaluate,
  isError,
  parses,
  shiftReferences,
  type FormulaEnv,
  type Scalar,
  type SheetArea,
} from './formula';

/** Excel's day 0 (serial dates count days from 1899-12-30, the 1900 leap-year bug included). */
const EPOCH = Date.UTC(1899, 11, 30);
const DAY = 86_400_000;

export function dateSerial(d: Date): number {
  return (d.getTime() - EPOCH) / DAY;
}

/** A cell as stored: empty, a constant, or a formula (without "=") with its constant result. */
export interface Stored {
  formula?: string;
  value: Scalar;
  numberFormat: string;
}

export interface TableInfo {
  /** Graph's table id (the position in the workbook, 1-based, as a string). */
  id: string;
  name: string;
  sheet: ExcelJS.Worksheet;
  area: Area;
  headerRow: boolean;
  totalsRow: boolean;
  columns: string[];
  model: TableModel;
}

/** The parts of exceljs's table model the sandbox reads and changes. */
interface TableModel {
  name: string;
  displayName?: string;
  tableRef: string;
  ref?: string;
  autoFilterRef?: string;
  headerRow?: boolean;
  totalsRow?: boolean;
  columns: Array<{ name: string }>;
  style?: {
    theme?: string;
    showFirstColumn?: boolean;
    showLastColumn?: boolean;
    showRowStripes?: boolean;
    showColumnStripes?: boolean;
  };
}

class CircularReference extends Error {
  constructor(readonly key: string) {
    super('circular reference');
  }
}

const RESERVED_SHEET_CHARS = /[\\/?*[\]:]/;

export class Book {
  private calc = new Map<string, Scalar>();
  private computing = new Set<string>();

  constructor(readonly wb: ExcelJS.Workbook) {}

  /** Reads .xlsx bytes; undefined when they are no workbook exceljs can open. */
  static async load(bytes: Buffer): Promise<Book | undefined> {
    const ExcelJS = require('exceljs') as typeof import('exceljs');
    const wb = new ExcelJS.Workbook();
    try {
      await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    } catch {
      return undefined;
    }
    const book = new Book(wb);
    book.unshareFormulas();
    return book;
  }

  /** The bytes to store: every formula's cached result brought up to date first. */
  async save(): Promise<Buffer> {
    this.invalidate();
    for (const ws of this.sheets()) {
      ws.eachRow({ includeEmpty: false }, (row, r) => {
        row.eachCell({ includeEmpty: false }, (cell, c) => {
          if (!isFormula(cell)) return;
          const result = this.value(ws.name, r, c);
          cell.value = {
            formula: cell.formula,
            result: isError(result) ? { error: result.error } : (result ?? undefined),
          };
        });
      });
    }
    return Buffer.from(await this.wb.xlsx.writeBuffer());
  }

  /** Shared formulas become plain ones, so a cell can be moved or rewritten on its own. */
  private unshareFormulas(): void {
    for (const ws of this.sheets()) {
      ws.eachRow({ includeEmpty: false }, (row) => {
        row.eachCell({ includeEmpty: false }, (cell) => {
          const v = cell.value as { sharedFormula?: string; result?: unknown } | null;
          if (isFormula(cell) && v && typeof v === 'object' && 'sharedFormula' in v) {
            cell.value = { formula: cell.formula, result: v.result } as ExcelJS.CellFormulaValue;
          }
        });
      });
    }
  }

  invalidate(): void {
    this.calc.clear();
  }

  // ------------------------------------------------------------ sheets

  sheets(): ExcelJS.Worksheet[] {
    // exceljs keeps the tab order in `orderNo` (not in its typings).
    const order = (ws: ExcelJS.Worksheet) => (ws as unknown as { orderNo?: number }).orderNo ?? ws.id;
    return [...this.wb.worksheets].sort((a, b) => order(a) - order(b));
  }

  /** Graph's worksheet id: a braced GUID-like string (e.g. `{00000000-0001-0000-0000-000000000000}`). */
  sheetId(ws: ExcelJS.Worksheet): string {
    return `{00000000-${ws.id.toString(16).toUpperCase().padStart(4, '0')}-0000-0000-000000000000}`;
  }

  /** A sheet by id or name (names compare case-insensitively, as in Excel). */
  sheet(key: string): ExcelJS.Worksheet | undefined {
    const k = key.toLowerCase();
    return this.sheets().find((ws) => this.sheetId(ws).toLowerCase() === k || ws.name.toLowerCase() === k);
  }

  /** Why a sheet name is not allowed, or undefined. */
  static invalidSheetName(name: string): string | undefined {
    if (name.trim() === '' || name.length > 31) return 'A worksheet name has 1 to 31 characters.';
    if (RESERVED_SHEET_CHARS.test(name)) return 'A worksheet name cannot contain \\ / ? * [ ] or :.';
    if (name.startsWith("'") || name.endsWith("'"))
      return 'A worksheet name cannot begin or end with an apostrophe.';
    return undefined;
  }

  addSheet(name: string): ExcelJS.Worksheet {
    return this.wb.addWorksheet(name);
  }

  // ------------------------------------------------------------ cells

  stored(ws: ExcelJS.Worksheet, row: number, col: number): Stored {
    const cell = ws.findCell(row, col);
    const numberFormat = cell?.numFmt || 'General';
    if (!cell || (cell.isMerged && cell.master !== cell)) return { value: null, numberFormat };
    const v = cell.value as unknown;
    if (isFormula(cell)) {
      return { formula: cell.formula, value: constant((v as { result?: unknown }).result), numberFormat };
    }
    return { value: constant(v), numberFormat };
  }

  /** A cell's calculated value (formulas evaluated against the current cells). */
  value(sheetName: string, row: number, col: number): Scalar {
    const key = `${sheetName.toLowerCase()}!${row},${col}`;
    const cached = this.calc.get(key);
    if (cached !== undefined) return cached;
    const ws = this.sheet(sheetName);
    if (!ws) return { error: '#REF!' };
    const stored = this.stored(ws, row, col);
    if (stored.formula === undefined) return stored.value;
    // A circular reference: the cell that started the cycle reads 0, as Excel shows it.
    if (this.computing.has(key)) throw new CircularReference(key);
    this.computing.add(key);
    let result: Scalar;
    try {
      result = evaluate(stored.formula, this.envFor(ws.name));
    } catch (e) {
      if (!(e instanceof CircularReference) || e.key !== key) throw e;
      result = 0;
    } finally {
      this.computing.delete(key);
    }
    this.calc.set(key, result);
    return result;
  }

  private envFor(sheet: string): FormulaEnv {
    return {
      sheet,
      value: (s, r, c) => this.value(s, r, c),
      hasSheet: (name) => this.sheet(name) !== undefined,
      tableArea: (name, column) => this.tableArea(name, column),
      extent: (name) => {
        const ws = this.sheet(name);
        return ws ? { rows: ws.rowCount, cols: ws.columnCount } : { rows: 0, cols: 0 };
      },
    };
  }

  /**
   * Writes one cell as Graph's range PATCH does: null leaves it, "" clears it, a string starting
   * with "=" is a formula, text that reads as a number is a number, `YYYY-MM-DD` a date.
   */
  write(ws: ExcelJS.Worksheet, row: number, col: number, input: unknown, as: 'values' | 'formulas'): void {
    if (input === null || input === undefined) return;
    const cell = ws.getCell(row, col);
    if (typeof input === 'string' && input.startsWith('=') && input.length > 1) {
      cell.value = { formula: input.slice(1) };
    } else if (typeof input === 'string') {
      const trimmed = input.trim();
      const n = Number(trimmed);
      if (input === '') cell.value = null;
      else if (as === 'values' && cell.numFmt !== '@' && trimmed !== '' && Number.isFinite(n)) cell.value = n;
      else if (
        as === 'values' &&
        cell.numFmt !== '@' &&
        /^\d{4}-\d{2}-\d{2}$/.test(trimmed) &&
        !Number.isNaN(Date.parse(`${trimmed}T00:00:00Z`))
      ) {
        cell.value = new Date(`${trimmed}T00:00:00Z`);
        if (!cell.numFmt || cell.numFmt === 'General') cell.numFmt = 'yyyy-mm-dd';
      } else cell.value = input;
    } else {
      cell.value = input as number | boolean;
    }
    this.invalidate();
  }

  setNumberFormat(ws: ExcelJS.Worksheet, row: number, col: number, format: string | null | undefined): void {
    if (format === null || format === undefined) return;
    ws.getCell(row, col).numFmt = format;
  }

  /** The bounding box of non-empty cells; undefined for an empty sheet. */
  usedArea(ws: ExcelJS.Worksheet): Area | undefined {
    let area: Area | undefined;
    ws.eachRow({ includeEmpty: false }, (row, r) => {
      row.eachCell({ includeEmpty: false }, (cell, c) => {
        if (cell.value === null || cell.value === undefined || cell.value === '') return;
        area = area
          ? {
              r1: Math.min(area.r1, r),
              c1: Math.min(area.c1, c),
              r2: Math.max(area.r2, r),
              c2: Math.max(area.c2, c),
            }
          : { r1: r, c1: c, r2: r, c2: c };
      });
    });
    return area;
  }

  // ------------------------------------------------------------ tables

  tables(ws?: ExcelJS.Worksheet): TableInfo[] {
    const out: TableInfo[] = [];
    let n = 0;
    for (const sheet of this.sheets()) {
      const tables = (sheet as unknown as { tables: Record<string, { table: TableModel }> }).tables ?? {};
      for (const t of Object.values(tables)) {
        n++;
        const model = t.table;
        const area = parseArea(model.tableRef ?? model.ref ?? '');
        if (!area) continue;
        if (ws && sheet !== ws) continue;
        out.push({
          id: String(n),
          name: model.name,
          sheet,
          area,
          headerRow: model.headerRow !== false,
          totalsRow: model.totalsRow === true,
          columns: model.columns.map((c) => c.name),
          model,
        });
      }
    }
    return out;
  }

  table(key: string): TableInfo | undefined {
    const k = key.toLowerCase();
    return this.tables().find((t) => t.id === key || t.name.toLowerCase() === k);
  }

  /** The data rows of a table (or one column of it): what `Table[Column]` refers to. */
  dataArea(t: TableInfo): Area {
    return { ...t.area, r1: t.area.r1 + (t.headerRow ? 1 : 0), r2: t.area.r2 - (t.totalsRow ? 1 : 0) };
  }

  tableArea(name: string, column?: string): SheetArea | undefined {
    const t = this.table(name);
    if (!t) return undefined;
    const data = this.dataArea(t);
    if (column === undefined) return { ...data, sheet: t.sheet.name };
    const i = t.columns.findIndex((c) => c.toLowerCase() === column.toLowerCase());
    if (i < 0) return undefined;
    return { ...data, c1: t.area.c1 + i, c2: t.area.c1 + i, sheet: t.sheet.name };
  }

  /**
   * Inserts data rows at `index` (0-based among the data rows; the end when undefined): cells
   * below in the table's columns move down, references to them follow (formula.ts
   * shiftReferences), and the new rows take the number formats of the row above.
   */
  insertTableRows(t: TableInfo, index: number | undefined, rows: unknown[][]): number {
    const data = this.dataArea(t);
    const count = data.r2 - data.r1 + 1;
    const at = data.r1 + (index ?? count);
    const n = rows.length;
    const ws = t.sheet;
    const { c1, c2 } = t.area;
    for (let r = ws.rowCount; r >= at; r--) {
      for (let c = c1; c <= c2; c++) {
        const from = ws.findCell(r, c);
        if (!from) continue;
        const to = ws.getCell(r + n, c);
        to.value = from.value;
        to.style = { ...from.style };
        from.value = null;
      }
    }
    const insert = { sheet: ws.name, atRow: at, count: n, c1, c2 };
    for (const sheet of this.sheets()) {
      sheet.eachRow({ includeEmpty: false }, (row) => {
        row.eachCell({ includeEmpty: false }, (cell) => {
          if (!isFormula(cell)) return;
          const moved = shiftReferences(cell.formula, sheet.name, insert);
          if (moved !== cell.formula) cell.value = { formula: moved };
        });
      });
    }
    t.area = { ...t.area, r2: t.area.r2 + n };
    const ref = `${cellName(t.area.r1, t.area.c1)}:${cellName(t.area.r2, t.area.c2)}`;
    t.model.tableRef = ref;
    if (t.model.ref !== undefined) t.model.ref = ref;
    if (t.model.autoFilterRef !== undefined) t.model.autoFilterRef = ref;
    const template = at - 1 >= data.r1 ? at - 1 : at + n <= t.area.r2 ? at + n : undefined;
    rows.forEach((values, i) => {
      values.forEach((v, j) => {
        const cell = ws.getCell(at + i, c1 + j);
        if (template !== undefined) cell.style = { ...ws.getCell(template, c1 + j).style };
        else cell.style = {};
        cell.value = null;
        this.write(ws, at + i, c1 + j, v ?? '', 'values');
      });
    });
    this.invalidate();
    return at - data.r1;
  }
}

/** exceljs's ValueType.Formula (the enum is not loaded until exceljs is: only its type is imported). */
const FORMULA = 6;

function isFormula(cell: ExcelJS.Cell): boolean {
  return (cell.type as number) === FORMULA;
}

/** exceljs's stored value as a Graph scalar (dates as serial numbers, rich text flattened). */
function constant(v: unknown): Scalar {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return dateSerial(v);
  if (typeof v === 'object') {
    const o = v as { richText?: Array<{ text: string }>; text?: string; error?: string };
    if (o.richText) return o.richText.map((p) => p.text).join('');
    if (typeof o.error === 'string') return { error: o.error as never };
    if (typeof o.text === 'string') return o.text;
  }
  return null;
}

export { MAX_COL, columnName, parses };
