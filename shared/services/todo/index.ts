/**
 * Microsoft To Do actions (reference §8.6): task lists; tasks with calendar-date due dates,
 * reminders, importance, categories and recurrence; complete and reopen; checklist items; linked
 * resources that tie a task to an email or a file.
 */
import { deletedOf, pageOf } from '../../actions/output';
import { z } from 'zod';
import { seg } from '../../graph/client';
import type { GraphError } from '../../graph/errors';
import { odataString } from '../../graph/odata';
import { Problem } from '../../http/problem';
import { decodeOrRaw } from '../../http/url';
import { decodeCursor, toPage } from '../../actions/cursor';
import { getConfig } from '../../config';
import { cacheGet, cacheSet } from '../../actions/cache';
import { defineAction } from '../../actions/registry';
import {
  dueToGraph,
  GraphList,
  isoDate,
  needsDue,
  recurrenceInput,
  recurrenceToGraph,
  reminderToGraph,
  TASK_IMPORTANCE,
  TASK_STATUSES,
  toChecklistItem,
  toLink,
  toList,
  toTask,
  TaskListOut,
  TaskOut,
  ChecklistItemOut,
  LinkedResourceOut,
} from './shape';
import type { ActionContext } from '../../actions/types';

const READ = ['Tasks.Read'];
const WRITE = ['Tasks.ReadWrite'];

const id = (what: string) => z.string().min(1).max(1024).describe(what);
const listId = id('The task list id (from todo.listLists).');
const taskId = id('The task id (task ids belong to their list).');
const top = z.number().int().min(1).max(100).optional().describe('Page size, 1–100 (default 25).');
const cursor = z.string().max(4096).optional().describe('nextCursor of the previous page, to continue.');
const listName = z.string().trim().min(1).max(255).describe('The list name.');

const listPath = (list: string) => `/me/todo/lists/${seg(list)}`;
const taskPath = (list: string, task: string) => `${listPath(list)}/tasks/${seg(task)}`;
const lit = odataString;

/** A refused change to a built-in list (Tasks, Flagged emails), said plainly. */
function todoError(err: GraphError): Problem | undefined {
  if (err.status === 400 && /well-known|wellknown|default/i.test(err.message)) {
    return new Problem(
      'invalid_input',
      'Built-in To Do lists (such as "Tasks") cannot be renamed or deleted.',
      {
        graphCode: err.code,
        ...(err.requestId ? { graphRequestId: err.requestId } : {}),
      },
    );
  }
  return undefined;
}

/** The list to use: the given one, or the user's built-in "Tasks" list (wellknownListName defaultList). */
async function resolveListId(given: string | undefined, ctx: ActionContext): Promise<string> {
  if (given) return given;
  // The built-in list can be neither deleted nor replaced: its id is cached per user, so an action
  // on the default list costs one Graph request, not two. Its tag is its own: a change
  // notification about tasks or lists (which drops the `todo` and `todoLists` entries) cannot
  // change it, so only the TTL ends it.
  const owner = { userId: ctx.userId, account: ctx.connection.homeAccountId };
  const cached = cacheGet(owner, 'todo.defaultList', null);
  if (typeof cached === 'string') return cached;
  const id = await findDefaultList(ctx);
  cacheSet(owner, 'todo.defaultList', null, 'todoDefaultList', id, getConfig().CACHE_TTL_SECONDS);
  return id;
}

async function findDefaultList(ctx: ActionContext): Promise<string> {
  let url: string | undefined = '/me/todo/lists';
  for (let page = 0; url && page < 20; page++) {
    const res: { body: unknown } = await ctx.graph({ method: 'GET', url });
    const body = res.body as { value?: unknown[]; '@odata.nextLink'?: string };
    const found = (body.value ?? [])
      .map((l) => GraphList.parse(l))
      .find((l) => l.wellknownListName === 'defaultList');
    if (found) return found.id;
    url = body['@odata.nextLink'];
  }
  throw new Problem('not_found', 'The user has no default To Do list ("Tasks").');
}

