/**
 * Excel through the local host as a platform calls it (issue 26): an expense tracker uploaded with
 * files.upload, its table read as objects, two rows added, the SUM beside the table read again
 * (it includes them), the file downloaded with files.download and opened with exceljs (the rows
 * are there). Then the sheet tools, a SharePoint library and a sharing link, and the problems a
 * caller can act on.
 */
import ExcelJS from 'exceljs';
import { expensesSheet } from '../support/office-fixtures';
import { actionCaller } from '../support/actions';
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { controlCall, injectFault, requestLog } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let t: TestApp;
let adele: string;

const { call, ok } = actionCaller(
  () => t,
  'excel',
  () => adele,
);

async function headers(user = adele): Promise<Record<string, string>> {
  return { 'x-functions-key': FUNCTION_KEY, authorization: `Bearer ${await t.tokenFor(user)}` };
}

/** The tracker: a table of expenses, the total beside it, a budget check on a second sheet. */
async function tracker(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = expensesSheet(wb);
  ws.getCell('E1').value = 'Total';
  ws.getCell('F1').value = { formula: 'SUM(Expenses[Amount])', result: 32.5 };
  const check = wb.addWorksheet('Budget');
  check.getCell('A1').value = 'Limit';
  check.getCell('B1').value = 150;
  check.getCell('A2').value = 'Status';
  check.getCell('B2').value = { formula: 'IF(Expenses!F1>B1,"over","within")' };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function upload(
  path: string,
  bytes: Buffer,
  extra: Record<string, string> = {},
  user = adele,
): Promise<Json> {
  const qs = new URLSearchParams({ path, ...extra });
  const res = await fetch(`${t.api}/files/upload?${qs.toString()}`, {
    method: 'POST',
    headers: { ...(await headers(user)), 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Json;
}

async function downloadWorkbook(path: string): Promise<ExcelJS.Workbook> {
  const res = await fetch(`${t.api}/files/download?${new URLSearchParams({ path }).toString()}`, {
    headers: await headers(),
  });
  expect(res.status).toBe(200);
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ArrayBuffer);
  return wb;
}

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect('adele.vance@contoso.test', { features: ['files', 'sharepoint'] });
});
afterAll(async () => await t.stop());

test('a tracker: read the table as objects, add two rows, the SUM includes them, the file holds them', async () => {
  const file = { path: '/Finance/Expenses 2026.xlsx' };
  await upload(file.path, await tracker());

  const table = await ok('readTable', { ...file, table: 'Expenses' });
  expect(table.columns).toEqual(['Date', 'Item', 'Amount']);
  expect(table.rows).toEqual([
    { index: 0, values: { Date: '2026-11-02', Item: 'Taxi', Amount: 12.5 } },
    { index: 1, values: { Date: '2026-11-03', Item: 'Lunch', Amount: 20 } },
  ]);

  // Column names in any case and order, dates as ISO dates.
  const addition = {
    ...file,
    table: 'Expenses',
    rows: [
      { Date: '2026-11-04', Item: 'Hotel', Amount: 110 },
      { item: 'Train', amount: 45.5, date: '2026-11-05' },
    ],
  };
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const added = await call('addTableRows', addition, { 'idempotency-key': 'expenses-nov-04' });
  expect(added.status).toBe(200);
  expect(added.body).toMatchObject({
    table: 'Expenses',
    index: 2,
    added: 2,
    rows: [
      { Date: '2026-11-04', Item: 'Hotel', Amount: 110 },
      { Date: '2026-11-05', Item: 'Train', Amount: 45.5 },
    ],
  });
  // One session for the action: created, its calls in $batch, closed.
  const traffic = (await requestLog(t.sandbox, since)).map(
    (e) => `${e.method} ${e.path.replace(/^.*\/workbook/, 'wb')}`,
  );
  expect(traffic.filter((x) => x.includes('createSession'))).toHaveLength(1);
  expect(traffic.filter((x) => x.includes('closeSession'))).toHaveLength(1);
  expect(traffic.filter((x) => x === 'POST /v1.0/$batch').length).toBeGreaterThan(0);

  // A retry with the same Idempotency-Key answers the first result and adds nothing.
  const replay = await call('addTableRows', addition, { 'idempotency-key': 'expenses-nov-04' });
  expect(replay.body).toEqual(added.body);
  expect(((await ok('readTable', { ...file, table: 'Expenses' })).rows as Json[]).length).toBe(4);

  const total = await ok('readRange', { ...file, sheet: 'Expenses', address: 'E1:F1', headers: false });
  expect(total.values).toEqual([['Total', 188]]);
  const budget = await ok('readRange', { ...file, sheet: 'Budget' });
  expect(budget.rows).toEqual([{ Limit: 'Status', '150': 'over' }]);

  const wb = await downloadWorkbook(file.path);
  const ws = wb.getWorksheet('Expenses')!;
  expect([ws.getCell('B4').value, ws.getCell('C4').value]).toEqual(['Hotel', 110]);
  expect([ws.getCell('B5').value, ws.getCell('C5').value]).toEqual(['Train', 45.5]);
  expect((ws.getCell('A5').value as Date).toISOString().slice(0, 10)).toBe('2026-11-05');
  expect(ws.getCell('F1').formula).toBe('SUM(Expenses[Amount])');
  expect((ws.getCell('F1').value as ExcelJS.CellFormulaValue).result).toBe(188);
}, 60000);

test('worksheets: list, add, write a range with a formula, read the used range', async () => {
  const file = { path: '/Finance/Plan.xlsx' };
  await upload(file.path, await tracker());
  const sheets = await ok('listWorksheets', file);
  expect(
    (sheets.items as Json[]).map((s) => [String(s.name), Number(s.position), Boolean(s.visible)]),
  ).toEqual([
    ['Expenses', 0, true],
    ['Budget', 1, true],
  ]);
  expect(await ok('addWorksheet', { ...file, name: 'Q1' })).toMatchObject({ name: 'Q1', position: 2 });
  const dup = await call('addWorksheet', { ...file, name: 'q1' });
  expect([dup.status, dup.body.code]).toEqual([409, 'conflict']);

  const written = await ok('updateRange', {
    ...file,
    sheet: 'Q1',
    address: 'A1:C2',
    values: [
      ['Month', 'Revenue', 'Share'],
      ['2027-01-01', 1200, '=B2/1000'],
    ],
    numberFormat: [
      [null, null, null],
      ['yyyy-mm', '#,##0', '0%'],
    ],
  });
  expect(written.values).toEqual([
    ['Month', 'Revenue', 'Share'],
    ['2027-01-01', 1200, 1.2],
  ]);
  const read = await ok('readRange', { ...file, sheet: 'Q1' });
  expect(read).toMatchObject({
    sheet: 'Q1',
    address: "'Q1'!A1:C2",
    columns: ['Month', 'Revenue', 'Share'],
    truncated: false,
  });
  expect(read.rows).toEqual([{ Month: '2027-01-01', Revenue: 1200, Share: 1.2 }]);
  expect((await ok('listTables', file)).items).toEqual([
    { id: expect.any(String), name: 'Expenses', showHeaders: true, showTotals: false },
  ]);
  const viaTable = await ok('readRange', { ...file, table: 'Expenses' });
  expect(viaTable.rows).toHaveLength(2);
}, 60000);

test('a workbook in a SharePoint library, and one opened from a colleague’s sharing link', async () => {
  const sites = await t.call(adele, 'POST', '/sharepoint/searchSites', { query: 'marketing' });
  const siteId = String(((await sites.json()) as { items: Json[] }).items[0]?.id);
  const inSite = { siteId, path: '/Budgets/Team.xlsx' };
  await upload(inSite.path, await tracker(), { siteId });
  await ok('addTableRows', { ...inSite, table: 'Expenses', rows: [['2026-11-06', 'Print', 7.5]] });
  expect(
    (await ok('readRange', { ...inSite, sheet: 'Expenses', address: 'F1', headers: false })).values,
  ).toEqual([[40]]);

  // Megan shares her tracker with an organization link; Adele works on it from the link alone.
  const megan = await t.connect('megan.bowen@contoso.test', { features: ['files'] });
  const shared = await upload('/Team/Offsite.xlsx', await tracker(), {}, megan);
  const linkRes = await t.call(megan, 'POST', '/files/createLink', { itemId: shared.id, type: 'edit' });
  const url = String(((await linkRes.json()) as Json).url);
  const viaLink = await ok('readTable', { shareUrl: url, table: 'Expenses' });
  expect((viaLink.rows as Json[]).map((r) => String(r.values.Item))).toEqual(['Taxi', 'Lunch']);
  await ok('addTableRows', { shareUrl: url, table: 'Expenses', rows: [{ Item: 'Venue', Amount: 300 }] });
  const megansCopy = await fetch(
    `${t.api}/files/download?${new URLSearchParams({ itemId: String(shared.id) }).toString()}`,
    {
      headers: await headers(megan),
    },
  );
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await megansCopy.arrayBuffer()) as unknown as ArrayBuffer);
  expect(wb.getWorksheet('Expenses')!.getCell('B4').value).toBe('Venue');
}, 60000);

