/**
 * The sandbox's Excel workbook API over real HTTP, on a real .xlsx made with exceljs and uploaded
 * through the drive. Sources, as cited in sandbox/graph/excel:
 * - worksheet-range.md / range.md: `range(address=...)` with calculated values, text, formulas,
 *   numberFormat, valueTypes; `usedRange(valuesOnly=true)`; PATCH with 2-D arrays the range's size.
 * - tablerowcollection-add.md: rows/add with index and values (201, the new row).
 * - excel-manage-sessions.md, workbook-createsession.md, workbook-best-practice.md: persistent and
 *   non-persistent sessions, closeSession 204, the long-running pattern (202, operations, resourceLocation).
 * - workbook-error-codes.md / workbook-error-handling.md: top-level code by status, detailed code
 *   in innerError (invalidArgument, itemNotFound, itemAlreadyExists, accessConflict, invalidSession*).
 */
import ExcelJS from 'exceljs';
import { expensesSheet } from '../support/office-fixtures';
import type { Sandbox } from '../../sandbox';
import { schemaIssues } from '../support/csdl-schema';
import { controlCall, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let sandbox: Sandbox;
let token: string;
let itemId: string;
const WB = () => `/me/drive/items/${itemId}/workbook`;

async function graph(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  bearer = token,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {}, headers: res.headers };
}