const linkFields = z
  .object({
    kind: z
      .enum(['email', 'file', 'other'])
      .optional()
      .describe(
        'What the task is tied to: email (applicationName defaults to Outlook), file (OneDrive) or other.',
      ),
    webUrl: z.url().max(2048).describe('Link that opens the item (a message webLink, a file webUrl).'),
    displayName: z
      .string()
      .max(255)
      .optional()
      .describe('Title shown for the link (e.g. the email subject or file name).'),
    externalId: z
      .string()
      .max(1024)
      .optional()
      .describe('The item id in its app (message id, driveItem id).'),
    applicationName: z
      .string()
      .max(255)
      .optional()
      .describe('The app the item lives in (default from kind).'),
  })
  .strict();

function linkBody(link: z.output<typeof linkFields>): Record<string, unknown> {
  const app =
    link.applicationName ??
    (link.kind === 'email' ? 'Outlook' : link.kind === 'file' ? 'OneDrive' : undefined);
  return {
    webUrl: link.webUrl,
    ...(app ? { applicationName: app } : {}),
    ...(link.displayName !== undefined ? { displayName: link.displayName } : {}),
    ...(link.externalId !== undefined ? { externalId: link.externalId } : {}),
  };
}

// ---------------------------------------------------------------- lists

// https://learn.microsoft.com/graph/api/todo-list-lists
defineAction({
  id: 'todo.listLists',
  service: 'todo',
  summary: 'List To Do task lists',
  description:
    'Lists the user\'s Microsoft To Do lists: {id, name, isDefault, wellKnownName, isOwner, isShared}. The built-in "Tasks" list has isDefault true. Use a list id with the task actions.',
  input: z.object({ top, cursor }).strict(),
  output: pageOf(TaskListOut),
  feature: 'todo',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  toGraph: (input) =>
    input.cursor
      ? { method: 'GET', url: decodeCursor('todo.listLists', input.cursor) }
      : { method: 'GET', url: '/me/todo/lists', query: { $top: input.top ?? 25 } },
  fromGraph: (res) => toPage('todo.listLists', res.body, toList),
});

// https://learn.microsoft.com/graph/api/todo-post-lists: 201.
defineAction({
  id: 'todo.createList',
  service: 'todo',
  summary: 'Create a To Do task list',
  description: 'Creates a task list with the given name. Returns the list {id, name, isDefault, ...}.',
  input: z.object({ name: listName }).strict(),
  output: TaskListOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input) => ({ method: 'POST', url: '/me/todo/lists', body: { displayName: input.name } }),
  fromGraph: (res, _input, ctx) => {
    const list = toList(res.body);
    ctx.targets.push(list.id);
    return list;
  },
});

// https://learn.microsoft.com/graph/api/todotasklist-update
defineAction({
  id: 'todo.renameList',
  service: 'todo',
  summary: 'Rename a To Do task list',
  description: 'Renames a task list. Built-in lists (such as "Tasks") cannot be renamed. Returns the list.',
  input: z.object({ listId, name: listName }).strict(),
  output: TaskListOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: true,
  toGraph: (input) => ({ method: 'PATCH', url: listPath(input.listId), body: { displayName: input.name } }),
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.listId);
    return toList(res.body);
  },
  mapError: todoError,
});

// https://learn.microsoft.com/graph/api/todotasklist-delete: 204.
defineAction({
  id: 'todo.deleteList',
  service: 'todo',
  summary: 'Delete a To Do task list and its tasks',
  description:
    'Deletes a task list with all its tasks. Built-in lists (such as "Tasks") cannot be deleted. Returns {listId, deleted: true}.',
  input: z.object({ listId }).strict(),
  output: deletedOf('listId'),
  feature: 'todo',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: listPath(input.listId) }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.listId);
    return { listId: input.listId, deleted: true };
  },
  mapError: todoError,
});

// ---------------------------------------------------------------- tasks

