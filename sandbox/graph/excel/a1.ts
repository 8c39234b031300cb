/**
 * A1 notation (https://learn.microsoft.com/graph/api/worksheet-range: `range(address='A1:B2')`,
 * a sheet-qualified `Sheet1!A1:B2`, quoted `'My sheet'!A1`, whole columns `A:C` and rows `2:5`).
 * Rows and columns are 1-based here, as in exceljs; Graph's rowIndex/columnIndex are 0-based.
 */

/** Excel's grid: 1,048,576 rows by 16,384 columns (XFD). */
export const MAX_ROW = 1_048_576;
export const MAX_COL = 16_384;

export interface Area {
  /** The sheet named in the address, when it named one. */
  sheet?: string;
  r1: number;
  c1: number;
  r2: number;
  c2: number;
}

export function columnName(col: number): string {
  let name = '';
  for (let n = col; n > 0; n = Math.floor((n - 1) / 26))
    name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

export function columnNumber(letters: string): number {
  let n = 0;
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n;
}

/** `Sheet1`, or `'Q3 Budget'` when the name needs quotes (a quote inside is doubled). */
export function sheetRef(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) && !/^[A-Za-z]{1,3}\d+$/.test(name)
    ? name
    : `'${name.replace(/'/g, "''")}'`;
}

export function cellName(row: number, col: number): string {
  return `${columnName(col)}${row}`;
}

/** `Sheet1!A1:C3` (`Sheet1!A1` for one cell), as Graph writes a range's address. */
export function formatArea(sheet: string, a: Area): string {
  const start = cellName(a.r1, a.c1);
  const end = cellName(a.r2, a.c2);
  return `${sheetRef(sheet)}!${start === end ? start : `${start}:${end}`}`;
}

const CELL = /^\$?([A-Za-z]{1,3})\$?(\d{1,7})$/;
const COL = /^\$?([A-Za-z]{1,3})$/;
const ROW = /^\$?(\d{1,7})$/;

function cell(text: string): { row: number; col: number } | undefined {
  const m = CELL.exec(text);
  if (!m) return undefined;
  const col = columnNumber(m[1] ?? '');
  const row = Number(m[2]);
  if (row < 1 || row > MAX_ROW || col < 1 || col > MAX_COL) return undefined;
  return { row, col };
}

/** Splits `Sheet!A1:B2` into the sheet (unquoted) and the rest. */
function splitSheet(address: string): { sheet?: string; rest: string } {
  const quoted = /^'((?:[^']|'')+)'!(.*)$/.exec(address);
  if (quoted) return { sheet: (quoted[1] ?? '').replace(/''/g, "'"), rest: quoted[2] ?? '' };
  const bang = address.lastIndexOf('!');
  if (bang > 0) return { sheet: address.slice(0, bang), rest: address.slice(bang + 1) };
  return { rest: address };
}

/** Parses an A1 address; undefined when it is not one (the caller answers InvalidArgument). */
export function parseArea(address: string): Area | undefined {
  const { sheet, rest } = splitSheet(address.trim());
  const parts = rest.split(':');
  if (parts.length > 2 || parts.some((p) => p === '')) return undefined;
  const [first = '', second = first] = parts;
  const a = cell(first);
  const b = cell(second);
  let area: Area | undefined;
  if (a && b) area = { r1: a.row, c1: a.col, r2: b.row, c2: b.col };
  else if (parts.length === 2 && COL.test(first) && COL.test(second)) {
    area = {
      r1: 1,
      c1: columnNumber(first.replace('$', '')),
      r2: MAX_ROW,
      c2: columnNumber(second.replace('$', '')),
    };
  } else if (parts.length === 2 && ROW.test(first) && ROW.test(second)) {
    area = { r1: Number(first.replace('$', '')), c1: 1, r2: Number(second.replace('$', '')), c2: MAX_COL };
  }
  if (!area) return undefined;
  const normal: Area = {
    r1: Math.min(area.r1, area.r2),
    c1: Math.min(area.c1, area.c2),
    r2: Math.max(area.r1, area.r2),
    c2: Math.max(area.c1, area.c2),
  };
  if (normal.r1 < 1 || normal.c1 < 1 || normal.r2 > MAX_ROW || normal.c2 > MAX_COL) return undefined;
  return sheet !== undefined ? { sheet, ...normal } : normal;
}
