/**
 * Graph Microsoft To Do: task lists, tasks, checklist items and linked resources (reference §8.6,
 * §5.2; https://learn.microsoft.com/graph/api/resources/todo-overview).
 *
 * Collections in the change-tracking store (stable names; change notifications build on them):
 * - `todoLists`: the user's task lists. Every user has the well-known `defaultList` ("Tasks"),
 *   created on first use; well-known lists can't be renamed or deleted (reference §8.6; todoTaskList
 *   resource: built-in lists "cannot be renamed or deleted").
 * - `todoTasks:{listId}`: the tasks of one list (delta is per list, todotask-delta.md). Checklist
 *   items and linked resources are kept as nested arrays on their task (`checklistItems`,
 *   `linkedResources`), so changing one is an update of the task (one tracked change, one
 *   notification) and a deleted task takes them along. They are returned only through their own
 *   routes or `$expand`.
 *
 * Errors use Outlook's codes: unknown ids 404 `ErrorItemNotFound`, bad bodies 400.
 */
import type { Sandbox } from '../../context';
import { empty, type SandboxResponse } from '../../http';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { seededId } from '../contacts';
import { deltaResponse } from '../delta';
import { badRequest, GraphHttpError, notFound } from '../errors';
import { applySelect, parseODataQuery } from '../odata';
import { collection } from '../paging';
import type { ChangeStore, CollectionRef, Entity } from '../store';
import {
  checklistPatch,
  expansions,
  linkedResourcePatch,
  newChecklistItem,
  newLinkedResource,
  renderList,
  renderTask,
  taskPatch,
} from './shape';

export const TODO_LISTS = 'todoLists';
export const todoTasksCollection = (listId: string): string => `todoTasks:${listId}`;

// Tasks.Read(Write) delegated; Tasks.Read(Write).All as application permissions (reference §8.6).
const READ = { anyOf: ['Tasks.Read'], app: ['Tasks.Read.All', 'Tasks.ReadWrite.All'] };
const WRITE = { anyOf: ['Tasks.ReadWrite'], app: ['Tasks.ReadWrite.All'] };

function listsRef(store: ChangeStore, userId: string): CollectionRef {
  return store.collection(userId, TODO_LISTS, { etag: 'outlook' });
}

function tasksRef(store: ChangeStore, userId: string, listId: string): CollectionRef {
  return store.collection(userId, todoTasksCollection(listId), { etag: 'outlook' });
}

/** The user's built-in "Tasks" list (`wellknownListName: defaultList`), created on first use. */
export function defaultTodoList(store: ChangeStore, userId: string): Entity {
  const ref = listsRef(store, userId);
  const existing = store.list(ref).find((l) => l.wellknownListName === 'defaultList');
  if (existing) return existing;
  return store.insert(ref, {
    id: seededId(`${userId}/todoLists/defaultList`, 'AAMkAGtl'),
    displayName: 'Tasks',
    isOwner: true,
    isShared: false,
    wellknownListName: 'defaultList',
  });
}

function findList(ctx: GraphCtx, listId: string): Entity {
  const store = ctx.graph.store;
  defaultTodoList(store, ctx.user!.id);
  const list = store.get(listsRef(store, ctx.user!.id), listId);
  if (!list) throw notFound('outlook');
  return list;
}

function findTask(ctx: GraphCtx): { list: Entity; ref: CollectionRef; task: Entity } {
  const list = findList(ctx, ctx.params.listId!);
  const ref = tasksRef(ctx.graph.store, ctx.user!.id, list.id);
  const task = ctx.graph.store.get(ref, ctx.params.taskId!);
  if (!task) throw notFound('outlook');
  return { list, ref, task };
}

function listContext(ctx: GraphCtx, suffix: string): string {
  return `users('${ctx.user!.id}')/todo/lists${suffix}`;
}

function taskContext(ctx: GraphCtx, listId: string): string {
  return listContext(ctx, `('${listId}')/tasks/$entity`);
}

/** A task GET/PATCH answer honours `$select` and `$expand` like the collection does. */
function taskEntity(ctx: GraphCtx, task: Entity, listId: string, status = 200): SandboxResponse {
  const q = parseODataQuery(ctx.query, 'outlook');
  const body = applySelect(renderTask(task, expansions(ctx.query)), q.select);
  return entityResponse(ctx, body, { status, context: taskContext(ctx, listId) });
}