const listTasksInput = z
  .object({
    listId: listId.optional().describe('The task list id; the built-in "Tasks" list when omitted.'),
    status: z
      .array(z.enum(TASK_STATUSES))
      .min(1)
      .max(TASK_STATUSES.length)
      .optional()
      .describe('Only tasks in one of these states (e.g. ["notStarted","inProgress"] for open tasks).'),
    dueFrom: isoDate.optional().describe('Only tasks due on or after this date (YYYY-MM-DD).'),
    dueTo: isoDate.optional().describe('Only tasks due on or before this date (YYYY-MM-DD).'),
    top,
    cursor,
  })
  .strict();

/** The day after a YYYY-MM-DD date (an inclusive upper bound becomes `lt` the next midnight). */
function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// https://learn.microsoft.com/graph/api/todotasklist-list-tasks
defineAction({
  id: 'todo.listTasks',
  service: 'todo',
  summary: 'List To Do tasks (filter by status and due date)',
  description:
    'Lists the tasks of a list (the built-in "Tasks" list by default), optionally only some states (notStarted, inProgress, completed, waitingOnOthers, deferred) and a due-date range (calendar dates, inclusive). Returns a page of tasks {id, listId, title, status, completed, importance, due (YYYY-MM-DD), reminderAt, categories, recurrence, completedAt, ...} and nextCursor when more exist.',
  input: listTasksInput,
  output: pageOf(TaskOut),
  feature: 'todo',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    if (input.cursor) {
      const url = decodeCursor('todo.listTasks', input.cursor);
      const list = decodeOrRaw(/\/todo\/lists\/([^/]+)\/tasks/.exec(new URL(url).pathname)?.[1] ?? '');
      const res = await ctx.graph({ method: 'GET', url });
      return toPage('todo.listTasks', res.body, (t) => toTask(t, list, ctx.timezone));
    }
    const list = await resolveListId(input.listId, ctx);
    const filters: string[] = [];
    if (input.status) filters.push(`(${input.status.map((s) => `status eq ${lit(s)}`).join(' or ')})`);
    // dueDateTime holds midnight UTC of the due date (reference §8.6).
    if (input.dueFrom) filters.push(`dueDateTime/dateTime ge ${lit(`${input.dueFrom}T00:00:00`)}`);
    if (input.dueTo) filters.push(`dueDateTime/dateTime lt ${lit(`${nextDay(input.dueTo)}T00:00:00`)}`);
    const query: Record<string, string | number> = { $top: input.top ?? 25 };
    if (filters.length) query.$filter = filters.join(' and ');
    const res = await ctx.graph({ method: 'GET', url: `${listPath(list)}/tasks`, query });
    ctx.targets.push(list);
    return toPage('todo.listTasks', res.body, (t) => toTask(t, list, ctx.timezone));
  },
});

// https://learn.microsoft.com/graph/api/todotask-get, todotask-list-linkedresources
defineAction({
  id: 'todo.getTask',
  service: 'todo',
  summary: 'Get one To Do task with its checklist and links',
  description:
    'Returns one task with its body, due date (YYYY-MM-DD), reminder, recurrence, checklist items {id, text, checked} and linked resources {id, webUrl, applicationName, displayName, externalId}.',
  input: z.object({ listId, taskId }).strict(),
  output: TaskOut,
  feature: 'todo',
  scopes: READ,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.taskId);
    const [task, links] = await Promise.all([
      ctx.graph({
        method: 'GET',
        url: taskPath(input.listId, input.taskId),
        query: { $expand: 'checklistItems' },
      }),
      ctx.graph({ method: 'GET', url: `${taskPath(input.listId, input.taskId)}/linkedResources` }),
    ]);
    const out = toTask(task.body, input.listId, ctx.timezone);
    out.checklist ??= [];
    out.links = ((links.body as { value?: unknown[] }).value ?? []).map(toLink);
    return out;
  },
});

