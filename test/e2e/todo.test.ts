/**
 * To Do actions over HTTP through the local host, against the sandbox (reference §8.6): lists,
 * tasks with calendar-date due dates and reminders, complete/reopen, filters, checklist items,
 * linked resources, and the error paths a caller sees.
 */
import { graphState } from '../../sandbox/graph';
import { injectFault } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let userId: string;
let defaultListId: string;

interface Task {
  id: string;
  listId: string;
  title: string;
  status: string;
  completed: boolean;
  importance: string;
  body: string | null;
  due: string | null;
  reminderAt: string | null;
  categories: string[];
  recurrence: { pattern: { type: string }; range: { startDate: string } } | null;
  completedAt: string | null;
  checklist?: Array<{ id: string; text: string; checked: boolean }>;
  links?: Array<{ id: string; webUrl: string; applicationName: string | null; externalId: string | null }>;
}

interface Problem {
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ field: string }>;
}

async function call<T = unknown>(
  action: string,
  input: unknown,
  expected = 200,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await t.call(userId, 'POST', `/todo/${action}`, input, headers);
  const body = (await res.json()) as T;
  if (res.status !== expected) throw new Error(`${action} → ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function problem(
  action: string,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<Problem> {
  const res = await t.call(userId, 'POST', `/todo/${action}`, input, headers);
  return { status: res.status, ...((await res.json()) as Omit<Problem, 'status'>) };
}

function storedTask(listId: string, taskId: string): Record<string, unknown> {
  const user = t.sandbox.directory.findUser(ADELE)!;
  const store = graphState(t.sandbox).store;
  return store.get(store.collection(user.id, `todoTasks:${listId}`), taskId)!;
}

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect(ADELE, { features: ['todo'] });
  const lists = await call<{ items: Array<{ id: string; name: string; isDefault: boolean }> }>(
    'listLists',
    {},
  );
  defaultListId = lists.items.find((l) => l.isDefault)!.id;
});
afterAll(async () => await t.stop());

test('a task due 2027-03-01 created by a caller in Pacific/Auckland reads back due 2027-03-01', async () => {
  // §8.6: dueDateTime is date-only (time dropped, T00:00:00.0000000 UTC; microsoft-graph-docs-contrib#2136).
  const auckland = { 'x-timezone': 'Pacific/Auckland' };
  const created = await call<Task>(
    'createTask',
    { title: 'File the NZ return', due: '2027-03-01' },
    201,
    auckland,
  );
  expect(created.due).toBe('2027-03-01');
  expect(created.listId).toBe(defaultListId); // no listId: the built-in "Tasks" list
  const read = await call<Task>('getTask', { listId: defaultListId, taskId: created.id }, 200, auckland);
  expect(read.due).toBe('2027-03-01');
  // Microsoft Graph holds the same calendar date, not the UTC instant of Auckland midnight (2027-02-28).
  expect(storedTask(defaultListId, created.id).dueDateTime).toEqual({
    dateTime: '2027-03-01T00:00:00.0000000',
    timeZone: 'UTC',
  });
  // Read by a caller on the other side of the date line, it is still 1 March.
  const fromHonolulu = await call<Task>('getTask', { listId: defaultListId, taskId: created.id }, 200, {
    'x-timezone': 'Pacific/Honolulu',
  });
  expect(fromHonolulu.due).toBe('2027-03-01');
});

test('create with every field: notes, reminder instant, importance, categories, recurrence, checklist, links', async () => {
  const task = await call<Task>(
    'createTask',
    {
      title: 'Quarterly review',
      body: 'Bring the numbers',
      due: '2027-04-05',
      reminderAt: '2027-04-05T09:00:00+02:00',
      importance: 'high',
      categories: ['Finance'],
      recurrence: { type: 'weekly', daysOfWeek: ['monday'], occurrences: 4 },
      checklist: ['Export report', 'Book room'],
      links: [
        {
          kind: 'email',
          webUrl: 'https://outlook.office.com/mail/id/AAMkAGmsg1',
          displayName: 'Q2 numbers',
          externalId: 'AAMkAGmsg1',
        },
      ],
    },
    201,
  );
  expect(task).toMatchObject({
    title: 'Quarterly review',
    body: 'Bring the numbers',
    due: '2027-04-05',
    reminderAt: '2027-04-05T07:00:00Z',
    importance: 'high',
    categories: ['Finance'],
    status: 'notStarted',
    completed: false,
  });
  expect(task.recurrence).toMatchObject({ pattern: { type: 'weekly' }, range: { startDate: '2027-04-05' } });
  const full = await call<Task>('getTask', { listId: defaultListId, taskId: task.id });
  expect(full.checklist!.map((c) => c.text)).toEqual(['Export report', 'Book room']);
  expect(full.links).toEqual([
    expect.objectContaining({ applicationName: 'Outlook', externalId: 'AAMkAGmsg1' }),
  ]);

  // A local reminder time is read in the caller's zone (X-Timezone).
  const local = await call<Task>(
    'createTask',
    { title: 'Call Kiri', reminderAt: '2027-03-01T09:00:00' },
    201,
    {
      'x-timezone': 'Pacific/Auckland',
    },
  );
  expect(local.reminderAt).toBe('2027-02-28T20:00:00Z');
});

test('bad input is refused before Graph: dates, reminder without zone, recurrence without due, unknown fields', async () => {
  const badDue = await problem('createTask', { title: 'x', due: '2027-3-1' });
  expect(badDue.status).toBe(400);
  expect(badDue.code).toBe('invalid_input');
  const noZone = await problem('createTask', { title: 'x', reminderAt: '2027-03-01T09:00:00' });
  expect(noZone.status).toBe(400);
  expect(noZone.errors?.[0]?.field).toBe('reminderAt');
  const noDue = await problem('createTask', { title: 'x', recurrence: { type: 'daily' } });
  expect(noDue.status).toBe(400);
  expect(noDue.errors?.[0]?.field).toBe('recurrence');
  const extra = await problem('createTask', { title: 'x', dueDateTime: '2027-03-01' });
  expect(extra.status).toBe(400);
});

test('complete stamps completedAt and reopen clears it', async () => {
  // §8.6 (observed): status completed stamps completedDateTime.
  const task = await call<Task>('createTask', { title: 'Send invoice' }, 201);
  const done = await call<Task>('completeTask', { listId: defaultListId, taskId: task.id });
  expect(done).toMatchObject({ status: 'completed', completed: true });
  expect(done.completedAt).toMatch(/Z$/);
  const reopened = await call<Task>('reopenTask', { listId: defaultListId, taskId: task.id });
  expect(reopened).toMatchObject({ status: 'notStarted', completed: false, completedAt: null });
});

test('update changes only the named fields; null clears the due date and the reminder', async () => {
  const task = await call<Task>(
    'createTask',
    { title: 'Renew passport', due: '2027-06-01', reminderAt: '2027-05-20T08:00:00Z', categories: ['Home'] },
    201,
  );
  const moved = await call<Task>('updateTask', {
    listId: defaultListId,
    taskId: task.id,
    due: '2027-06-15',
    importance: 'high',
  });
  expect(moved).toMatchObject({
    due: '2027-06-15',
    importance: 'high',
    reminderAt: '2027-05-20T08:00:00Z',
    categories: ['Home'],
  });
  const cleared = await call<Task>('updateTask', {
    listId: defaultListId,
    taskId: task.id,
    due: null,
    reminderAt: null,
  });
  expect(cleared).toMatchObject({ due: null, reminderAt: null, title: 'Renew passport' });
  const nothing = await problem('updateTask', { listId: defaultListId, taskId: task.id });
  expect(nothing.status).toBe(400);
});

test('list tasks by status and by an inclusive due range, with cursor paging', async () => {
  const list = await call<{ id: string }>('createList', { name: 'Filter tests' }, 201);
  for (const [i, status] of [
    [1, 'notStarted'],
    [2, 'inProgress'],
    [3, 'completed'],
    [4, 'notStarted'],
  ] as const) {
    const task = await call<Task>(
      'createTask',
      { listId: list.id, title: `T${i}`, due: `2027-05-0${i}` },
      201,
    );
    if (status !== 'notStarted') await call('updateTask', { listId: list.id, taskId: task.id, status });
  }
  const open = await call<{ items: Task[] }>('listTasks', {
    listId: list.id,
    status: ['notStarted', 'inProgress'],
  });
  expect(open.items.map((x) => x.title).sort()).toEqual(['T1', 'T2', 'T4']);
  const range = await call<{ items: Task[] }>('listTasks', {
    listId: list.id,
    dueFrom: '2027-05-02',
    dueTo: '2027-05-03',
  });
  expect(range.items.map((x) => x.title).sort()).toEqual(['T2', 'T3']);
  const first = await call<{ items: Task[]; nextCursor?: string }>('listTasks', { listId: list.id, top: 3 });
  expect(first.items).toHaveLength(3);
  const second = await call<{ items: Task[]; nextCursor?: string }>('listTasks', {
    top: 3,
    cursor: first.nextCursor,
  });
  expect(second.items).toHaveLength(1);
  expect(second.items[0]!.listId).toBe(list.id);
  expect(second.nextCursor).toBeUndefined();
});

test('checklist items: add, check, remove', async () => {
  const task = await call<Task>('createTask', { title: 'Pack' }, 201);
  const item = await call<{ id: string; text: string; checked: boolean }>(
    'addChecklistItem',
    { listId: defaultListId, taskId: task.id, text: 'Passport' },
    201,
  );
  expect(item).toMatchObject({ text: 'Passport', checked: false });
  const checked = await call<{ checked: boolean; checkedAt: string | null }>('updateChecklistItem', {
    listId: defaultListId,
    taskId: task.id,
    itemId: item.id,
    checked: true,
  });
  expect(checked.checked).toBe(true);
  expect(checked.checkedAt).toEqual(expect.any(String));
  await call('deleteChecklistItem', { listId: defaultListId, taskId: task.id, itemId: item.id });
  expect((await call<Task>('getTask', { listId: defaultListId, taskId: task.id })).checklist).toEqual([]);
  const gone = await problem('updateChecklistItem', {
    listId: defaultListId,
    taskId: task.id,
    itemId: item.id,
    checked: false,
  });
  expect(gone.code).toBe('not_found');
});

test('linked resources tie a task to a file, and can be removed', async () => {
  const task = await call<Task>('createTask', { title: 'Review the deck' }, 201);
  const link = await call<{ id: string; applicationName: string }>(
    'linkResource',
    {
      listId: defaultListId,
      taskId: task.id,
      kind: 'file',
      webUrl: 'https://contoso-my.sharepoint.com/personal/adele/Documents/deck.pptx',
      displayName: 'deck.pptx',
      externalId: '01ABCDEF',
    },
    201,
  );
  expect(link.applicationName).toBe('OneDrive');
  await call('unlinkResource', { listId: defaultListId, taskId: task.id, linkId: link.id });
  expect((await call<Task>('getTask', { listId: defaultListId, taskId: task.id })).links).toEqual([]);
});

test('task lists: create, rename, delete; the built-in list is protected', async () => {
  const lists = await call<{ items: Array<{ name: string; isDefault: boolean }> }>('listLists', {});
  expect(lists.items).toContainEqual(expect.objectContaining({ name: 'Tasks', isDefault: true }));
  expect(lists.items.length).toBeGreaterThanOrEqual(2); // seeded: "Tasks" and "Product launch"
  const list = await call<{ id: string; name: string }>('createList', { name: 'Garden' }, 201);
  expect((await call<{ name: string }>('renameList', { listId: list.id, name: 'Garden 2027' })).name).toBe(
    'Garden 2027',
  );
  expect(await call('deleteList', { listId: list.id })).toEqual({ listId: list.id, deleted: true });
  expect((await problem('listTasks', { listId: list.id })).code).toBe('not_found');
  const protectedDelete = await problem('deleteList', { listId: defaultListId });
  expect(protectedDelete.status).toBe(400);
  expect(protectedDelete.detail).toContain('Built-in');
});

test('delete a task; not found, no rights and an ungranted feature are clear problems', async () => {
  const task = await call<Task>('createTask', { title: 'Temporary' }, 201);
  expect(await call('deleteTask', { listId: defaultListId, taskId: task.id })).toEqual({
    taskId: task.id,
    deleted: true,
  });
  const missing = await problem('getTask', { listId: defaultListId, taskId: task.id });
  expect(missing.status).toBe(404);
  expect(missing.code).toBe('not_found');

  const user = t.sandbox.directory.findUser(ADELE)!;
  await injectFault(t.sandbox, {
    method: 'GET',
    path: '/todo/lists(\\?|$)',
    userId: user.id,
    status: 403,
    code: 'ErrorAccessDenied',
  });
  const denied = await problem('listLists', {});
  expect(denied.status).toBe(403);
  expect(denied.code).toBe('forbidden');

  const contactsOnly = await t.connect('megan.bowen@contoso.test', { features: ['contacts'] });
  const res = await t.call(contactsOnly, 'POST', '/todo/listTasks', {});
  expect(res.status).toBe(403);
  expect((await res.json()).code).toBe('feature_not_granted');
});

test('an Idempotency-Key makes a repeated create return the first task', async () => {
  const key = { 'idempotency-key': 'create-once-1' };
  const a = await call<Task>('createTask', { title: 'Only once' }, 201, key);
  const b = await call<Task>('createTask', { title: 'Only once' }, 201, key);
  expect(b.id).toBe(a.id);
  const user = t.sandbox.directory.findUser(ADELE)!;
  const store = graphState(t.sandbox).store;
  const same = store
    .list(store.collection(user.id, `todoTasks:${defaultListId}`))
    .filter((x) => x.title === 'Only once');
  expect(same).toHaveLength(1);
});