function wellKnownError(action: 'deleted' | 'renamed'): GraphHttpError {
  // Built-in lists "cannot be renamed or deleted" (todoTaskList resource; reference §8.6 "observed").
  return badRequest('outlook', `Well-known lists cannot be ${action}.`);
}

// ---------------------------------------------------------------- nested items (checklist, links)

type NestedKey = 'checklistItems' | 'linkedResources';

function nestedItems(task: Entity, key: NestedKey): Array<Record<string, unknown> & { id: string }> {
  return (task[key] as Array<Record<string, unknown> & { id: string }> | undefined) ?? [];
}

function installNested(sandbox: Sandbox, key: NestedKey): void {
  const base = `/me/todo/lists/:listId/tasks/:taskId/${key}`;
  const create = (body: unknown, now: number) =>
    key === 'checklistItems' ? newChecklistItem(body, now) : newLinkedResource(body);
  const patchOf = (body: unknown, now: number) =>
    key === 'checklistItems' ? checklistPatch(body, now) : linkedResourcePatch(body);
  const find = (ctx: GraphCtx) => {
    const found = findTask(ctx);
    const item = nestedItems(found.task, key).find((i) => i.id === ctx.params.itemId);
    if (!item) throw notFound('outlook');
    return { ...found, item };
  };
  const context = (ctx: GraphCtx, listId: string, taskId: string) =>
    listContext(ctx, `('${listId}')/tasks('${taskId}')/${key}/$entity`);

  graphRoute(sandbox, 'GET', base, { scopes: READ }, (ctx) => {
    const { task } = findTask(ctx);
    return collection(ctx, nestedItems(task, key), { kind: 'outlook', supports: { count: true } });
  });
  graphRoute(sandbox, 'POST', base, { scopes: WRITE }, async (ctx) => {
    const { list, ref, task } = findTask(ctx);
    const item = create(await ctx.json(), ctx.sandbox.now());
    ctx.graph.store.update(ref, task.id, { [key]: [...nestedItems(task, key), item] });
    return entityResponse(ctx, item, { status: 201, context: context(ctx, list.id, task.id) });
  });
  graphRoute(sandbox, 'GET', `${base}/:itemId`, { scopes: READ }, (ctx) => {
    const { list, task, item } = find(ctx);
    return entityResponse(ctx, item, { context: context(ctx, list.id, task.id) });
  });
  graphRoute(sandbox, 'PATCH', `${base}/:itemId`, { scopes: WRITE }, async (ctx) => {
    const { list, ref, task, item } = find(ctx);
    const patch = patchOf(await ctx.json(), ctx.sandbox.now());
    const next: Record<string, unknown> & { id: string } = { ...item, ...patch };
    for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
    ctx.graph.store.update(ref, task.id, {
      [key]: nestedItems(task, key).map((i) => (i.id === item.id ? next : i)),
    });
    return entityResponse(ctx, next, { context: context(ctx, list.id, task.id) });
  });
  graphRoute(sandbox, 'DELETE', `${base}/:itemId`, { scopes: WRITE }, (ctx) => {
    const { ref, task, item } = find(ctx);
    ctx.graph.store.update(ref, task.id, { [key]: nestedItems(task, key).filter((i) => i.id !== item.id) });
    return empty(204);
  });
}

// ---------------------------------------------------------------- routes