test('bad input and missing things are clear problems; nothing is written', async () => {
  const file = { path: '/Finance/Checks.xlsx' };
  await upload(file.path, await tracker());
  const badAddress = await call('readRange', { ...file, sheet: 'Expenses', address: 'A1:ZZZZ9' });
  expect([badAddress.status, badAddress.body.code]).toEqual([400, 'invalid_input']);
  expect(JSON.stringify(badAddress.body.errors)).toContain('address');
  const noSheet = await call('readRange', { ...file, sheet: 'Nope', address: 'A1' });
  expect([noSheet.status, noSheet.body.code]).toEqual([404, 'not_found']);
  expect(noSheet.body.detail).toContain('worksheet "Nope"');
  const noTable = await call('readTable', { ...file, table: 'Missing' });
  expect([noTable.status, noTable.body.code]).toEqual([404, 'not_found']);
  expect(noTable.body.detail).toContain('table "Missing"');
  const noFile = await call('listWorksheets', { path: '/Finance/None.xlsx' });
  expect([noFile.status, noFile.body.code]).toEqual([404, 'not_found']);
  expect(noFile.body.detail).toContain('No such file');
  const size = await call('updateRange', { ...file, sheet: 'Budget', address: 'A1:B2', values: [[1, 2]] });
  expect([size.status, size.body.code]).toEqual([400, 'invalid_input']);
  const column = await call('addTableRows', { ...file, table: 'Expenses', rows: [{ Item: 'x', Cost: 3 }] });
  expect([column.status, column.body.code]).toEqual([400, 'invalid_input']);
  expect(column.body.detail).toContain('Date, Item, Amount');
  const both = await call('listWorksheets', { ...file, itemId: 'abc' });
  expect([both.status, both.body.code]).toEqual([400, 'invalid_input']);
  const notExcel = await call('listWorksheets', { path: '/Finance/notes.txt' });
  expect([notExcel.status, notExcel.body.code]).toEqual([400, 'invalid_input']);
  await upload('/Finance/fake.xlsx', Buffer.from('item,amount\n'));
  const fake = await call('listWorksheets', { path: '/Finance/fake.xlsx' });
  expect([fake.status, fake.body.code]).toEqual([415, 'unsupported_media_type']);
  // Nothing was added by the refused calls.
  expect(((await ok('readTable', { ...file, table: 'Expenses' })).rows as Json[]).length).toBe(2);
}, 60000);