const taskFields = {
  title: z.string().trim().min(1).max(255).describe('The task title.'),
  body: z.string().max(32000).describe('Notes of the task.'),
  bodyType: z.enum(['text', 'html']).describe('Format of body (default text).'),
  importance: z.enum(TASK_IMPORTANCE).describe('low, normal (default) or high.'),
  categories: z.array(z.string().min(1).max(255)).max(25).describe('Outlook categories (replaces the list).'),
  due: isoDate.describe('Due date, a calendar date YYYY-MM-DD (the same date whatever the time zone).'),
  reminderAt: z
    .string()
    .max(40)
    .describe(
      'Reminder time, ISO 8601: with an offset ("2027-03-01T09:00:00+13:00") or a local time read in the caller\'s time zone (X-Timezone header).',
    ),
};

const createTaskInput = z
  .object({
    listId: listId
      .optional()
      .describe('The list to add the task to; the built-in "Tasks" list when omitted.'),
    title: taskFields.title,
    body: taskFields.body.optional(),
    bodyType: taskFields.bodyType.optional(),
    due: taskFields.due.optional(),
    reminderAt: taskFields.reminderAt.optional(),
    importance: taskFields.importance.optional(),
    categories: taskFields.categories.optional(),
    recurrence: recurrenceInput.optional().describe('Repeat the task; needs due (the series starts on it).'),
    checklist: z
      .array(z.string().trim().min(1).max(255))
      .max(100)
      .optional()
      .describe('Checklist item texts.'),
    links: z
      .array(z.lazy(() => linkFields))
      .max(20)
      .optional()
      .describe('Linked resources, e.g. the email or file the task is about.'),
  })
  .strict();

function taskBody(
  input: Partial<
    Record<'title' | 'body' | 'bodyType' | 'importance' | 'due' | 'reminderAt', string | null>
  > & {
    categories?: string[];
    recurrence?: z.output<typeof recurrenceInput> | null;
  },
  ctx: ActionContext,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.title) body.title = input.title;
  if (typeof input.body === 'string')
    body.body = { content: input.body, contentType: input.bodyType ?? 'text' };
  if (input.importance) body.importance = input.importance;
  if (input.categories) body.categories = input.categories;
  if (input.due !== undefined) body.dueDateTime = input.due === null ? null : dueToGraph(input.due);
  if (input.reminderAt !== undefined) {
    if (input.reminderAt === null) {
      body.isReminderOn = false;
      body.reminderDateTime = null;
    } else {
      body.isReminderOn = true;
      body.reminderDateTime = reminderToGraph(input.reminderAt, ctx.timezone);
    }
  }
  if (input.recurrence !== undefined) {
    if (input.recurrence === null) body.recurrence = null;
    else if (!input.due) throw needsDue();
    else body.recurrence = recurrenceToGraph(input.recurrence, input.due);
  }
  return body;
}

// https://learn.microsoft.com/graph/api/todotasklist-post-tasks: 201; linkedResources inline.
defineAction({
  id: 'todo.createTask',
  service: 'todo',
  summary: 'Create a To Do task',
  description:
    'Creates a task in a list (the built-in "Tasks" list by default) with title, notes, due date (YYYY-MM-DD, a calendar date), reminder time, importance, categories, recurrence (needs a due date), checklist items and linked resources (the email or file it is about). Returns the created task.',
  input: createTaskInput,
  output: TaskOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  run: async (input, ctx) => {
    const body = taskBody(input, ctx);
    const list = await resolveListId(input.listId, ctx);
    if (input.checklist) body.checklistItems = input.checklist.map((displayName) => ({ displayName }));
    if (input.links) body.linkedResources = input.links.map(linkBody);
    const res = await ctx.graph({ method: 'POST', url: `${listPath(list)}/tasks`, body });
    const task = toTask(res.body, list, ctx.timezone);
    ctx.targets.push(list, task.id);
    return task;
  },
});