export function installTodo(sandbox: Sandbox): void {
  // ---- lists (literal routes before :param routes)
  graphRoute(sandbox, 'GET', '/me/todo/lists/delta', { scopes: READ }, (ctx) => {
    defaultTodoList(ctx.graph.store, ctx.user!.id);
    return deltaResponse(ctx, listsRef(ctx.graph.store, ctx.user!.id), {
      style: 'outlook',
      render: (l) => renderList(l),
      context: 'Collection(todoTaskList)',
    });
  });

  graphRoute(sandbox, 'GET', '/me/todo/lists', { scopes: READ }, (ctx) => {
    const store = ctx.graph.store;
    defaultTodoList(store, ctx.user!.id);
    return collection(ctx, store.list(listsRef(store, ctx.user!.id)), {
      kind: 'outlook',
      render: renderList,
      context: listContext(ctx, ''),
    });
  });

  graphRoute(sandbox, 'POST', '/me/todo/lists', { scopes: WRITE }, async (ctx) => {
    const body = await ctx.json<{ displayName?: unknown }>();
    if (typeof body?.displayName !== 'string' || !body.displayName.trim()) {
      throw badRequest('outlook', 'The list displayName is required.');
    }
    const store = ctx.graph.store;
    defaultTodoList(store, ctx.user!.id);
    const created = store.insert(listsRef(store, ctx.user!.id), {
      displayName: body.displayName,
      isOwner: true,
      isShared: false,
      wellknownListName: 'none',
    });
    return entityResponse(ctx, renderList(created), { status: 201, context: listContext(ctx, '/$entity') });
  });

  // ---- tasks of a list
  // todotask-delta.md: per list; `$select`, `$top`, `Prefer: odata.maxpagesize`; removals as @removed.
  graphRoute(sandbox, 'GET', '/me/todo/lists/:listId/tasks/delta', { scopes: READ }, (ctx) => {
    const list = findList(ctx, ctx.params.listId!);
    return deltaResponse(ctx, tasksRef(ctx.graph.store, ctx.user!.id, list.id), {
      style: 'outlook',
      render: (t, query) => renderTask(t, expansions(query)),
      context: 'Collection(todoTask)',
    });
  });

  graphRoute(sandbox, 'GET', '/me/todo/lists/:listId/tasks', { scopes: READ }, (ctx) => {
    const list = findList(ctx, ctx.params.listId!);
    const expand = expansions(ctx.query);
    const store = ctx.graph.store;
    return collection(ctx, store.list(tasksRef(store, ctx.user!.id, list.id)), {
      kind: 'outlook',
      render: (t) => renderTask(t, expand),
      context: listContext(ctx, `('${list.id}')/tasks`),
    });
  });

  graphRoute(sandbox, 'POST', '/me/todo/lists/:listId/tasks', { scopes: WRITE }, async (ctx) => {
    const list = findList(ctx, ctx.params.listId!);
    const now = ctx.sandbox.now();
    const patch = taskPatch(await ctx.json(), 'create', now);
    const store = ctx.graph.store;
    const created = store.insert(tasksRef(store, ctx.user!.id, list.id), {
      importance: 'normal',
      isReminderOn: false,
      status: 'notStarted',
      title: '',
      categories: [],
      body: { content: '', contentType: 'text' },
      checklistItems: [],
      linkedResources: [],
      ...patch,
    });
    // The POST answer includes the inline-created relationships (todotasklist-post-tasks.md example).
    const expand = new Set<string>();
    if (patch.checklistItems) expand.add('checklistItems');
    if (patch.linkedResources) expand.add('linkedResources');
    return entityResponse(ctx, renderTask(created, expand), {
      status: 201,
      context: taskContext(ctx, list.id),
    });
  });

  graphRoute(sandbox, 'GET', '/me/todo/lists/:listId/tasks/:taskId', { scopes: READ }, (ctx) => {
    const { list, task } = findTask(ctx);
    return taskEntity(ctx, task, list.id);
  });

  graphRoute(sandbox, 'PATCH', '/me/todo/lists/:listId/tasks/:taskId', { scopes: WRITE }, async (ctx) => {
    const { list, ref, task } = findTask(ctx);
    const patch = taskPatch(await ctx.json(), 'update', ctx.sandbox.now());
    // Top-level properties replace (categories, recurrence and the dates are replaced whole).
    const updated = ctx.graph.store.update(ref, task.id, patch)!;
    return taskEntity(ctx, updated, list.id);
  });

  graphRoute(sandbox, 'DELETE', '/me/todo/lists/:listId/tasks/:taskId', { scopes: WRITE }, (ctx) => {
    const { ref, task } = findTask(ctx);
    ctx.graph.store.remove(ref, task.id);
    return empty(204);
  });

  installNested(sandbox, 'checklistItems');
  installNested(sandbox, 'linkedResources');

  // ---- one list
  graphRoute(sandbox, 'GET', '/me/todo/lists/:listId', { scopes: READ }, (ctx) =>
    entityResponse(ctx, renderList(findList(ctx, ctx.params.listId!)), {
      context: listContext(ctx, '/$entity'),
    }),
  );

  graphRoute(sandbox, 'PATCH', '/me/todo/lists/:listId', { scopes: WRITE }, async (ctx) => {
    const list = findList(ctx, ctx.params.listId!);
    const body = await ctx.json<Record<string, unknown>>();
    const name = body?.displayName;
    if (name !== undefined && (typeof name !== 'string' || !name.trim())) {
      throw badRequest('outlook', 'The list displayName cannot be empty.');
    }
    if (name !== undefined && list.wellknownListName !== 'none') throw wellKnownError('renamed');
    const updated =
      name === undefined
        ? list
        : ctx.graph.store.update(listsRef(ctx.graph.store, ctx.user!.id), list.id, { displayName: name })!;
    return entityResponse(ctx, renderList(updated), { context: listContext(ctx, '/$entity') });
  });

  graphRoute(sandbox, 'DELETE', '/me/todo/lists/:listId', { scopes: WRITE }, (ctx) => {
    const list = findList(ctx, ctx.params.listId!);
    if (list.wellknownListName !== 'none') throw wellKnownError('deleted');
    const store = ctx.graph.store;
    // The list's tasks go with it, each a tracked delete (their delta and notifications see it).
    const tasks = tasksRef(store, ctx.user!.id, list.id);
    for (const t of store.list(tasks)) store.remove(tasks, t.id);
    store.remove(listsRef(store, ctx.user!.id), list.id);
    return empty(204);
  });
}

