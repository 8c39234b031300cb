/**
 * Excel actions (https://learn.microsoft.com/graph/api/resources/excel): worksheets, ranges and
 * tables of an .xlsx in OneDrive or a SharePoint library, addressed by path, item id or sharing
 * link. Values come back as a model reads them: rows as objects keyed by the header row, dates as
 * ISO dates, empty cells null. Consent: the files feature (Files.ReadWrite.All); work accounts
 * only (the workbook API is not offered for personal accounts).
 *
 * Shared parts (addresses, sessions, $batch, errors): workbook.ts.
 */
import { z } from 'zod';
import { defineAction } from '../../actions/registry';
import type { GraphError } from '../../graph/errors';
import { Problem } from '../../http/problem';
import {
  SCOPES,
  a1Address,
  cellOf,
  columnLetters,
  checkFile,
  excelProblem,
  fileFields,
  headerNames,
  withSession,
  parseA1,
  rangePath,
  rowObject,
  sheetName,
  sheetOf,
  sheetPath,
  splitAddress,
  tableName,
  tablePath,
  workbookUrl,
  type Cell,
  type FileInput,
  type WorkbookCall,
} from './workbook';

type Json = Record<string, unknown>;

/** Adds the file refinements to an input object. */
function withFile<T extends z.ZodRawShape>(shape: T) {
  return z
    .object({ ...fileFields, ...shape })
    .strict()
    .superRefine((v, c) =>
      checkFile(v as FileInput, (message, path) => c.addIssue({ code: 'custom', message, path: [path] })),
    );
}

const mapError =
  (names: (input: Json) => { sheet?: string; table?: string }) =>
  (err: GraphError, input: unknown): Problem | undefined =>
    excelProblem(err, names(input as Json));
const byName = (input: Json) => ({
  ...(typeof input.sheet === 'string' ? { sheet: input.sheet } : {}),
  ...(typeof input.table === 'string' ? { table: input.table } : {}),
});

const CellOut = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const RowOut = z.record(z.string(), CellOut);
const WorksheetOut = z.object({
  id: z.string(),
  name: z.string(),
  position: z.number(),
  visible: z.boolean(),
});
const TableOut = z.object({
  id: z.string(),
  name: z.string(),
  showHeaders: z.boolean(),
  showTotals: z.boolean(),
});

const toWorksheet = (w: Json) => ({
  id: String(w.id),
  name: String(w.name),
  position: Number(w.position),
  visible: w.visibility === 'Visible',
});
const toTable = (t: Json) => ({
  id: String(t.id),
  name: String(t.name),
  showHeaders: t.showHeaders !== false,
  showTotals: t.showTotals === true,
});

/** Cells a read returns at most: a model reads a table in pages, not a whole sheet at once. */
const MAX_READ_CELLS = 20_000;

// ---------------------------------------------------------------- worksheets

// https://learn.microsoft.com/graph/api/workbook-list-worksheets
defineAction({
  id: 'excel.listWorksheets',
  service: 'excel',
  summary: 'List the worksheets of an Excel workbook',
  description:
    'Lists the worksheets (tabs) of an .xlsx file in OneDrive or SharePoint, given by path, itemId or a sharing link: {id, name, position, visible}. Use a name with excel.readRange or excel.updateRange.',
  input: withFile({}),
  output: z.object({ items: z.array(WorksheetOut) }),
  feature: 'files',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const res = await ctx.graph<{ value?: Json[] }>({ method: 'GET', url: `${wb}/worksheets` });
    return { items: (res.body.value ?? []).map(toWorksheet) };
  },
  mapError: mapError(byName),
});

// https://learn.microsoft.com/graph/api/worksheetcollection-add
defineAction({
  id: 'excel.addWorksheet',
  service: 'excel',
  summary: 'Add a worksheet to an Excel workbook',
  description:
    'Adds a worksheet (tab) with the given name at the end of the workbook. A name already in use (case-insensitive) is a 409 conflict. Returns the new worksheet.',
  input: withFile({ name: sheetName }),
  output: WorksheetOut,
  feature: 'files',
  scopes: SCOPES,
  kind: 'write',
  idempotent: false,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const res = await ctx.graph<Json>({
      method: 'POST',
      url: `${wb}/worksheets/add`,
      body: { name: input.name },
    });
    return toWorksheet(res.body);
  },
  mapError: mapError(byName),
});

// ---------------------------------------------------------------- ranges

const ReadRangeOut = z.object({
  sheet: z.string(),
  address: z.string(),
  columns: z.array(z.string()).optional(),
  rows: z.array(RowOut).optional(),
  values: z.array(z.array(CellOut)).optional(),
  truncated: z.boolean(),
});

