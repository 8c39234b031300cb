/**
 * Planner actions (https://learn.microsoft.com/graph/api/resources/planner-overview): the plans of
 * the user's groups, buckets, tasks with their details (description, checklist) in one answer.
 *
 * Planner versions every resource: PATCH and DELETE need the resource's etag in If-Match (400
 * without, 412 for a stale one, 409 when a change made on an older version conflicts with a newer
 * one). The actions handle it: without an eTag from the caller they read the current one, write,
 * and on a 412/409 read and write once more; with the caller's eTag (from getTask) a change made
 * meanwhile is refused as 409 `conflict`, nothing overwritten. A task's description and checklist
 * live in its details resource, with an etag of its own.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { deletedOf } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { GraphError } from '../../graph/errors';
import { seg } from '../../graph/client';
import { Problem } from '../../http/problem';
import {
  BucketOut,
  checklistOf,
  PERCENT,
  PlanOut,
  PRIORITIES,
  PRIORITY_VALUE,
  PROGRESS,
  TaskOut,
  TaskWithDetailsOut,
  toBucket,
  toPlan,
  toTask,
  toTaskWithDetails,
} from './shape';

// Tasks.ReadWrite reads the plans of the user's groups and changes their tasks
// (planneruser-list-plans.md, plannertask-update.md); User.ReadBasic.All turns an assignee's
// sign-in address into the object id Planner keys assignments by.
const SCOPES = ['Tasks.ReadWrite', 'User.ReadBasic.All'];

type Json = Record<string, unknown>;

const plannerId = (what: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, 'must be a Planner id (letters, digits, - and _)')
    .describe(what);
const planId = plannerId('The plan id (from planner.listPlans).');
const bucketId = plannerId('The bucket id (from planner.listBuckets).');
const taskId = plannerId('The task id.');
const eTag = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x20-\x7e]+$/, 'must be the eTag as read (printable ASCII)')
  .optional()
  .describe(
    'The eTag from when you read the task (planner.getTask / listTasks). Given, a change someone made since is refused with 409 conflict instead of being merged; omitted, the current version is used.',
  );
const instant = z.iso
  .datetime({ offset: true })
  .describe('An ISO 8601 date and time, e.g. 2026-12-10T17:00:00Z.');
const person = z
  .string()
  .min(3)
  .max(320)
  .describe('A person: their sign-in address (megan@contoso.com) or Entra object id.');
const checklistTitle = z.string().trim().min(1).max(100);

const taskPath = (id: string) => `/planner/tasks/${seg(id)}`;

function plannerError(err: GraphError): Problem | undefined {
  const info = { graphStatus: err.status, ...(err.requestId ? { graphRequestId: err.requestId } : {}) };
  if (err.status === 404)
    return new Problem('not_found', 'No such plan, bucket or task, or the user cannot see it.', info);
  if (err.status === 403 && /^Maximum/.test(err.code ?? ''))
    return new Problem('invalid_input', `Planner refused it: ${err.code} (a Planner limit).`, {
      ...info,
      limit: err.code,
    });
  if (err.status === 403)
    return new Problem(
      'forbidden',
      'Planner refused access: plans belong to Microsoft 365 groups, and only the group’s members can see and change them.',
      info,
    );
  if (err.status === 409 || err.status === 412) return conflict();
  return undefined;
}

function conflict(): Problem {
  return new Problem(
    'conflict',
    'The task was changed by someone else since it was read, and the change conflicts with this one. Read it again (planner.getTask) and apply the change to what is there now.',
  );
}

const isVersionClash = (err: unknown) =>
  err instanceof GraphError && (err.status === 409 || err.status === 412);

/**
 * Writes with Planner's If-Match: the caller's eTag when given (a clash is theirs to resolve), else
 * the current one, read first and once more after a clash (someone wrote in between).
 */
async function writeVersioned<T>(
  given: string | undefined,
  read: () => Promise<string>,
  write: (etag: string) => Promise<T>,
): Promise<T> {
  if (given) return await write(given);
  try {
    return await write(await read());
  } catch (err) {
    if (!isVersionClash(err)) throw err;
    return await write(await read());
  }
}

async function readTask(ctx: ActionContext, id: string): Promise<Json> {
  return (await ctx.graph({ method: 'GET', url: taskPath(id) })).body as Json;
}

async function readDetails(ctx: ActionContext, id: string): Promise<Json> {
  return (await ctx.graph({ method: 'GET', url: `${taskPath(id)}/details` })).body as Json;
}