// ---------------------------------------------------------------- seed

interface SeedTask {
  title: string;
  due?: string;
  importance?: 'low' | 'normal' | 'high';
  status?: 'notStarted' | 'inProgress' | 'completed';
  checklist?: string[];
  categories?: string[];
}

const SEED: Record<string, { tasks: SeedTask[]; other: { name: string; tasks: SeedTask[] } }> = {
  'adele.vance@contoso.test': {
    tasks: [
      {
        title: 'Review Q3 roadmap',
        due: '2027-03-01',
        importance: 'high',
        checklist: ['Read draft', 'Send comments'],
      },
      { title: 'Book team offsite venue', due: '2027-03-15' },
      { title: 'Submit expense report', status: 'completed' },
    ],
    other: {
      name: 'Product launch',
      tasks: [
        { title: 'Finalise pricing page', due: '2027-04-01', categories: ['Launch'] },
        { title: 'Brief the support team', importance: 'low' },
      ],
    },
  },
  'megan.bowen@contoso.test': {
    tasks: [
      { title: 'Draft campaign brief', due: '2027-02-20', importance: 'high' },
      { title: 'Approve social posts', status: 'inProgress' },
    ],
    other: { name: 'Events', tasks: [{ title: 'Confirm booth size', due: '2027-05-10' }] },
  },
  'lee.gu@contoso.test': {
    tasks: [{ title: 'Rotate build agent certificates', due: '2027-03-05' }],
    other: { name: 'Reading', tasks: [{ title: 'Read the Graph throttling guide' }] },
  },
};

function seedTask(t: SeedTask, key: string, now: number): Record<string, unknown> {
  return {
    id: seededId(key, 'AAMkAGtt'),
    importance: t.importance ?? 'normal',
    isReminderOn: false,
    status: t.status ?? 'notStarted',
    title: t.title,
    categories: t.categories ?? [],
    body: { content: '', contentType: 'text' },
    ...(t.due ? { dueDateTime: { dateTime: `${t.due}T00:00:00.0000000`, timeZone: 'UTC' } } : {}),
    ...(t.status === 'completed'
      ? {
          completedDateTime: {
            dateTime: `${new Date(now).toISOString().slice(0, 10)}T00:00:00.0000000`,
            timeZone: 'UTC',
          },
        }
      : {}),
    checklistItems: (t.checklist ?? []).map((displayName, i) => ({
      displayName,
      createdDateTime: new Date(now).toISOString(),
      isChecked: false,
      id: seededId(`${key}/check/${i}`, '').slice(0, 32),
    })),
    linkedResources: [],
  };
}

/** Demo data for the seeded users (npm start): the default "Tasks" list plus one more, with tasks. */
export function seedTodo(sandbox: Sandbox): void {
  const store = graphState(sandbox).store;
  const now = sandbox.now();
  for (const [upn, seed] of Object.entries(SEED)) {
    const user = sandbox.directory.findUser(upn);
    if (!user) continue;
    const def = defaultTodoList(store, user.id);
    const otherId = seededId(`${user.id}/todoLists/other`, 'AAMkAGtl');
    const lists = listsRef(store, user.id);
    if (!store.get(lists, otherId)) {
      store.insert(lists, {
        id: otherId,
        displayName: seed.other.name,
        isOwner: true,
        isShared: false,
        wellknownListName: 'none',
      });
    }
    for (const [listId, tasks] of [
      [def.id, seed.tasks],
      [otherId, seed.other.tasks],
    ] as const) {
      const ref = tasksRef(store, user.id, listId);
      tasks.forEach((t, i) => {
        const key = `${user.id}/${listId}/tasks/${i}`;
        const item = seedTask(t, key, now);
        if (!store.get(ref, item.id as string)) store.insert(ref, item);
      });
    }
  }
}