interface RangeBody {
  address?: string;
  values?: unknown[][];
  numberFormat?: unknown[][];
  columnIndex?: number;
}

/** A range answer as rows of objects (first row = header) or as a grid. */
function rangeOut(body: RangeBody, headers: boolean, limitRows?: number) {
  const values = body.values ?? [];
  const formats = body.numberFormat ?? [];
  const address = String(body.address ?? '');
  const sheet = sheetOf(address);
  const cap = limitRows ?? values.length;
  if (!headers) {
    return {
      sheet,
      address,
      values: values.slice(0, cap).map((row, i) => row.map((v, j) => cellOf(v, formats[i]?.[j]))),
      truncated: values.length > cap,
    };
  }
  const names = headerNames(values[0] ?? [], (body.columnIndex ?? 0) + 1);
  const data = values.slice(1, cap);
  return {
    sheet,
    address,
    columns: names,
    rows: data.map((row, i) => rowObject(names, row, formats[i + 1])),
    truncated: values.length > cap,
  };
}

// https://learn.microsoft.com/graph/api/worksheet-range, worksheet-usedrange, table-range
defineAction({
  id: 'excel.readRange',
  service: 'excel',
  summary: 'Read cells of a worksheet or a table',
  description:
    'Reads a range of cells, calculated as Excel shows them: an A1 address on a sheet ("A1:D20"), the used part of a sheet (sheet alone), or a whole table (table). With headers (default true) the first row names the columns and the rows come back as objects ({"Item": "Taxi", "Amount": 12.5}); with headers=false as a grid of values. Dates come back as ISO dates, empty cells as null, formula errors as their text ("#DIV/0!"). At most 20,000 cells: a larger used range is cut (truncated=true); read it by address in parts.',
  input: withFile({
    sheet: sheetName.optional(),
    address: a1Address.optional(),
    table: tableName.optional(),
    headers: z.boolean().optional().describe('The first row holds column names (default true).'),
  }).superRefine((v, c) => {
    if (v.table !== undefined && (v.sheet !== undefined || v.address !== undefined)) {
      c.addIssue({
        code: 'custom',
        message: 'Give a table, or a sheet (with an optional address), not both.',
        path: ['table'],
      });
    }
    if (v.table === undefined && v.sheet === undefined) {
      c.addIssue({ code: 'custom', message: 'Give a sheet (and an address) or a table.', path: ['sheet'] });
    }
    const area = v.address ? parseA1(v.address) : undefined;
    if (area && (area.r2 - area.r1 + 1) * (area.c2 - area.c1 + 1) > MAX_READ_CELLS) {
      c.addIssue({
        code: 'custom',
        message: `At most ${MAX_READ_CELLS} cells per read; ask for a smaller range.`,
        path: ['address'],
      });
    }
  }),
  output: ReadRangeOut,
  feature: 'files',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const url = input.table
      ? `${wb}${tablePath(input.table)}/range`
      : input.address
        ? `${wb}${rangePath(input.sheet ?? '', input.address)}`
        : `${wb}${sheetPath(input.sheet ?? '')}/usedRange(valuesOnly=true)`;
    const res = await ctx.graph<RangeBody>({
      method: 'GET',
      url,
      query: { $select: 'address,values,numberFormat,columnIndex,columnCount' },
    });
    const columns = Math.max(1, res.body.values?.[0]?.length ?? 1);
    return rangeOut(res.body, input.headers !== false, Math.floor(MAX_READ_CELLS / columns));
  },
  mapError: mapError(byName),
});

const CellIn = z.union([z.string().max(32_767), z.number(), z.boolean(), z.null()]);

