/**
 * The sandbox's Microsoft To Do through the real @microsoft/microsoft-graph-client: lists, tasks,
 * checklist items, linked resources and task delta. Each [EMU] rule cites
 * ../shared/reference/graph-behaviour.md (§8.6 To Do, §5.2 todoTask delta, §1 errors) and the
 * Microsoft page or issue it comes from.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { controlCall, startTestSandbox, graphFailure, mintToken, graphClientFor } from '../support/sandbox';

let sandbox: Sandbox;
let rw: Client;
let ro: Client;
let defaultListId: string;

interface Task {
  id: string;
  title: string;
  status: string;
  importance: string;
  dueDateTime?: { dateTime: string; timeZone: string };
  reminderDateTime?: { dateTime: string; timeZone: string };
  completedDateTime?: { dateTime: string; timeZone: string };
  checklistItems?: Array<{ id: string; displayName: string; isChecked: boolean }>;
  linkedResources?: Array<{ id: string; webUrl: string }>;
  changeKey?: string;
}

const tokenFor = (user: string, scopes: string[]) => mintToken(sandbox, user, scopes);

const graphClient = (token: string) => graphClientFor(sandbox, token);

const tasksUrl = (listId: string) => `/me/todo/lists/${encodeURIComponent(listId)}/tasks`;
const taskUrl = (listId: string, id: string) => `${tasksUrl(listId)}/${encodeURIComponent(id)}`;

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  rw = graphClient(await tokenFor('lee.gu@contoso.test', ['Tasks.ReadWrite']));
  ro = graphClient(await tokenFor('lee.gu@contoso.test', ['Tasks.Read']));
  const lists = await ro.api('/me/todo/lists').get();
  defaultListId = lists.value.find(
    (l: { wellknownListName: string }) => l.wellknownListName === 'defaultList',
  ).id;
});
afterAll(async () => await sandbox.stop());

describe('task lists', () => {
  test('every user has the built-in "Tasks" list; lists are created, renamed and deleted', async () => {
    // §8.6: GET /me/todo/lists → {id, displayName, isOwner, isShared, wellknownListName}.
    const lists = await ro.api('/me/todo/lists').get();
    expect(lists.value).toContainEqual(
      expect.objectContaining({
        displayName: 'Tasks',
        wellknownListName: 'defaultList',
        isOwner: true,
        isShared: false,
      }),
    );
    const created = await rw.api('/me/todo/lists').post({ displayName: 'Groceries' });
    expect(created).toMatchObject({ displayName: 'Groceries', wellknownListName: 'none' });
    expect(created).not.toHaveProperty('changeKey');
    const renamed = await rw
      .api(`/me/todo/lists/${encodeURIComponent(created.id)}`)
      .patch({ displayName: 'Shopping' });
    expect(renamed.displayName).toBe('Shopping');
    await rw.api(tasksUrl(created.id)).post({ title: 'Milk' });
    await rw.api(`/me/todo/lists/${encodeURIComponent(created.id)}`).delete();
    const gone = await graphFailure(ro.api(tasksUrl(created.id)).get());
    expect(gone.statusCode).toBe(404);
    expect(gone.code).toBe('ErrorItemNotFound');
  });

  test('the well-known list cannot be deleted or renamed', async () => {
    // §8.6 "Well-known lists can't be deleted (observed)"; todoTaskList resource: built-in lists
    // cannot be renamed or deleted.
    const del = await graphFailure(rw.api(`/me/todo/lists/${encodeURIComponent(defaultListId)}`).delete());
    expect(del.statusCode).toBe(400);
    const rename = await graphFailure(
      rw.api(`/me/todo/lists/${encodeURIComponent(defaultListId)}`).patch({ displayName: 'Mine' }),
    );
    expect(rename.statusCode).toBe(400);
  });
});

describe('tasks', () => {
  test('a minimal task is created with the documented defaults (201)', async () => {
    // §8.6 created example: importance normal, isReminderOn false, status notStarted, empty text body.
    const t = await rw.api(tasksUrl(defaultListId)).post({ title: 'A new task' });
    expect(t).toMatchObject({
      importance: 'normal',
      isReminderOn: false,
      status: 'notStarted',
      title: 'A new task',
      body: { content: '', contentType: 'text' },
      categories: [],
    });
    expect(t['@odata.etag']).toMatch(/^W\//);
    expect(t).not.toHaveProperty('changeKey');
    expect(t).not.toHaveProperty('dueDateTime');
  });

  test('dueDateTime is date-only: the time is dropped and it returns as T00:00:00.0000000 UTC', async () => {
    // §8.6; https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/2136 and
    // microsoft-graph-docs#16991 (a time sent comes back as 00:00:00.0000000 UTC).
    const t = (await rw.api(tasksUrl(defaultListId)).post({
      title: 'Due with time',
      dueDateTime: { dateTime: '2027-03-01T15:45:00', timeZone: 'UTC' },
    })) as Task;
    expect(t.dueDateTime).toEqual({ dateTime: '2027-03-01T00:00:00.0000000', timeZone: 'UTC' });
    // Local midnight east of UTC is the previous day in UTC: the day shifts (why callers must send
    // the calendar date at midnight UTC).
    const shifted = (await rw.api(tasksUrl(defaultListId)).post({
      title: 'Due in Auckland',
      dueDateTime: { dateTime: '2027-03-01T00:00:00', timeZone: 'New Zealand Standard Time' },
    })) as Task;
    expect(shifted.dueDateTime?.dateTime).toBe('2027-02-28T00:00:00.0000000');
  });

  test('reminders keep their instant (returned in UTC); importance, categories and recurrence round-trip', async () => {
    const t = (await rw.api(tasksUrl(defaultListId)).post({
      title: 'Call the bank',
      importance: 'high',
      categories: ['Finance'],
      isReminderOn: true,
      reminderDateTime: { dateTime: '2027-03-01T09:00:00', timeZone: 'Europe/Berlin' },
      dueDateTime: { dateTime: '2027-03-01T00:00:00', timeZone: 'UTC' },
      recurrence: { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] } },
    })) as Task & { categories: string[]; recurrence: { pattern: { type: string } } };
    expect(t.reminderDateTime).toEqual({ dateTime: '2027-03-01T08:00:00.0000000', timeZone: 'UTC' });
    expect(t.importance).toBe('high');
    expect(t.categories).toEqual(['Finance']);
    expect(t.recurrence.pattern.type).toBe('weekly');
    const bad = await graphFailure(
      rw.api(tasksUrl(defaultListId)).post({ title: 'x', importance: 'urgent' }),
    );
    expect(bad.statusCode).toBe(400);
  });

  test('setting status completed stamps completedDateTime; reopening clears it', async () => {
    // §8.6 (observed): status completed stamps completedDateTime.
    const t = (await rw.api(tasksUrl(defaultListId)).post({ title: 'Finish me' })) as Task;
    const done = (await rw.api(taskUrl(defaultListId, t.id)).patch({ status: 'completed' })) as Task;
    expect(done.status).toBe('completed');
    expect(done.completedDateTime?.timeZone).toBe('UTC');
    const reopened = (await rw.api(taskUrl(defaultListId, t.id)).patch({ status: 'notStarted' })) as Task;
    expect(reopened).not.toHaveProperty('completedDateTime');
  });

  test('$filter on status and on the due date, with $skip paging', async () => {
    const list = await rw.api('/me/todo/lists').post({ displayName: 'Filtering' });
    for (let i = 1; i <= 12; i++) {
      await rw.api(tasksUrl(list.id)).post({
        title: `T${i}`,
        dueDateTime: { dateTime: `2027-04-${String(i).padStart(2, '0')}T00:00:00`, timeZone: 'UTC' },
        ...(i % 4 === 0 ? { status: 'completed' } : {}),
      });
    }
    const open = await ro.api(tasksUrl(list.id)).filter("status ne 'completed'").top(50).get();
    expect(open.value).toHaveLength(9);
    const range = await ro
      .api(tasksUrl(list.id))
      .filter(
        "dueDateTime/dateTime ge '2027-04-03T00:00:00' and dueDateTime/dateTime lt '2027-04-06T00:00:00'",
      )
      .get();
    expect(range.value.map((t: Task) => t.title)).toEqual(['T3', 'T4', 'T5']);
    const first = await ro.api(tasksUrl(list.id)).get();
    expect(first.value).toHaveLength(10);
    expect(first['@odata.nextLink']).toContain('$skip=10');
  });

  test('unknown lists and tasks answer 404 ErrorItemNotFound; a read-only token cannot write', async () => {
    const missingTask = await graphFailure(ro.api(taskUrl(defaultListId, 'AAMkAGnope')).get());
    expect(missingTask.statusCode).toBe(404);
    expect(missingTask.code).toBe('ErrorItemNotFound');
    const missingList = await graphFailure(rw.api(tasksUrl('AAMkAGnope')).post({ title: 'x' }));
    expect(missingList.statusCode).toBe(404);
    const denied = await graphFailure(ro.api(tasksUrl(defaultListId)).post({ title: 'x' }));
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe('ErrorAccessDenied');
    expect(denied.message).toContain('Tasks.ReadWrite');
  });

  test('delete answers 204', async () => {
    const t = (await rw.api(tasksUrl(defaultListId)).post({ title: 'Delete me' })) as Task;
    await rw.api(taskUrl(defaultListId, t.id)).delete();
    expect((await graphFailure(ro.api(taskUrl(defaultListId, t.id)).get())).statusCode).toBe(404);
  });
});

describe('checklist items and linked resources', () => {
  test('checklist items are added, checked and removed; $expand returns them with the task', async () => {
    const t = (await rw.api(tasksUrl(defaultListId)).post({
      title: 'Pack',
      checklistItems: [{ displayName: 'Passport' }],
    })) as Task;
    expect(t.checklistItems).toEqual([
      expect.objectContaining({ displayName: 'Passport', isChecked: false }),
    ]);
    const item = await rw
      .api(`${taskUrl(defaultListId, t.id)}/checklistItems`)
      .post({ displayName: 'Charger' });
    const checked = await rw
      .api(`${taskUrl(defaultListId, t.id)}/checklistItems/${encodeURIComponent(item.id)}`)
      .patch({ isChecked: true });
    expect(checked).toMatchObject({ displayName: 'Charger', isChecked: true });
    expect(checked.checkedDateTime).toEqual(expect.any(String));
    const plain = await ro.api(taskUrl(defaultListId, t.id)).get();
    expect(plain).not.toHaveProperty('checklistItems');
    const expanded = (await ro.api(taskUrl(defaultListId, t.id)).expand('checklistItems').get()) as Task;
    expect(expanded.checklistItems?.map((c) => c.displayName)).toEqual(['Passport', 'Charger']);
    await rw.api(`${taskUrl(defaultListId, t.id)}/checklistItems/${encodeURIComponent(item.id)}`).delete();
    const listed = await ro.api(`${taskUrl(defaultListId, t.id)}/checklistItems`).get();
    expect(listed.value).toHaveLength(1);
    const missing = await graphFailure(
      ro.api(`${taskUrl(defaultListId, t.id)}/checklistItems/${encodeURIComponent(item.id)}`).get(),
    );
    expect(missing.statusCode).toBe(404);
  });

  test('linked resources tie a task to an email or a file', async () => {
    const t = (await rw.api(tasksUrl(defaultListId)).post({ title: 'Answer Pavel' })) as Task;
    const link = await rw.api(`${taskUrl(defaultListId, t.id)}/linkedResources`).post({
      webUrl: 'https://outlook.office.com/mail/id/AAMkAGmsg',
      applicationName: 'Outlook',
      displayName: 'Re: pricing',
      externalId: 'AAMkAGmsg',
    });
    expect(link).toMatchObject({ applicationName: 'Outlook', externalId: 'AAMkAGmsg' });
    const listed = await ro.api(`${taskUrl(defaultListId, t.id)}/linkedResources`).get();
    expect(listed.value).toEqual([expect.objectContaining({ id: link.id, webUrl: link.webUrl })]);
    const bad = await graphFailure(
      rw.api(`${taskUrl(defaultListId, t.id)}/linkedResources`).post({ color: 'red' }),
    );
    expect(bad.statusCode).toBe(400);
  });
});

describe('task delta (per list)', () => {
  test('initial round, then changed tasks and @removed deletions', async () => {
    // §5.2 (todotask-delta.md): GET /me/todo/lists/{id}/tasks/delta; deletions as @removed.
    const client = graphClient(await tokenFor('adele.vance@contoso.test', ['Tasks.ReadWrite']));
    const lists = await client.api('/me/todo/lists').get();
    const listId = lists.value.find(
      (l: { wellknownListName: string }) => l.wellknownListName === 'defaultList',
    ).id;
    let page = await client.api(`${tasksUrl(listId)}/delta`).get();
    const initial: Task[] = [...page.value];
    while (page['@odata.nextLink']) {
      page = await client.api(page['@odata.nextLink']).get();
      initial.push(...page.value);
    }
    expect(initial.map((t) => t.title)).toContain('Review Q3 roadmap');
    const [first, second] = initial;
    await client.api(taskUrl(listId, first!.id)).patch({ status: 'completed' });
    await client.api(taskUrl(listId, second!.id)).delete();
    const changes = await client.api(page['@odata.deltaLink']).get();
    const byId = new Map(changes.value.map((v: { id: string }) => [v.id, v]));
    expect(byId.get(first!.id)).toMatchObject({ status: 'completed' });
    expect(byId.get(second!.id)).toEqual({ id: second!.id, '@removed': { reason: 'deleted' } });
    expect(changes['@odata.deltaLink']).toContain('$deltatoken=');
  });

  test('an expired token answers 410 SyncStateNotFound', async () => {
    // §5.1 item 7: To Do tokens have no fixed lifetime; expired → 410 SyncStateNotFound.
    let page = await ro.api(`${tasksUrl(defaultListId)}/delta`).get();
    while (page['@odata.nextLink']) page = await ro.api(page['@odata.nextLink']).get();
    await controlCall(sandbox, 'POST', '/delta/invalidate', {
      userId: 'lee.gu@contoso.test',
      collection: `todoTasks:${defaultListId}`,
    });
    const err = await graphFailure(ro.api(page['@odata.deltaLink']).get());
    expect(err.statusCode).toBe(410);
    expect(err.code).toBe('SyncStateNotFound');
  });
});