const etagOf = (body: Json): string => (typeof body['@odata.etag'] === 'string' ? body['@odata.etag'] : '');

/** PATCH with If-Match, asking for the new version back (plannertask-update.md). */
async function patch(ctx: ActionContext, url: string, etag: string, body: Json): Promise<Json> {
  const res = await ctx.graph({
    method: 'PATCH',
    url,
    body,
    headers: { 'If-Match': etag, Prefer: 'return=representation' },
    idempotent: true,
  });
  return res.body as Json;
}

/** Assignees by sign-in address or object id → object ids (Planner keys assignments by id). */
async function userIds(ctx: ActionContext, people: readonly string[]): Promise<string[]> {
  const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  return await Promise.all(
    people.map(async (p) => {
      if (GUID.test(p)) return p.toLowerCase();
      try {
        const res = await ctx.graph({ method: 'GET', url: `/users/${seg(p)}`, query: { $select: 'id' } });
        return String((res.body as Json).id);
      } catch (err) {
        if (err instanceof GraphError && err.status === 404)
          throw new Problem('invalid_input', `No user ${p} in the directory.`, {
            errors: [{ field: 'assignees', message: `${p} is not a user of the organization` }],
          });
        throw err;
      }
    }),
  );
}

const assignment = () => ({ '@odata.type': '#microsoft.graph.plannerAssignment', orderHint: ' !' });

/** A new checklist item (ids are the client's, planner-overview.md: open types). */
const newItem = (title: string) => ({
  '@odata.type': 'microsoft.graph.plannerChecklistItem',
  title,
  isChecked: false,
});

// ---------------------------------------------------------------- plans and buckets

// https://learn.microsoft.com/graph/api/planneruser-list-plans
defineAction({
  id: 'planner.listPlans',
  service: 'planner',
  summary: 'List the Planner plans of the user’s groups',
  description:
    'Lists the Planner plans in the Microsoft 365 groups (teams) the user is a member of: {id, title, groupId}. Use a plan id with listBuckets, listTasks and createTask.',
  input: z.object({}).strict(),
  output: z.object({ items: z.array(PlanOut) }),
  feature: 'planner',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: () => ({ method: 'GET', url: '/me/planner/plans' }),
  fromGraph: (res) => ({ items: (((res.body as Json).value as unknown[]) ?? []).map(toPlan) }),
  mapError: plannerError,
});

// https://learn.microsoft.com/graph/api/plannerplan-list-buckets
defineAction({
  id: 'planner.listBuckets',
  service: 'planner',
  summary: 'List the buckets of a plan',
  description: 'Lists the buckets (board columns) of a plan in Planner’s order: {id, name, planId}.',
  input: z.object({ planId }).strict(),
  output: z.object({ items: z.array(BucketOut) }),
  feature: 'planner',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  toGraph: (input, ctx) => {
    ctx.targets.push(input.planId);
    return { method: 'GET', url: `/planner/plans/${seg(input.planId)}/buckets` };
  },
  fromGraph: (res) => ({ items: (((res.body as Json).value as unknown[]) ?? []).map(toBucket) }),
  mapError: plannerError,
});

// ---------------------------------------------------------------- tasks

const MAX_PAGES = 10;