// https://learn.microsoft.com/graph/api/range-update
defineAction({
  id: 'excel.updateRange',
  service: 'excel',
  summary: 'Write cells of a worksheet',
  description:
    'Writes values into an A1 range of a worksheet: values is a grid exactly the size of the address (rows × columns). A string starting with "=" is a formula ("=SUM(C2:C9)"); null leaves a cell as it is; "" empties it; numbers and ISO dates ("2026-12-01") are stored as numbers and dates. Optional numberFormat, a grid of the same size ("0.00", "yyyy-mm-dd", null to keep). Returns the range as calculated afterwards (formulas evaluated).',
  input: withFile({
    sheet: sheetName,
    address: a1Address,
    values: z
      .array(z.array(CellIn).min(1).max(500))
      .min(1)
      .max(5000)
      .describe('Rows of cell values, the size of the address.'),
    numberFormat: z
      .array(z.array(z.union([z.string().max(255), z.null()])))
      .optional()
      .describe('Number formats, the same size as values (null keeps a cell’s format).'),
  }).superRefine((v, c) => {
    const area = parseA1(v.address);
    if (!area) return;
    const rows = area.r2 - area.r1 + 1;
    const cols = area.c2 - area.c1 + 1;
    const fits = (grid: unknown[][]) => grid.length === rows && grid.every((r) => r.length === cols);
    if (!fits(v.values)) {
      c.addIssue({
        code: 'custom',
        message: `values must be ${rows} row(s) of ${cols} value(s), the size of ${v.address}.`,
        path: ['values'],
      });
    }
    if (v.numberFormat && !fits(v.numberFormat)) {
      c.addIssue({
        code: 'custom',
        message: `numberFormat must be ${rows} row(s) of ${cols}, like values.`,
        path: ['numberFormat'],
      });
    }
  }),
  output: ReadRangeOut,
  feature: 'files',
  scopes: SCOPES,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const res = await ctx.graph<RangeBody>({
      method: 'PATCH',
      url: `${wb}${rangePath(input.sheet, input.address)}`,
      body: { values: input.values, ...(input.numberFormat ? { numberFormat: input.numberFormat } : {}) },
    });
    return rangeOut(res.body, false);
  },
  mapError: mapError(byName),
});

// ---------------------------------------------------------------- tables

// https://learn.microsoft.com/graph/api/workbook-list-tables, worksheet-list-tables
defineAction({
  id: 'excel.listTables',
  service: 'excel',
  summary: 'List the tables of an Excel workbook',
  description:
    'Lists the tables (formatted data ranges with a header row) of a workbook, or of one worksheet: {id, name, showHeaders, showTotals}. Read one with excel.readTable; add rows with excel.addTableRows.',
  input: withFile({ sheet: sheetName.optional() }),
  output: z.object({ items: z.array(TableOut) }),
  feature: 'files',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const url = input.sheet ? `${wb}${sheetPath(input.sheet)}/tables` : `${wb}/tables`;
    const res = await ctx.graph<{ value?: Json[] }>({ method: 'GET', url });
    return { items: (res.body.value ?? []).map(toTable) };
  },
  mapError: mapError(byName),
});

const ReadTableOut = z.object({
  table: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.object({ index: z.number(), values: RowOut })),
  nextSkip: z.number().optional(),
});

/** The header names of a table, from its columns (names exist with or without a header row). */
const columnNames = (body: unknown) =>
  ((body as { value?: Json[] }).value ?? [])
    .sort((a, b) => Number(a.index) - Number(b.index))
    .map((c) => String(c.name));

/**
 * A table's column names and place in its sheet (one $batch): where its data rows start and how
 * many there are (a header row and a totals row are not data).
 */
async function tableLayout(run: (calls: WorkbookCall[]) => Promise<unknown[]>, t: string) {
  const [columns, tableRange, table] = await run([
    { method: 'GET', path: `${t}/columns?$select=name,index` },
    { method: 'GET', path: `${t}/range?$select=address` },
    { method: 'GET', path: t },
  ]);
  const { sheet, area } = splitAddress(String((tableRange as RangeBody).address ?? ''));
  const info = table as Json;
  const dataStart = area.r1 + (info.showHeaders === false ? 0 : 1);
  const count = area.r2 - (info.showTotals === true ? 1 : 0) - dataStart + 1;
  return { names: columnNames(columns), sheet, area, dataStart, count };
}

// https://learn.microsoft.com/graph/api/table-list-rows, table-list-columns
defineAction({
  id: 'excel.readTable',
  service: 'excel',
  summary: 'Read the rows of an Excel table as objects',
  description:
    'Reads a table’s rows as objects keyed by its column names ({"index": 0, "values": {"Date": "2026-11-02", "Item": "Taxi", "Amount": 12.5}}), calculated. Pages with top (default 200, at most 1000) and skip; nextSkip is there when more rows follow.',
  input: withFile({
    table: tableName,
    top: z.number().int().min(1).max(1000).optional().describe('Rows per page (default 200).'),
    skip: z
      .number()
      .int()
      .min(0)
      .max(1_048_576)
      .optional()
      .describe('Rows to skip (nextSkip of the previous page).'),
  }),
  output: ReadTableOut,
  feature: 'files',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const top = input.top ?? 200;
    const skip = input.skip ?? 0;
    const t = tablePath(input.table);
    return await withSession(ctx, wb, false, async (run) => {
      // The table's names and place first; then its page of rows as a range, whose number
      // formats tell dates from numbers (the rows list has values only).
      const layout = await tableLayout(run, t);
      const { names, sheet, area } = layout;
      const first = layout.dataStart + skip;
      const last = layout.dataStart + layout.count - 1;
      // One row more than asked tells whether a next page exists.
      const end = Math.min(last, first + top);
      if (first > last) return { table: input.table, columns: names, rows: [] };
      const address = `${columnLetters(area.c1)}${first}:${columnLetters(area.c2)}${end}`;
      const [page] = await run([
        { method: 'GET', path: `${rangePath(sheet, address)}?$select=values,numberFormat` },
      ]);
      const body = page as RangeBody;
      const rows = (body.values ?? []).map((row, i) => ({
        index: skip + i,
        values: rowObject(names, row, body.numberFormat?.[i]),
      }));
      return {
        table: input.table,
        columns: names,
        rows: rows.slice(0, top),
        ...(rows.length > top ? { nextSkip: skip + top } : {}),
      };
    });
  },
  mapError: mapError(byName),
});