const updateTaskInput = z
  .object({
    listId,
    taskId,
    title: taskFields.title.optional(),
    body: taskFields.body.optional(),
    bodyType: taskFields.bodyType.optional(),
    due: taskFields.due.nullable().optional().describe('New due date (YYYY-MM-DD); null removes it.'),
    reminderAt: taskFields.reminderAt
      .nullable()
      .optional()
      .describe('New reminder time (see createTask); null turns it off.'),
    importance: taskFields.importance.optional(),
    categories: taskFields.categories.optional(),
    status: z.enum(TASK_STATUSES).optional().describe('New state; completed stamps completedAt.'),
    recurrence: recurrenceInput
      .nullable()
      .optional()
      .describe('New repeat rule (give due with it); null stops repeating.'),
  })
  .strict();

// https://learn.microsoft.com/graph/api/todotask-update: 200.
defineAction({
  id: 'todo.updateTask',
  service: 'todo',
  summary: 'Update a To Do task',
  description:
    'Changes the given fields of a task (title, notes, due date, reminder, importance, categories, status, recurrence); fields not named stay as they are. null clears the due date, the reminder or the recurrence. Returns the updated task.',
  input: updateTaskInput,
  output: TaskOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: true,
  toGraph: (input, ctx) => {
    const body = taskBody(input, ctx);
    if (input.status) body.status = input.status;
    if (Object.keys(body).length === 0) {
      throw new Problem('invalid_input', 'Name at least one field to change.', {
        errors: [{ field: '(body)', message: 'no field to change' }],
      });
    }
    return { method: 'PATCH', url: taskPath(input.listId, input.taskId), body };
  },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.taskId);
    return toTask(res.body, input.listId, ctx.timezone);
  },
});

for (const [name, status, summary] of [
  ['completeTask', 'completed', 'Mark a To Do task completed'],
  ['reopenTask', 'notStarted', 'Reopen a completed To Do task'],
] as const) {
  // https://learn.microsoft.com/graph/api/todotask-update: status completed stamps completedDateTime (§8.6).
  defineAction({
    id: `todo.${name}`,
    service: 'todo',
    summary,
    description:
      status === 'completed'
        ? 'Marks a task completed (Microsoft To Do records when: completedAt). Returns the task.'
        : 'Sets a task back to notStarted and clears its completion time. Returns the task.',
    input: z.object({ listId, taskId }).strict(),
    output: TaskOut,
    feature: 'todo',
    scopes: WRITE,
    kind: 'write',
    idempotent: true,
    toGraph: (input) => ({ method: 'PATCH', url: taskPath(input.listId, input.taskId), body: { status } }),
    fromGraph: (res, input, ctx) => {
      ctx.targets.push(input.taskId);
      return toTask(res.body, input.listId, ctx.timezone);
    },
  });
}

// https://learn.microsoft.com/graph/api/todotask-delete: 204.
defineAction({
  id: 'todo.deleteTask',
  service: 'todo',
  summary: 'Delete a To Do task',
  description: 'Deletes a task with its checklist and links. Returns {taskId, deleted: true}.',
  input: z.object({ listId, taskId }).strict(),
  output: deletedOf('taskId'),
  feature: 'todo',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({ method: 'DELETE', url: taskPath(input.listId, input.taskId) }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.taskId);
    return { taskId: input.taskId, deleted: true };
  },
});

// ---------------------------------------------------------------- checklist items

const itemId = id('The checklist item id.');
const itemText = z.string().trim().min(1).max(255).describe('The checklist item text.');

// https://learn.microsoft.com/graph/api/todotask-post-checklistitems: 201.
defineAction({
  id: 'todo.addChecklistItem',
  service: 'todo',
  summary: 'Add a checklist item to a task',
  description: "Adds a step to a task's checklist. Returns {id, text, checked, checkedAt}.",
  input: z
    .object({
      listId,
      taskId,
      text: itemText,
      checked: z.boolean().optional().describe('Already done (default false).'),
    })
    .strict(),
  output: ChecklistItemOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input) => ({
    method: 'POST',
    url: `${taskPath(input.listId, input.taskId)}/checklistItems`,
    body: { displayName: input.text, ...(input.checked !== undefined ? { isChecked: input.checked } : {}) },
  }),
  fromGraph: (res, input, ctx) => {
    const item = toChecklistItem(res.body);
    ctx.targets.push(input.taskId, item.id);
    return item;
  },
});