// https://learn.microsoft.com/graph/api/planneruser-list-tasks, plannerplan-list-tasks
defineAction({
  id: 'planner.listTasks',
  service: 'planner',
  summary: 'List Planner tasks: the user’s, or a plan’s',
  description:
    'Lists Planner tasks: without planId, the tasks assigned to the user across plans; with planId, every task of that plan (optionally one bucket). progress filters (default open: not completed). Each task has title, progress, priority (urgent, important, medium, low), start/due times, assignees, checklist counts and its eTag.',
  input: z
    .object({
      planId: planId.optional().describe('A plan: all its tasks. Omitted: the tasks assigned to the user.'),
      bucketId: bucketId.optional().describe('Only the tasks of this bucket (needs planId).'),
      progress: z
        .enum(['open', 'completed', 'all'])
        .default('open')
        .describe('open (default: not completed), completed, or all.'),
      top: z
        .number()
        .int()
        .min(1)
        .max(400)
        .default(100)
        .describe('At most this many tasks (1–400, default 100).'),
    })
    .strict()
    .refine((v) => v.bucketId === undefined || v.planId !== undefined, {
      message: 'bucketId needs planId',
      path: ['bucketId'],
    }),
  output: z.object({
    items: z.array(TaskOut),
    truncated: z.boolean().describe('True when more tasks matched than top.'),
  }),
  feature: 'planner',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    if (input.planId) ctx.targets.push(input.planId);
    // Planner lists take no $filter: the filters apply to what it returns.
    let url: string | undefined = input.planId
      ? `/planner/plans/${seg(input.planId)}/tasks`
      : '/me/planner/tasks';
    const matched: ReturnType<typeof toTask>[] = [];
    for (let page = 0; url && page < MAX_PAGES && matched.length <= input.top; page++) {
      const body = (await ctx.graph({ method: 'GET', url })).body as Json;
      for (const task of ((body.value as unknown[]) ?? []).map(toTask)) {
        if (input.bucketId && task.bucketId !== input.bucketId) continue;
        if (input.progress === 'open' && task.progress === 'completed') continue;
        if (input.progress === 'completed' && task.progress !== 'completed') continue;
        matched.push(task);
      }
      url = typeof body['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
    }
    return { items: matched.slice(0, input.top), truncated: matched.length > input.top };
  },
  mapError: plannerError,
});

// https://learn.microsoft.com/graph/api/plannertask-get, plannertaskdetails-get
defineAction({
  id: 'planner.getTask',
  service: 'planner',
  summary: 'Read a Planner task with its description and checklist',
  description:
    'Reads one task with its details in one answer: the task’s fields, its description, checklist items {id, title, isChecked} in order, links, and the eTags of the task and of its details.',
  input: z.object({ taskId }).strict(),
  output: TaskWithDetailsOut,
  feature: 'planner',
  scopes: SCOPES,
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.taskId);
    const [task, details] = await Promise.all([readTask(ctx, input.taskId), readDetails(ctx, input.taskId)]);
    return toTaskWithDetails(task, details);
  },
  mapError: plannerError,
});

const taskFields = {
  title: z.string().trim().min(1).max(255).describe('The task title.'),
  dueAt: instant.nullable().describe('When it is due (ISO 8601); null removes it.'),
  startAt: instant.nullable().describe('When it starts (ISO 8601); null removes it.'),
  priority: z.enum(PRIORITIES).describe('urgent, important, medium (default) or low.'),
};

/** The Planner body for our task fields (only those given). */
function taskBody(input: {
  title?: string | undefined;
  dueAt?: string | null | undefined;
  startAt?: string | null | undefined;
  priority?: (typeof PRIORITIES)[number] | undefined;
  bucketId?: string | undefined;
}): Json {
  const body: Json = {};
  if (input.title !== undefined) body.title = input.title;
  if (input.dueAt !== undefined) body.dueDateTime = input.dueAt && new Date(input.dueAt).toISOString();
  if (input.startAt !== undefined)
    body.startDateTime = input.startAt && new Date(input.startAt).toISOString();
  if (input.priority !== undefined) body.priority = PRIORITY_VALUE[input.priority];
  if (input.bucketId !== undefined) body.bucketId = input.bucketId;
  return body;
}

// https://learn.microsoft.com/graph/api/planner-post-tasks, plannertaskdetails-update
defineAction({
  id: 'planner.createTask',
  service: 'planner',
  summary: 'Create a Planner task',
  description:
    'Creates a task in a plan (optionally in a bucket) with title, start and due times, priority, assignees (sign-in addresses or ids), a description and checklist items. Returns the task with its details. Send an Idempotency-Key header to make retries safe.',
  input: z
    .object({
      planId,
      bucketId: bucketId.optional(),
      title: taskFields.title,
      dueAt: instant.optional().describe('When it is due (ISO 8601).'),
      startAt: instant.optional().describe('When it starts (ISO 8601).'),
      priority: taskFields.priority.optional(),
      assignees: z.array(person).max(20).optional().describe('Up to 20 people to assign it to.'),
      description: z.string().max(28_000).optional().describe('The task’s notes.'),
      checklist: z.array(checklistTitle).max(20).optional().describe('Up to 20 checklist items, in order.'),
    })
    .strict(),
  output: TaskWithDetailsOut,
  feature: 'planner',
  scopes: SCOPES,
  kind: 'write',
  idempotent: false,
  idempotencyKey: true,
  successStatus: 201,
  run: async (input, ctx) => {
    const assignees = input.assignees ? await userIds(ctx, input.assignees) : [];
    const created = (
      await ctx.graph({
        method: 'POST',
        url: '/planner/tasks',
        body: {
          planId: input.planId,
          ...taskBody(input),
          ...(assignees.length
            ? { assignments: Object.fromEntries(assignees.map((id) => [id, assignment()])) }
            : {}),
        },
      })
    ).body as Json;
    const id = String(created.id);
    ctx.targets.push(input.planId, id);
    let details = await readDetails(ctx, id);
    if (input.description !== undefined || input.checklist?.length) {
      // Planner places items created without an order hint after the others: send them in order.
      let previous = '';
      const checklist: Json = {};
      for (const title of input.checklist ?? []) {
        const itemId = randomUUID();
        checklist[itemId] = { ...newItem(title), orderHint: `${previous} !` };
        previous = `${previous} !`;
      }
      details = await patch(ctx, `${taskPath(id)}/details`, etagOf(details), {
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.checklist?.length ? { checklist } : {}),
      });
    }
    return toTaskWithDetails(await readTask(ctx, id), details);
  },
  mapError: plannerError,
});