const RowIn = z.union([z.record(z.string().min(1).max(255), CellIn), z.array(CellIn).min(1).max(500)]);

// https://learn.microsoft.com/graph/api/tablerowcollection-add
defineAction({
  id: 'excel.addTableRows',
  service: 'excel',
  summary: 'Add rows to an Excel table',
  description:
    'Adds rows to a table (at the end, or at index among its data rows). Each row is an object keyed by column name ({"Date": "2026-12-01", "Item": "Taxi", "Amount": 23.5}; columns left out stay empty) or an array in column order. A string starting with "=" is a formula. Formulas over the table (e.g. =SUM(Expenses[Amount])) include the new rows. Returns the rows as stored, calculated. Send an Idempotency-Key header to make a retry safe.',
  input: withFile({
    table: tableName,
    rows: z
      .array(RowIn)
      .min(1)
      .max(500)
      .describe('The rows to add: objects by column name, or arrays in column order.'),
    index: z
      .number()
      .int()
      .min(0)
      .max(1_048_575)
      .optional()
      .describe('Insert before this data row (0 = first); default: at the end.'),
  }),
  output: z.object({ table: z.string(), index: z.number(), added: z.number(), rows: z.array(RowOut) }),
  feature: 'files',
  scopes: SCOPES,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  run: async (input, ctx) => {
    const wb = await workbookUrl(ctx, input);
    const t = tablePath(input.table);
    // One persistent session: the table's columns and place first (to order the objects' values
    // and know where the rows land), then the rows added and read back as a range, whose number
    // formats tell the dates (rows/add answers values only).
    return await withSession(ctx, wb, true, async (run) => {
      const { names, sheet, area, dataStart, count } = await tableLayout(run, t);
      const values = input.rows.map((row, i) => toArray(row, names, i));
      if (input.index !== undefined && input.index > count) {
        throw new Problem('invalid_input', `index ${input.index} is past the table's ${count} rows.`, {
          errors: [{ field: 'index', message: `at most ${count}` }],
        });
      }
      const index = input.index ?? count;
      const first = dataStart + index;
      const address = `${columnLetters(area.c1)}${first}:${columnLetters(area.c2)}${first + values.length - 1}`;
      const [, stored] = await run([
        { method: 'POST', path: `${t}/rows/add`, body: { index, values } },
        { method: 'GET', path: `${rangePath(sheet, address)}?$select=values,numberFormat` },
      ]);
      const body = stored as RangeBody;
      return {
        table: input.table,
        index,
        added: values.length,
        rows: (body.values ?? []).map((row, i) => rowObject(names, row, body.numberFormat?.[i])),
      };
    });
  },
  mapError: mapError(byName),
});

/** A row object by column names → Excel's array in column order; unknown names are refused. */
function toArray(row: z.output<typeof RowIn>, names: string[], i: number): Cell[] {
  if (Array.isArray(row)) {
    if (row.length !== names.length) {
      throw new Problem(
        'invalid_input',
        `Row ${i + 1} has ${row.length} values; the table has ${names.length} columns (${names.join(', ')}).`,
        {
          errors: [{ field: `rows.${i}`, message: `needs ${names.length} values` }],
        },
      );
    }
    return row;
  }
  const lower = new Map(names.map((n, j) => [n.toLowerCase(), j]));
  const out: Cell[] = names.map(() => '');
  for (const [key, value] of Object.entries(row)) {
    const j = lower.get(key.toLowerCase());
    if (j === undefined) {
      throw new Problem(
        'invalid_input',
        `Row ${i + 1} names a column "${key}" the table does not have; its columns are ${names.join(', ')}.`,
        {
          errors: [{ field: `rows.${i}.${key}`, message: 'no such column' }],
        },
      );
    }
    out[j] = value;
  }
  return out;
}