test('throttled, a lost session, a locked workbook: retried, recreated, or a clear conflict; rows land once', async () => {
  const file = { path: '/Finance/Busy.xlsx' };
  const item = await upload(file.path, await tracker());
  const rows = async () => ((await ok('readTable', { ...file, table: 'Expenses' })).rows as Json[]).length;
  try {
    // Graph throttles the $batch once: the chokepoint waits Retry-After and sends it again.
    await injectFault(t.sandbox, {
      method: 'POST',
      path: '/v1.0/\\$batch$',
      status: 429,
      count: 1,
      headers: { 'retry-after': '0.05' },
    });
    const before = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    await ok('addTableRows', { ...file, table: 'Expenses', rows: [{ Item: 'Parking', Amount: 4 }] });
    const batches = (await requestLog(t.sandbox, before)).filter((e) => e.path.endsWith('/$batch'));
    expect(batches.map((e) => e.status)).toEqual([429, 200, 200]);
    expect(await rows()).toBe(3);

    // The session is lost before the batch runs (Excel: invalidSessionReCreatable): a new one is made.
    await injectFault(t.sandbox, {
      method: 'POST',
      path: '/v1.0/\\$batch$',
      status: 404,
      count: 1,
      body: {
        error: {
          code: 'notFound',
          message:
            'The session specified in the request does not exist or is invalid due to a transient error.',
          innerError: { code: 'invalidSessionReCreatable' },
        },
      },
    });
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    await ok('addTableRows', { ...file, table: 'Expenses', rows: [{ Item: 'Fuel', Amount: 60 }] });
    const created = (await requestLog(t.sandbox, since)).filter((e) => e.path.endsWith('/createSession'));
    expect(created).toHaveLength(2);
    expect(await rows()).toBe(4);
  } finally {
    await controlCall(t.sandbox, 'DELETE', '/faults');
  }

  // Another client holds the workbook for editing: a clear conflict, nothing written.
  await controlCall(t.sandbox, 'PUT', '/excel/locks', {
    user: 'adele.vance@contoso.test',
    itemId: item.id,
    locked: true,
  });
  try {
    const locked = await call('addTableRows', {
      ...file,
      table: 'Expenses',
      rows: [{ Item: 'Lock', Amount: 1 }],
    });
    expect([locked.status, locked.body.code]).toEqual([409, 'conflict']);
    expect(locked.body.detail).toContain('locked');
    const write = await call('updateRange', { ...file, sheet: 'Budget', address: 'B1', values: [[200]] });
    expect([write.status, write.body.code]).toEqual([409, 'conflict']);
  } finally {
    await controlCall(t.sandbox, 'PUT', '/excel/locks', {
      user: 'adele.vance@contoso.test',
      itemId: item.id,
      locked: false,
    });
  }
  expect(await rows()).toBe(4);
}, 60000);