// https://learn.microsoft.com/graph/api/plannertask-update
defineAction({
  id: 'planner.updateTask',
  service: 'planner',
  summary: 'Change a Planner task',
  description:
    'Changes the given fields of a task: title, start/due times (null removes), priority, progress (notStarted, inProgress, completed) or percentComplete, bucket, people to assign or unassign, description. Pass eTag from when you read it to refuse changes someone made since (409 conflict); without it the current version is updated. Returns the task with its details.',
  input: z
    .object({
      taskId,
      eTag,
      title: taskFields.title.optional(),
      dueAt: taskFields.dueAt.optional(),
      startAt: taskFields.startAt.optional(),
      priority: taskFields.priority.optional(),
      progress: z.enum(PROGRESS).optional().describe('notStarted, inProgress or completed.'),
      percentComplete: z.number().int().min(0).max(100).optional().describe('0–100; 100 completes it.'),
      bucketId: bucketId.optional().describe('Move it to this bucket of its plan.'),
      assign: z.array(person).max(20).optional().describe('People to assign it to as well.'),
      unassign: z.array(person).max(20).optional().describe('People to take off it.'),
      description: z.string().max(28_000).optional().describe('New notes (replaces them).'),
    })
    .strict()
    .refine((v) => v.progress === undefined || v.percentComplete === undefined, {
      message: 'give progress or percentComplete, not both',
      path: ['percentComplete'],
    }),
  output: TaskWithDetailsOut,
  feature: 'planner',
  scopes: SCOPES,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.taskId);
    const body = taskBody(input);
    const percent = input.progress !== undefined ? PERCENT[input.progress] : input.percentComplete;
    if (percent !== undefined) body.percentComplete = percent;
    const assign = input.assign ? await userIds(ctx, input.assign) : [];
    const unassign = input.unassign ? await userIds(ctx, input.unassign) : [];
    if (assign.length || unassign.length) {
      body.assignments = {
        ...Object.fromEntries(assign.map((id) => [id, assignment()])),
        ...Object.fromEntries(unassign.map((id) => [id, null])),
      };
    }
    let task: Json | undefined;
    if (Object.keys(body).length > 0) {
      task = await writeVersioned(
        input.eTag,
        async () => etagOf(await readTask(ctx, input.taskId)),
        async (etag) => await patch(ctx, taskPath(input.taskId), etag, body),
      );
    }
    let details: Json | undefined;
    if (input.description !== undefined) {
      details = await writeVersioned(
        undefined,
        async () => etagOf(await readDetails(ctx, input.taskId)),
        async (etag) =>
          await patch(ctx, `${taskPath(input.taskId)}/details`, etag, { description: input.description }),
      );
    }
    // The details' counts show on the task: read what is current of both.
    const [t, d] = await Promise.all([
      task && !details ? task : readTask(ctx, input.taskId),
      details ?? readDetails(ctx, input.taskId),
    ]);
    return toTaskWithDetails(t, d);
  },
  mapError: plannerError,
});

// https://learn.microsoft.com/graph/api/plannertask-update (percentComplete 100)
defineAction({
  id: 'planner.completeTask',
  service: 'planner',
  summary: 'Mark a Planner task complete',
  description:
    'Marks a task complete (percentComplete 100; Planner stamps when and by whom). Returns the task.',
  input: z.object({ taskId, eTag }).strict(),
  output: TaskOut,
  feature: 'planner',
  scopes: SCOPES,
  kind: 'write',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.taskId);
    const task = await writeVersioned(
      input.eTag,
      async () => etagOf(await readTask(ctx, input.taskId)),
      async (etag) => await patch(ctx, taskPath(input.taskId), etag, { percentComplete: 100 }),
    );
    return toTask(task);
  },
  mapError: plannerError,
});