/** The tracker the tests start from: a table of expenses, a total beside it, a summary sheet. */
async function trackerBytes(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = expensesSheet(wb);
  ws.getCell('C2').numFmt = '#,##0.00';
  ws.getCell('C3').numFmt = '#,##0.00';
  ws.getCell('A5').value = 'Note below the table';
  ws.getCell('F1').value = 'Total';
  ws.getCell('F2').value = { formula: 'SUM(Expenses[Amount])', result: 32.5 };
  ws.getCell('F3').value = { formula: 'SUM(C2:C3)', result: 32.5 };
  const summary = wb.addWorksheet('Summary');
  summary.getCell('A1').value = { formula: 'AVERAGE(Expenses!C2:C3)' };
  summary.getCell('A2').value = { formula: 'COUNT(Expenses!C:C)' };
  summary.getCell('A3').value = {
    formula: 'IF(Expenses!F2>100,"over budget","ok")',
  };
  summary.getCell('A4').value = { formula: 'Expenses!C2/0' };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function upload(name: string, bytes: Buffer): Promise<string> {
  const res = await fetch(`${sandbox.graphBaseUrl}/me/drive/root:/${name}:/content`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBeLessThan(300);
  return ((await res.json()) as Json).id as string;
}

async function download(id: string): Promise<ExcelJS.Workbook> {
  const res = await fetch(`${sandbox.graphBaseUrl}/me/drive/items/${id}/content`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
  return wb;
}

const range = (sheet: string, address: string) =>
  `${WB()}/worksheets('${sheet}')/range(address='${encodeURIComponent(address)}')`;

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  token = await mintToken(sandbox, 'adele.vance@contoso.test', ['Files.ReadWrite.All']);
});
afterAll(async () => await sandbox.stop());

beforeEach(async () => {
  itemId = await upload('Tracker.xlsx', await trackerBytes());
});

describe('worksheets and ranges', () => {
  it('lists the sheets and finds one by name or by id', async () => {
    const list = await graph('GET', `${WB()}/worksheets`);
    expect(list.status).toBe(200);
    expect(
      list.body.value.map((w: Json) => [String(w.name), Number(w.position), String(w.visibility)]),
    ).toEqual([
      ['Expenses', 0, 'Visible'],
      ['Summary', 1, 'Visible'],
    ]);
    const id = list.body.value[1].id as string;
    expect(id).toMatch(/^\{[0-9A-F-]+\}$/);
    const byId = await graph('GET', `${WB()}/worksheets/${encodeURIComponent(id)}`);
    expect(byId.body.name).toBe('Summary');
    const byName = await graph('GET', `${WB()}/worksheets/summary`);
    expect(byName.body.id).toBe(id);
  });

  it('serves a range calculated: values, text, formulas, formats and types', async () => {
    const res = await graph('GET', range('Expenses', 'A1:C3'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      address: 'Expenses!A1:C3',
      rowCount: 3,
      columnCount: 3,
      rowIndex: 0,
      columnIndex: 0,
      cellCount: 9,
    });
    // Dates are serial numbers in values and formatted in text (46328 = 2026-11-02).
    expect(res.body.values).toEqual([
      ['Date', 'Item', 'Amount'],
      [46328, 'Taxi', 12.5],
      [46329, 'Lunch', 20],
    ]);
    expect(res.body.text[1]).toEqual(['2026-11-02', 'Taxi', '12.50']);
    expect(res.body.valueTypes[1]).toEqual(['Double', 'String', 'Double']);
    expect(res.body.numberFormat[1]).toEqual(['yyyy-mm-dd', 'General', '#,##0.00']);

    const total = await graph('GET', range('Expenses', 'F2:F3'));
    expect(total.body.values).toEqual([[32.5], [32.5]]);
    expect(total.body.formulas).toEqual([['=SUM(Expenses[Amount])'], ['=SUM(C2:C3)']]);

    const summary = await graph('GET', range('Summary', 'A1:A4'));
    expect(summary.body.values).toEqual([[16.25], [2], ['ok'], ['#DIV/0!']]);
    expect(summary.body.valueTypes.map((r: string[]) => r[0])).toEqual([
      'Double',
      'Double',
      'String',
      'Error',
    ]);
  });

  it('writes values and formulas, calculates them, and saves them into the file', async () => {
    const before = await graph('GET', `/me/drive/items/${itemId}`);
    const res = await graph('PATCH', range('Summary', 'B1:C2'), {
      values: [
        [10, '32'],
        ['=B1*2', '=IF(B2>B1,"more","less")'],
      ],
      numberFormat: [
        ['0.00', null],
        [null, null],
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.values).toEqual([
      [10, 32],
      [20, 'more'],
    ]);
    expect(res.body.text[0]).toEqual(['10.00', '32']);
    expect(res.body.formulas[1]).toEqual(['=B1*2', '=IF(B2>B1,"more","less")']);
    const after = await graph('GET', `/me/drive/items/${itemId}`);
    expect(after.body.eTag).not.toBe(before.body.eTag);
    const file = await download(itemId);
    const cell = file.getWorksheet('Summary')!.getCell('B2');
    expect(cell.formula).toBe('B1*2');
    expect((cell.value as ExcelJS.CellFormulaValue).result).toBe(20);
  });

  it('answers usedRange with the bounding box of the values', async () => {
    const res = await graph('GET', `${WB()}/worksheets('Expenses')/usedRange(valuesOnly=true)`);
    expect(res.status).toBe(200);
    expect(res.body.address).toBe('Expenses!A1:F5');
  });

  it('adds a worksheet, and refuses a duplicate or an invalid name', async () => {
    const added = await graph('POST', `${WB()}/worksheets/add`, { name: 'Q4' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'Q4', position: 2, visibility: 'Visible' });
    const again = await graph('POST', `${WB()}/worksheets/add`, { name: 'q4' });
    expect(again.status).toBe(409);
    expect(again.body.error.innerError.code).toBe('itemAlreadyExists');
    const bad = await graph('POST', `${WB()}/worksheets/add`, { name: 'a/b' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.innerError.code).toBe('invalidArgument');
    const names = (await download(itemId)).worksheets.map((w) => w.name);
    expect(names).toEqual(['Expenses', 'Summary', 'Q4']);
  });

  it('answers the documented errors: a bad address, a missing sheet, a size mismatch, a bad formula', async () => {
    const badAddress = await graph('GET', range('Expenses', 'A1:ZZZZ9'));
    expect(badAddress.status).toBe(400);
    expect(badAddress.body.error).toMatchObject({
      code: 'badRequest',
      innerError: { code: 'invalidArgument' },
    });
    const missing = await graph('GET', `${WB()}/worksheets('Nope')/range(address='A1')`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'notFound', innerError: { code: 'itemNotFound' } });
    const mismatch = await graph('PATCH', range('Summary', 'A1:B1'), { values: [[1]] });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.error.innerError.code).toBe('invalidArgument');
    const formula = await graph('PATCH', range('Summary', 'B1:C1'), { values: [[5, '=SUM(A1']] });
    expect(formula.status).toBe(400);
    // All or nothing: B1 was not written either.
    expect((await graph('GET', range('Summary', 'B1'))).body.values).toEqual([['']]);
    // A circular reference is stored and reads 0, as Excel shows it.
    const circular = await graph('PATCH', range('Summary', 'D1:D2'), { values: [['=D2+1'], ['=D1*2']] });
    expect(circular.status).toBe(200);
    expect(circular.body.values[0]).toEqual([0]);
    const table = await graph('GET', `${WB()}/tables('Nope')/rows`);
    expect(table.status).toBe(404);
  });

  it('refuses a file that is no workbook, a token without write scope, and a personal account', async () => {
    const text = await upload('notes.xlsx', Buffer.from('item,amount\nads,1\n'));
    const res = await graph('GET', `/me/drive/items/${text}/workbook/worksheets`);
    expect(res.status).toBe(400);
    expect(res.body.error.innerError.code).toBe('unsupportedWorkbook');
    const readOnly = await mintToken(sandbox, 'adele.vance@contoso.test', ['Files.Read']);
    const denied = await graph('GET', `${WB()}/worksheets`, undefined, {}, readOnly);
    expect(denied.status).toBe(403);
  });
});

test('a workbook shared read-only can be read, and changed only in a non-persistent session', async () => {
  const megan = await mintToken(sandbox, 'megan.bowen@contoso.test', ['Files.ReadWrite.All']);
  const put = await fetch(`${sandbox.graphBaseUrl}/me/drive/root:/Shared budget.xlsx:/content`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${megan}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(await trackerBytes()),
  });
  const file = (await put.json()) as Json;
  const link = await graph(
    'POST',
    `/me/drive/items/${String(file.id)}/createLink`,
    { type: 'view' },
    {},
    megan,
  );
  const share = `u!${Buffer.from(String(link.body.link.webUrl)).toString('base64url')}`;
  const redeemed = await graph('GET', `/shares/${share}/driveItem`, undefined, {
    prefer: 'redeemSharingLink',
  });
  expect(redeemed.status).toBe(200);
  const wb = `/drives/${String(file.parentReference.driveId)}/items/${String(file.id)}/workbook`;
  const cell = `${wb}/worksheets('Summary')/range(address='B1')`;
  expect((await graph('GET', `${wb}/worksheets`)).status).toBe(200);
  const write = await graph('PATCH', cell, { values: [[1]] });
  expect(write.status).toBe(403);
  expect((await graph('POST', `${wb}/createSession`, { persistChanges: true })).status).toBe(403);
  const view = await graph('POST', `${wb}/createSession`, { persistChanges: false });
  expect(view.status).toBe(201);
  const session = { 'workbook-session-id': view.body.id as string };
  expect((await graph('PATCH', cell, { values: [[7]] }, session)).body.values).toEqual([[7]]);
  expect((await graph('GET', cell)).body.values).toEqual([['']]);
});

test('requests beyond what one workbook holds are throttled with Retry-After', async () => {
  const hold = (held: boolean) =>
    controlCall<{ pending: number }>(sandbox, 'PUT', '/excel/hold', {
      user: 'adele.vance@contoso.test',
      itemId,
      held,
    });
  await controlCall(sandbox, 'PUT', '/excel/settings', {
    maxQueuedPerWorkbook: 2,
    throttleRetryAfterSeconds: 0.5,
  });
  try {
    await hold(true);
    const first = [graph('GET', `${WB()}/worksheets`), graph('GET', `${WB()}/tables`)];
    // Both wait in the workbook's queue before the third is sent.
    for (let i = 0; i < 500 && (await hold(true)).pending < 2; i++)
      await new Promise((r) => setTimeout(r, 10));
    const third = await graph('GET', `${WB()}/worksheets`);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('0.5');
    expect(third.body.error).toMatchObject({
      code: 'tooManyRequests',
      innerError: { code: 'tooManyRequestsUncategorized' },
    });
    await hold(false);
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect((await graph('GET', `${WB()}/worksheets`)).status).toBe(200);
  } finally {
    await hold(false);
    await controlCall(sandbox, 'PUT', '/excel/settings', {
      maxQueuedPerWorkbook: 8,
      throttleRetryAfterSeconds: 1,
    });
  }
});

describe('tables', () => {
  it('lists tables, their rows and columns', async () => {
    const tables = await graph('GET', `${WB()}/tables`);
    expect(tables.body.value).toEqual([
      expect.objectContaining({ name: 'Expenses', showHeaders: true, showTotals: false }),
    ]);
    const onSheet = await graph('GET', `${WB()}/worksheets('Expenses')/tables`);
    expect(onSheet.body.value.map((t: Json) => String(t.name))).toEqual(['Expenses']);
    const rows = await graph('GET', `${WB()}/tables('Expenses')/rows`);
    expect(rows.body.value).toEqual([
      { index: 0, values: [[46328, 'Taxi', 12.5]] },
      { index: 1, values: [[46329, 'Lunch', 20]] },
    ]);
    const columns = await graph('GET', `${WB()}/tables/Expenses/columns`);
    expect(columns.body.value[2]).toEqual({
      id: '3',
      index: 2,
      name: 'Amount',
      values: [['Amount'], [12.5], [20]],
    });
    const header = await graph('GET', `${WB()}/tables/Expenses/headerRowRange`);
    expect(header.body.values).toEqual([['Date', 'Item', 'Amount']]);
  });

  it('adds rows at the end: the structured SUM includes them, the file holds them', async () => {
    const res = await graph('POST', `${WB()}/tables/Expenses/rows/add`, {
      index: null,
      values: [
        ['2026-11-04', 'Hotel', 110],
        ['2026-11-05', 'Train', '45.5'],
      ],
    });
    expect(res.status).toBe(201);
    expect(res.body.index).toBe(2);
    expect(res.body.values).toEqual([
      [46330, 'Hotel', 110],
      [46331, 'Train', 45.5],
    ]);
    const total = await graph('GET', range('Expenses', 'F2:F3'));
    // The structured reference covers the grown table; C2:C3 ends above the insertion and stays.
    expect(total.body.values).toEqual([[188], [32.5]]);
    const rows = await graph('GET', `${WB()}/tables/Expenses/dataBodyRange`);
    expect(rows.body.address).toBe('Expenses!A2:C5');
    expect(rows.body.text[3]).toEqual(['2026-11-05', 'Train', '45.50']);
    const summary = await graph('GET', range('Summary', 'A3'));
    expect(summary.body.values).toEqual([['over budget']]);
    // The note below the table moved down with the new rows.
    expect((await graph('GET', range('Expenses', 'A7'))).body.values).toEqual([['Note below the table']]);

    const file = await download(itemId);
    const ws = file.getWorksheet('Expenses')!;
    expect(ws.getCell('B5').value).toBe('Train');
    expect(ws.getCell('C4').value).toBe(110);
    expect((ws.getCell('F2').value as ExcelJS.CellFormulaValue).result).toBe(188);
    const table = (ws as unknown as { tables: Record<string, { table: { tableRef: string } }> }).tables;
    expect(table.Expenses?.table.tableRef).toBe('A1:C5');
  });

  it('inserts rows at an index: ranges that span the insertion grow', async () => {
    const res = await graph('POST', `${WB()}/tables/Expenses/rows/add`, {
      index: 1,
      values: [['2026-11-02', 'Tip', 2]],
    });
    expect(res.status).toBe(201);
    expect(res.body.index).toBe(1);
    const rows = await graph('GET', `${WB()}/tables/Expenses/rows`);
    expect(rows.body.value.map((r: Json) => String(r.values[0][1]))).toEqual(['Taxi', 'Tip', 'Lunch']);
    const total = await graph('GET', range('Expenses', 'F3'));
    expect(total.body.formulas).toEqual([['=SUM(C2:C4)']]);
    expect(total.body.values).toEqual([[34.5]]);
    const avg = await graph('GET', range('Summary', 'A1'));
    expect(avg.body.formulas).toEqual([['=AVERAGE(Expenses!C2:C4)']]);
  });

  it('refuses rows of the wrong width or an index outside the table, changing nothing', async () => {
    const wide = await graph('POST', `${WB()}/tables/Expenses/rows/add`, { values: [['x', 'y', 1, 2]] });
    expect(wide.status).toBe(400);
    expect(wide.body.error.innerError.code).toBe('invalidArgument');
    const far = await graph('POST', `${WB()}/tables/Expenses/rows/add`, {
      index: 9,
      values: [['x', 'y', 1]],
    });
    expect(far.status).toBe(400);
    const rows = await graph('GET', `${WB()}/tables/Expenses/rows`);
    expect(rows.body.value).toHaveLength(2);
  });
});

test('every workbook entity has the shape of the v1.0 description', async () => {
  const check = (type: string, answer: Json) => {
    const items = Array.isArray(answer.value) ? (answer.value as Json[]) : [answer];
    expect(items.length).toBeGreaterThan(0);
    expect(
      items.flatMap((item, i) => schemaIssues(`microsoft.graph.${type}`, item, `${type}[${i}]`)),
    ).toEqual([]);
  };
  check('workbookWorksheet', (await graph('GET', `${WB()}/worksheets`)).body);
  check('workbookRange', (await graph('GET', range('Expenses', 'A1:F3'))).body);
  check('workbookTable', (await graph('GET', `${WB()}/tables`)).body);
  check('workbookTableRow', (await graph('GET', `${WB()}/tables/Expenses/rows`)).body);
  check('workbookTableColumn', (await graph('GET', `${WB()}/tables/Expenses/columns`)).body);
  check(
    'workbookSessionInfo',
    (await graph('POST', `${WB()}/createSession`, { persistChanges: false })).body,
  );
});

describe('sessions', () => {
  it('keeps a non-persistent session’s changes to itself, and forgets it once closed', async () => {
    const created = await graph('POST', `${WB()}/createSession`, { persistChanges: false });
    expect(created.status).toBe(201);
    expect(created.body.persistChanges).toBe(false);
    const session = { 'workbook-session-id': created.body.id as string };
    const etag = (await graph('GET', `/me/drive/items/${itemId}`)).body.eTag;
    const write = await graph('PATCH', range('Summary', 'B1'), { values: [[99]] }, session);
    expect(write.status).toBe(200);
    expect((await graph('GET', range('Summary', 'B1'), undefined, session)).body.values).toEqual([[99]]);
    expect((await graph('GET', range('Summary', 'B1'))).body.values).toEqual([['']]);
    expect((await graph('GET', `/me/drive/items/${itemId}`)).body.eTag).toBe(etag);
    expect((await graph('POST', `${WB()}/closeSession`, {}, session)).status).toBe(204);
    const gone = await graph('GET', range('Summary', 'B1'), undefined, session);
    expect(gone.status).toBe(404);
    expect(gone.body.error.innerError.code).toBe('invalidSessionReCreatable');
  });

  it('saves a persistent session’s changes, and expires it after five idle minutes', async () => {
    const created = await graph('POST', `${WB()}/createSession`, { persistChanges: true });
    const session = { 'workbook-session-id': created.body.id as string };
    await graph('PATCH', range('Summary', 'B1'), { values: [['saved']] }, session);
    expect((await download(itemId)).getWorksheet('Summary')!.getCell('B1').value).toBe('saved');
    sandbox.advanceClock(6 * 60_000);
    const expired = await graph('GET', range('Summary', 'B1'), undefined, session);
    expect(expired.status).toBe(404);
    expect(expired.body.error.innerError.code).toBe('invalidSessionReCreatable');
  });

  it('creates a session through the long-running pattern when asked to respond async', async () => {
    await controlCall(sandbox, 'PUT', '/excel/settings', { operationPollsBeforeDone: 1 });
    try {
      const accepted = await graph(
        'POST',
        `${WB()}/createSession`,
        { persistChanges: true },
        { prefer: 'respond-async' },
      );
      expect(accepted.status).toBe(202);
      const location = accepted.headers.get('location')!;
      expect(location).toContain(`/me/drive/items/${itemId}/workbook/operations/`);
      const poll = (url: string) => graph('GET', url.slice(sandbox.graphBaseUrl.length));
      expect((await poll(location)).body.status).toBe('running');
      const done = await poll(location);
      expect(done.body.status).toBe('succeeded');
      const info = await poll(done.body.resourceLocation as string);
      expect(info.status).toBe(200);
      expect(info.body.persistChanges).toBe(true);
      const use = await graph('GET', `${WB()}/worksheets`, undefined, {
        'workbook-session-id': info.body.id,
      });
      expect(use.status).toBe(200);
    } finally {
      await controlCall(sandbox, 'PUT', '/excel/settings', { operationPollsBeforeDone: 0 });
    }
  });

  it('refuses writes and persistent sessions while another client holds the workbook', async () => {
    await controlCall(sandbox, 'PUT', '/excel/locks', {
      user: 'adele.vance@contoso.test',
      itemId,
      locked: true,
    });
    try {
      const write = await graph('PATCH', range('Summary', 'B1'), { values: [[1]] });
      expect(write.status).toBe(409);
      expect(write.body.error).toMatchObject({ code: 'conflict', innerError: { code: 'accessConflict' } });
      expect((await graph('POST', `${WB()}/createSession`, { persistChanges: true })).status).toBe(409);
      expect((await graph('GET', range('Summary', 'A1'))).status).toBe(200);
      const view = await graph('POST', `${WB()}/createSession`, { persistChanges: false });
      expect(view.status).toBe(201);
    } finally {
      await controlCall(sandbox, 'PUT', '/excel/locks', {
        user: 'adele.vance@contoso.test',
        itemId,
        locked: false,
      });
    }
  });
});