// https://learn.microsoft.com/graph/api/checklistitem-update
defineAction({
  id: 'todo.updateChecklistItem',
  service: 'todo',
  summary: 'Check, uncheck or rename a checklist item',
  description:
    "Changes a checklist item's text and/or checked state. Returns {id, text, checked, checkedAt}.",
  input: z
    .object({
      listId,
      taskId,
      itemId,
      text: itemText.optional(),
      checked: z.boolean().optional().describe('true: done; false: not done.'),
    })
    .strict(),
  output: ChecklistItemOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: true,
  toGraph: (input) => {
    if (input.text === undefined && input.checked === undefined) {
      throw new Problem('invalid_input', 'Give text or checked.', {
        errors: [{ field: '(body)', message: 'no field to change' }],
      });
    }
    return {
      method: 'PATCH',
      url: `${taskPath(input.listId, input.taskId)}/checklistItems/${seg(input.itemId)}`,
      body: {
        ...(input.text !== undefined ? { displayName: input.text } : {}),
        ...(input.checked !== undefined ? { isChecked: input.checked } : {}),
      },
    };
  },
  fromGraph: (res, input, ctx) => {
    ctx.targets.push(input.taskId, input.itemId);
    return toChecklistItem(res.body);
  },
});

// https://learn.microsoft.com/graph/api/checklistitem-delete: 204.
defineAction({
  id: 'todo.deleteChecklistItem',
  service: 'todo',
  summary: 'Remove a checklist item',
  description: "Removes a step from a task's checklist. Returns {itemId, deleted: true}.",
  input: z.object({ listId, taskId, itemId }).strict(),
  output: deletedOf('itemId'),
  feature: 'todo',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({
    method: 'DELETE',
    url: `${taskPath(input.listId, input.taskId)}/checklistItems/${seg(input.itemId)}`,
  }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.taskId, input.itemId);
    return { itemId: input.itemId, deleted: true };
  },
});

// ---------------------------------------------------------------- linked resources

// https://learn.microsoft.com/graph/api/todotask-post-linkedresources: 201.
defineAction({
  id: 'todo.linkResource',
  service: 'todo',
  summary: 'Tie a task to an email, a file or another item',
  description:
    'Adds a linked resource to a task: the email (webUrl = the message webLink, externalId = the message id, kind email) or file (webUrl and id of the driveItem, kind file) the task is about. Returns {id, webUrl, applicationName, displayName, externalId}.',
  input: linkFields.extend({ listId, taskId }).strict(),
  output: LinkedResourceOut,
  feature: 'todo',
  scopes: WRITE,
  kind: 'write',
  idempotent: false,
  successStatus: 201,
  toGraph: (input) => ({
    method: 'POST',
    url: `${taskPath(input.listId, input.taskId)}/linkedResources`,
    body: linkBody(input),
  }),
  fromGraph: (res, input, ctx) => {
    const link = toLink(res.body);
    ctx.targets.push(input.taskId, link.id);
    return link;
  },
});

// https://learn.microsoft.com/graph/api/linkedresource-delete: 204.
defineAction({
  id: 'todo.unlinkResource',
  service: 'todo',
  summary: 'Remove a linked resource from a task',
  description:
    'Removes a linked resource from a task (the email or file itself is untouched). Returns {linkId, deleted: true}.',
  input: z.object({ listId, taskId, linkId: id('The linked resource id.') }).strict(),
  output: deletedOf('linkId'),
  feature: 'todo',
  scopes: WRITE,
  kind: 'destructive',
  idempotent: true,
  toGraph: (input) => ({
    method: 'DELETE',
    url: `${taskPath(input.listId, input.taskId)}/linkedResources/${seg(input.linkId)}`,
  }),
  fromGraph: (_res, input, ctx) => {
    ctx.targets.push(input.taskId, input.linkId);
    return { linkId: input.linkId, deleted: true };
  },
});