test('parallel writes to one busy workbook: the requests Excel throttles are retried after Retry-After, and all land', async () => {
  const file = { path: '/Finance/Parallel.xlsx' };
  const item = await upload(file.path, await tracker());
  const hold = (held: boolean) =>
    controlCall(t.sandbox, 'PUT', '/excel/hold', { user: 'adele.vance@contoso.test', itemId: item.id, held });
  await controlCall(t.sandbox, 'PUT', '/excel/settings', {
    maxQueuedPerWorkbook: 1,
    throttleRetryAfterSeconds: 1,
  });
  const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
  const throttled = async () =>
    (await requestLog(t.sandbox, since)).filter((e) => e.path.includes('/workbook/') && e.status === 429);
  try {
    await hold(true);
    const writes = ['B5', 'B6', 'B7'].map((address, i) =>
      call('updateRange', { ...file, sheet: 'Budget', address, values: [[i + 1]] }),
    );
    for (let i = 0; i < 500 && (await throttled()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    await hold(false);
    expect((await Promise.all(writes)).map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await throttled()).length).toBeGreaterThan(0);
  } finally {
    await hold(false);
    await controlCall(t.sandbox, 'PUT', '/excel/settings', {
      maxQueuedPerWorkbook: 8,
      throttleRetryAfterSeconds: 1,
    });
  }
  const written = await ok('readRange', { ...file, sheet: 'Budget', address: 'B5:B7', headers: false });
  expect(written.values).toEqual([[1], [2], [3]]);
}, 60000);

test('a personal account is told the workbook API needs a work account', async () => {
  t.sandbox.directory.addUser({
    userPrincipalName: 'sam.rivers@outlook.test',
    displayName: 'Sam Rivers',
    accountType: 'personal',
  });
  const sam = await t.connect('sam.rivers@outlook.test', { features: ['files'] });
  const res = await t.call(sam, 'POST', '/excel/listWorksheets', { path: '/Budget.xlsx' });
  const body = (await res.json()) as Json;
  expect([res.status, body.code]).toEqual([403, 'feature_unavailable']);
  expect(String(body.detail)).toContain('work or school account');
}, 60000);