// https://learn.microsoft.com/graph/api/plannertask-delete
defineAction({
  id: 'planner.deleteTask',
  service: 'planner',
  summary: 'Delete a Planner task',
  description:
    'Deletes a task and its details. Pass eTag from when you read it to delete only if nobody changed it since (409 conflict otherwise). Returns {taskId, deleted: true}.',
  input: z.object({ taskId, eTag }).strict(),
  output: deletedOf('taskId'),
  feature: 'planner',
  scopes: SCOPES,
  kind: 'destructive',
  idempotent: true,
  run: async (input, ctx) => {
    ctx.targets.push(input.taskId);
    await writeVersioned(
      input.eTag,
      async () => etagOf(await readTask(ctx, input.taskId)),
      async (etag) =>
        await ctx.graph({ method: 'DELETE', url: taskPath(input.taskId), headers: { 'If-Match': etag } }),
    );
    return { taskId: input.taskId, deleted: true as const };
  },
  mapError: plannerError,
});

// https://learn.microsoft.com/graph/api/plannertaskdetails-update (checklist)
defineAction({
  id: 'planner.updateChecklist',
  service: 'planner',
  summary: 'Add, check, uncheck or remove checklist items of a Planner task',
  description:
    'Changes a task’s checklist: add new items (titles, at the end, in order), check or uncheck items and remove items, each named by its id or its exact title (from getTask). A task holds at most 20 items. Returns the task with its details.',
  input: z
    .object({
      taskId,
      add: z.array(checklistTitle).max(20).optional().describe('New items, added at the end in this order.'),
      check: z.array(z.string().min(1).max(100)).max(20).optional().describe('Items to check (id or title).'),
      uncheck: z
        .array(z.string().min(1).max(100))
        .max(20)
        .optional()
        .describe('Items to uncheck (id or title).'),
      remove: z
        .array(z.string().min(1).max(100))
        .max(20)
        .optional()
        .describe('Items to remove (id or title).'),
    })
    .strict()
    .refine(
      (v) =>
        (v.add?.length ?? 0) + (v.check?.length ?? 0) + (v.uncheck?.length ?? 0) + (v.remove?.length ?? 0) >
        0,
      {
        message: 'give at least one of add, check, uncheck, remove',
        path: ['add'],
      },
    ),
  output: TaskWithDetailsOut,
  feature: 'planner',
  scopes: SCOPES,
  kind: 'write',
  idempotent: false,
  run: async (input, ctx) => {
    ctx.targets.push(input.taskId);
    let details: Json = {};
    const changes = (current: Json): Json => {
      const items = checklistOf(current);
      const find = (ref: string, field: string) => {
        const item = items.find((i) => i.id === ref) ?? items.find((i) => i.title === ref);
        if (!item)
          throw new Problem('invalid_input', `The task has no checklist item "${ref}".`, {
            errors: [{ field, message: `no item with that id or title: ${ref}` }],
          });
        return item;
      };
      const checklist: Json = {};
      for (const ref of input.check ?? []) checklist[find(ref, 'check').id] = { ...typed(), isChecked: true };
      for (const ref of input.uncheck ?? [])
        checklist[find(ref, 'uncheck').id] = { ...typed(), isChecked: false };
      for (const ref of input.remove ?? []) checklist[find(ref, 'remove').id] = null;
      let previous = items[items.length - 1]?.orderHint ?? '';
      for (const title of input.add ?? []) {
        checklist[randomUUID()] = { ...newItem(title), orderHint: `${previous} !` };
        previous = `${previous} !`;
      }
      return { checklist };
    };
    details = await writeVersioned(
      undefined,
      async () => {
        details = await readDetails(ctx, input.taskId);
        return etagOf(details);
      },
      async (etag) => await patch(ctx, `${taskPath(input.taskId)}/details`, etag, changes(details)),
    );
    return toTaskWithDetails(await readTask(ctx, input.taskId), details);
  },
  mapError: plannerError,
});

const typed = () => ({ '@odata.type': 'microsoft.graph.plannerChecklistItem' });
