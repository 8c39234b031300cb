/**
 * Graph Planner (https://learn.microsoft.com/graph/api/resources/planner-overview): plans contained
 * by Microsoft 365 groups (here: the teams' groups), buckets, tasks and task details.
 *
 * What clients get wrong and the sandbox therefore holds them to:
 * - Versioning (versions.ts): PATCH and DELETE need `If-Match` with the resource's `@odata.etag`:
 *   400 without it, 412 for an etag that is no version of it, 409 when an older version's change
 *   conflicts with a newer one (planner-overview.md "Planner resource versioning").
 * - PATCH answers 204 unless `Prefer: return=representation` asks for the 200 with the resource
 *   (plannertask-update.md, plannertaskdetails-update.md).
 * - A task's description, checklist and references live in its separate details resource
 *   (plannerTaskDetails, its own etag); the task shows the counts (checklistItemCount,
 *   activeChecklistItemCount, referenceCount, hasDescription), which change with the details.
 * - Open types: assignments keyed by user id, checklist items by a client-chosen id, references by
 *   the encoded URL; each value declares its `@odata.type` (400 otherwise), `null` removes one.
 * - Order hints are computed by the service from the client's `"<previous> <next>!"` form; a raw
 *   value is refused (planner-order-hint-format.md).
 * - percentComplete 100 completes the task (completedDateTime, completedBy); priority 0–10
 *   (plannertask.md); a start after the due date is a 400.
 * - Limits (https://learn.microsoft.com/office365/planner/planner-limits), 403 with the limit's
 *   name as code (planner-overview.md): 20 assignees, 20 checklist items and 10 references per
 *   task, 200 buckets and 9000 tasks (2400 active) per plan.
 * - Work and school accounts only; plans are visible to the group's members (403 otherwise).
 * Errors carry Planner's empty code (json-batching.md's Planner example).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Sandbox } from '../../context';
import { empty, type SandboxResponse } from '../../http';
import { SANDBOX_TENANT_ID, type SandboxUser } from '../../state';
import { entityResponse, graphRoute, graphState, type GraphCtx } from '../core';
import { accessDenied, badRequest, GraphHttpError, notFound } from '../errors';
import { collection } from '../paging';
import type { ChangeStore, CollectionRef, Entity } from '../store';
import { isMember, teamRefs } from '../teams/model';
import { SEED_TEAM } from '../teams';
import { bump, checkIfMatch, etagOf, firstVersion, versionsOf, VERSIONS } from './versions';
import { between, serviceOrderHint } from './order-hints';

// plannerplan-list-tasks.md and friends: delegated Tasks.Read(Write) or Group.Read(Write).All.
const READ = {
  anyOf: ['Tasks.Read', 'Group.Read.All'],
  app: ['Tasks.Read.All', 'Tasks.ReadWrite.All'],
};
const WRITE = { anyOf: ['Tasks.ReadWrite', 'Group.ReadWrite.All'], app: ['Tasks.ReadWrite.All'] };

const OWNER = (tenantId: string) => `planner:${tenantId}`;
export const PLANNER_COLLECTIONS = {
  plans: 'plannerPlans',
  buckets: 'plannerBuckets',
  tasks: 'plannerTasks',
  details: 'plannerTaskDetails',
} as const;

interface Refs {
  plans: CollectionRef;
  buckets: CollectionRef;
  tasks: CollectionRef;
  details: CollectionRef;
}

function plannerRefs(store: ChangeStore, tenantId: string): Refs {
  const none = { etag: 'none' as const };
  return {
    plans: store.collection(OWNER(tenantId), PLANNER_COLLECTIONS.plans, none),
    buckets: store.collection(OWNER(tenantId), PLANNER_COLLECTIONS.buckets, none),
    tasks: store.collection(OWNER(tenantId), PLANNER_COLLECTIONS.tasks, none),
    details: store.collection(OWNER(tenantId), PLANNER_COLLECTIONS.details, none),
  };
}

export const LIMITS = {
  assignees: 20,
  checklist: 20,
  references: 10,
  buckets: 200,
  tasks: 9000,
  activeTasks: 2400,
};

/** Planner ids are 28 characters, case-sensitive (planner-identifiers-disclaimer.md). */
function plannerId(seed?: string): string {
  const bytes = seed ? createHash('sha256').update(seed).digest() : randomBytes(21);
  return bytes.toString('base64url').slice(0, 28);
}

const KIND = { plan: 'UGxhbi', bucket: 'QnVja2V0', task: 'VGFzay', details: 'RGV0YWlscy' } as const;

/** A Planner resource as Graph shows it: its etag first, no store bookkeeping. */
function render(entity: Entity, kind: keyof typeof KIND): Record<string, unknown> {
  // Planner resources have no lastModifiedDateTime; buckets and details no createdDateTime.
  const { [VERSIONS]: _v, lastModifiedDateTime: _m, ...rest } = entity;
  if (kind === 'details' || kind === 'bucket') delete rest.createdDateTime;
  return { '@odata.etag': etagOf(KIND[kind], versionsOf(entity).v), ...rest };
}

const identity = (user: SandboxUser) => ({ user: { displayName: null, id: user.id } });

function caller(ctx: GraphCtx): SandboxUser {
  if (!ctx.caller) throw accessDenied('planner');
  if (ctx.caller.accountType === 'personal') {
    // Planner is for work and school accounts (plannertask-get.md: personal accounts not supported).
    throw accessDenied('planner');
  }
  return ctx.caller;
}

// ---------------------------------------------------------------- lookups and access

function groupOf(ctx: GraphCtx, groupId: string): Entity | undefined {
  return ctx.graph.store.get(teamRefs(ctx.graph.store, ctx.auth.tenantId).teams, groupId);
}

function assertGroupMember(ctx: GraphCtx, groupId: string): void {
  const group = groupOf(ctx, groupId);
  if (!group) throw notFound('planner');
  if (!isMember(group, caller(ctx).id)) throw accessDenied('planner');
}

function findPlan(ctx: GraphCtx, refs: Refs, planId: string): Entity {
  const plan = ctx.graph.store.get(refs.plans, planId);
  if (!plan) throw notFound('planner');
  assertGroupMember(ctx, String((plan.container as { containerId: string }).containerId));
  return plan;
}

function findBucket(ctx: GraphCtx, refs: Refs, bucketId: string): Entity {
  const bucket = ctx.graph.store.get(refs.buckets, bucketId);
  if (!bucket) throw notFound('planner');
  findPlan(ctx, refs, String(bucket.planId));
  return bucket;
}

function findTask(ctx: GraphCtx, refs: Refs, taskId: string): Entity {
  const task = ctx.graph.store.get(refs.tasks, taskId);
  if (!task) throw notFound('planner');
  findPlan(ctx, refs, String(task.planId));
  return task;
}

function limit(code: string, what: string): GraphHttpError {
  return new GraphHttpError(403, code, `The request exceeds the limit of ${what}.`);
}

// ---------------------------------------------------------------- request bodies

type Body = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function object(v: unknown, what: string): Body {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw badRequest('planner', `${what} must be an object.`);
  return v as Body;
}

function onlyKnown(body: Body, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith('@odata.')) continue;
    if (!allowed.includes(key)) {
      throw badRequest('planner', `The property '${key}' does not exist on this type or cannot be written.`);
    }
  }
}

function isoOrNull(v: unknown, name: string): string | null {
  if (v === null) return null;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v)) || !/^\d{4}-\d{2}-\d{2}T/.test(v))
    throw badRequest('planner', `${name} must be an ISO 8601 date and time (UTC), or null.`);
  return new Date(v).toISOString();
}

/** An open-type value declares its type: `@odata.type` with or without the leading '#'. */
function typed(v: unknown, type: string, what: string): Body {
  const o = object(v, what);
  const declared = (typeof o['@odata.type'] === 'string' ? o['@odata.type'] : '').replace(/^#/, '');
  if (declared !== `microsoft.graph.${type}`) {
    throw badRequest('planner', `${what} must declare "@odata.type": "#microsoft.graph.${type}".`);
  }
  return o;
}

/** An order hint the client sends: `"<previous> <next>!"` (or a service value it read). */
function orderHintOf(v: unknown, existing: string[], name: string): string {
  const computed = typeof v === 'string' ? serviceOrderHint(v, existing) : undefined;
  if (computed === undefined) {
    throw badRequest(
      'planner',
      `${name} is not in the correct format: send "<previous order hint> <next order hint>!" (planner-order-hint-format).`,
    );
  }
  return computed;
}

/** A hint after every existing one (what the service gives an item created without one). */
function lastHint(existing: string[]): string {
  const sorted = [...existing].sort();
  return between(sorted[sorted.length - 1] ?? '', '');
}

// ---------------------------------------------------------------- tasks

const TASK_FIELDS = [
  'title',
  'bucketId',
  'planId',
  'assignments',
  'appliedCategories',
  'dueDateTime',
  'startDateTime',
  'percentComplete',
  'priority',
  'orderHint',
  'assigneePriority',
  'conversationThreadId',
] as const;

/** Applies a task body (create or PATCH) to `current`; returns the new state and what changed. */
function taskChanges(
  ctx: GraphCtx,
  refs: Refs,
  current: Entity | undefined,
  body: Body,
  planId: string,
): { next: Body; fields: string[] } {
  onlyKnown(body, TASK_FIELDS);
  const me = caller(ctx);
  const now = new Date(ctx.sandbox.now()).toISOString();
  const next: Body = { ...(current ?? {}) };
  const fields: string[] = [];
  const set = (k: string, v: unknown) => {
    next[k] = v;
    fields.push(k);
  };
  if (current && 'planId' in body && body.planId !== current.planId)
    throw badRequest('planner', 'A task cannot move to another plan.');
  if ('title' in body) {
    if (typeof body.title !== 'string' || !body.title.trim() || body.title.length > 255)
      throw badRequest('planner', 'title must be a non-empty string of at most 255 characters.');
    set('title', body.title);
  }
  if ('bucketId' in body) {
    if (body.bucketId !== null) {
      const bucket =
        typeof body.bucketId === 'string' ? ctx.graph.store.get(refs.buckets, body.bucketId) : undefined;
      if (!bucket || bucket.planId !== planId)
        throw badRequest('planner', 'The bucket needs to be in the plan that the task is in.');
    }
    set('bucketId', body.bucketId);
  }
  if ('percentComplete' in body) {
    const p = body.percentComplete;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100)
      throw badRequest('planner', 'percentComplete must be an integer from 0 to 100.');
    set('percentComplete', p);
    // 100 completes the task (plannertask.md: completedDateTime, completedBy).
    if (p === 100 && current?.percentComplete !== 100) {
      set('completedDateTime', now);
      set('completedBy', identity(me));
    } else if (p < 100) {
      set('completedDateTime', null);
      set('completedBy', null);
    }
  }
  if ('priority' in body) {
    const p = body.priority;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 10)
      throw badRequest('planner', 'priority must be an integer from 0 (highest) to 10 (lowest).');
    set('priority', p);
  }
  for (const k of ['dueDateTime', 'startDateTime'] as const) if (k in body) set(k, isoOrNull(body[k], k));
  const start = next.startDateTime as string | null | undefined;
  const due = next.dueDateTime as string | null | undefined;
  if (start && due && start > due)
    throw badRequest('planner', 'The start date of the task is later than its due date.');
  if ('assignments' in body) {
    const assignments = { ...((current?.assignments as Body | undefined) ?? {}) };
    for (const [userId, value] of Object.entries(object(body.assignments, 'assignments'))) {
      if (value === null) {
        delete assignments[userId];
        continue;
      }
      const a = typed(value, 'plannerAssignment', `assignments['${userId}']`);
      if (!ctx.sandbox.directory.findUser(userId))
        throw badRequest('planner', `assignments: '${userId}' is not a user id of this tenant.`);
      const others = Object.values(assignments).map((x) => str((x as Body).orderHint));
      assignments[userId] = {
        '@odata.type': '#microsoft.graph.plannerAssignment',
        assignedBy: identity(me),
        assignedDateTime: now,
        // plannerassignments.md: orderHint is required on a new assignment.
        orderHint: orderHintOf(a.orderHint, others, `assignments['${userId}'].orderHint`),
      };
    }
    if (Object.keys(assignments).length > LIMITS.assignees)
      throw limit('MaximumAssigneesInTasks', `${LIMITS.assignees} assignees on a task`);
    set('assignments', assignments);
  }
  if ('appliedCategories' in body) {
    const categories = { ...((current?.appliedCategories as Body | undefined) ?? {}) };
    for (const [k, v] of Object.entries(object(body.appliedCategories, 'appliedCategories'))) {
      if (k.startsWith('@odata.')) continue;
      if (!/^category([1-9]|1\d|2[0-5])$/.test(k) || typeof v !== 'boolean')
        throw badRequest(
          'planner',
          `appliedCategories: '${k}' must be category1 … category25 with true or false.`,
        );
      if (v) categories[k] = true;
      else delete categories[k];
    }
    set('appliedCategories', categories);
  }
  if ('orderHint' in body) {
    const others = ctx.graph.store
      .list(refs.tasks)
      .filter((t) => t.planId === planId && t.id !== current?.id)
      .map((t) => String(t.orderHint));
    set('orderHint', orderHintOf(body.orderHint, others, 'orderHint'));
  }
  if ('assigneePriority' in body)
    set('assigneePriority', orderHintOf(body.assigneePriority, [], 'assigneePriority'));
  if ('conversationThreadId' in body) set('conversationThreadId', body.conversationThreadId);
  return { next, fields };
}

/** A new task's properties before its body applies (plannertask.md). */
const NEW_TASK = {
  assigneePriority: '',
  percentComplete: 0,
  priority: 5,
  startDateTime: null,
  dueDateTime: null,
  hasDescription: false,
  previewType: 'automatic',
  completedDateTime: null,
  completedBy: null,
  referenceCount: 0,
  checklistItemCount: 0,
  activeChecklistItemCount: 0,
  conversationThreadId: null,
  appliedCategories: {},
} as const;

/** A task's details, created with it (plannertaskdetails.md). */
function newDetails(id: string): Entity {
  return {
    id,
    description: '',
    previewType: 'automatic',
    checklist: {},
    references: {},
    [VERSIONS]: firstVersion(),
  };
}

function renderTask(task: Entity): Record<string, unknown> {
  return render(task, 'task');
}

function renderDetails(details: Entity): Record<string, unknown> {
  return render(details, 'details');
}

/** The task's counts from its details (plannertask.md), as fields of the task. */
function countsOf(details: Body): Body {
  const checklist = Object.values((details.checklist as Body | undefined) ?? {}) as Body[];
  return {
    checklistItemCount: checklist.length,
    activeChecklistItemCount: checklist.filter((i) => i.isChecked !== true).length,
    referenceCount: Object.keys((details.references as Body | undefined) ?? {}).length,
    hasDescription: typeof details.description === 'string' && details.description !== '',
  };
}

/** PATCH answers 204, or 200 with the resource when asked for `return=representation`. */
function patched(ctx: GraphCtx, body: Record<string, unknown>, context: string): SandboxResponse {
  if ((ctx.prefs.raw.return ?? '').toLowerCase() === 'representation') {
    ctx.applyPreference('return=representation');
    return entityResponse(ctx, body, { context });
  }
  return empty(204);
}

// ---------------------------------------------------------------- details

const DETAILS_FIELDS = ['description', 'previewType', 'checklist', 'references'] as const;
const PREVIEW_TYPES = ['automatic', 'noPreview', 'checklist', 'description', 'reference'];

function detailsChanges(ctx: GraphCtx, current: Entity, body: Body): { next: Body; fields: string[] } {
  onlyKnown(body, DETAILS_FIELDS);
  const me = caller(ctx);
  const now = new Date(ctx.sandbox.now()).toISOString();
  const next: Body = { ...current };
  const fields: string[] = [];
  if ('description' in body) {
    if (typeof body.description !== 'string' && body.description !== null)
      throw badRequest('planner', 'description must be a string.');
    next.description = body.description ?? '';
    fields.push('description');
  }
  if ('previewType' in body) {
    if (!PREVIEW_TYPES.includes(String(body.previewType)))
      throw badRequest('planner', `previewType must be one of ${PREVIEW_TYPES.join(', ')}.`);
    next.previewType = body.previewType;
    fields.push('previewType');
  }
  if ('checklist' in body) {
    const checklist = { ...((current.checklist as Body | undefined) ?? {}) };
    for (const [id, value] of Object.entries(object(body.checklist, 'checklist'))) {
      // A field per item: two clients changing different items do not conflict.
      fields.push(`checklist/${id}`);
      if (value === null) {
        delete checklist[id];
        continue;
      }
      const item = typed(value, 'plannerChecklistItem', `checklist['${id}']`);
      const existing = checklist[id] as Body | undefined;
      if (!existing && (typeof item.title !== 'string' || !item.title.trim()))
        throw badRequest('planner', `checklist['${id}'] is new and needs a title.`);
      if ('title' in item && (typeof item.title !== 'string' || item.title.length > 100))
        throw badRequest('planner', `checklist['${id}'].title must be a string of at most 100 characters.`);
      if ('isChecked' in item && typeof item.isChecked !== 'boolean')
        throw badRequest('planner', `checklist['${id}'].isChecked must be true or false.`);
      const others = Object.entries(checklist)
        .filter(([k]) => k !== id)
        .map(([, v]) => String((v as Body).orderHint));
      checklist[id] = {
        '@odata.type': '#microsoft.graph.plannerChecklistItem',
        title: item.title ?? existing?.title,
        isChecked: item.isChecked ?? existing?.isChecked ?? false,
        orderHint:
          'orderHint' in item
            ? orderHintOf(item.orderHint, others, `checklist['${id}'].orderHint`)
            : ((existing?.orderHint as string | undefined) ?? lastHint(others)),
        lastModifiedBy: identity(me),
        lastModifiedDateTime: now,
      };
    }
    if (Object.keys(checklist).length > LIMITS.checklist)
      throw limit('MaximumChecklistItemsOnTask', `${LIMITS.checklist} checklist items on a task`);
    next.checklist = checklist;
  }
  if ('references' in body) {
    const references = { ...((current.references as Body | undefined) ?? {}) };
    for (const [url, value] of Object.entries(object(body.references, 'references'))) {
      // plannerexternalreferences.md: the URL is the key, encoded (':' '.' '@' '#' '%' escaped).
      if (/[:.@#]/.test(url)) {
        throw badRequest(
          'planner',
          `references: the key '${url}' must be the encoded URL (':' as %3A, '.' as %2E, '@' as %40, '#' as %23).`,
        );
      }
      fields.push(`references/${url}`);
      if (value === null) {
        delete references[url];
        continue;
      }
      const ref = typed(value, 'plannerExternalReference', `references['${url}']`);
      const existing = references[url] as Body | undefined;
      references[url] = {
        '@odata.type': '#microsoft.graph.plannerExternalReference',
        alias: ref.alias ?? existing?.alias ?? null,
        type: ref.type ?? existing?.type ?? 'Other',
        previewPriority: existing?.previewPriority ?? lastHint([]),
        lastModifiedBy: identity(me),
        lastModifiedDateTime: now,
      };
    }
    if (Object.keys(references).length > LIMITS.references)
      throw limit('MaximumReferencesOnTask', `${LIMITS.references} references on a task`);
    next.references = references;
  }
  return { next, fields };
}

// ---------------------------------------------------------------- routes

function route(
  sandbox: Sandbox,
  method: string,
  pattern: string,
  scopes: typeof READ | typeof WRITE,
  handler: (ctx: GraphCtx, refs: Refs) => Promise<SandboxResponse> | SandboxResponse,
): void {
  graphRoute(sandbox, method, pattern, { scopes, workload: 'planner', throttle: 'none' }, (ctx) => {
    caller(ctx);
    return handler(ctx, plannerRefs(ctx.graph.store, ctx.auth.tenantId));
  });
}

const ifMatch = (ctx: GraphCtx): string | undefined => ctx.headers['if-match'];

const LIST = {
  kind: 'skiptoken' as const,
  supports: { filter: false, orderby: false, count: false },
  maxTop: 400,
  defaultTop: 400,
};

export function installPlanner(sandbox: Sandbox): void {
  // Plans of the groups the user is a member of (planneruser-list-plans.md).
  route(sandbox, 'GET', '/me/planner/plans', READ, (ctx, refs) => {
    const me = caller(ctx);
    const plans = ctx.graph.store.list(refs.plans).filter((p) => {
      const group = groupOf(ctx, String((p.container as { containerId: string }).containerId));
      return group !== undefined && isMember(group, me.id);
    });
    return collection(
      ctx,
      plans.map((p) => render(p, 'plan')),
      LIST,
    );
  });

  // The tasks assigned to the user (planneruser-list-tasks.md).
  route(sandbox, 'GET', '/me/planner/tasks', READ, (ctx, refs) => {
    const me = caller(ctx);
    const tasks = ctx.graph.store.list(refs.tasks).filter((t) => me.id in ((t.assignments as Body) ?? {}));
    return collection(ctx, tasks.map(renderTask), LIST);
  });

  route(sandbox, 'GET', '/groups/:groupId/planner/plans', READ, (ctx, refs) => {
    assertGroupMember(ctx, ctx.params.groupId!);
    const plans = ctx.graph.store
      .list(refs.plans)
      .filter((p) => (p.container as { containerId: string }).containerId === ctx.params.groupId);
    return collection(
      ctx,
      plans.map((p) => render(p, 'plan')),
      LIST,
    );
  });

  route(sandbox, 'GET', '/planner/plans/:planId', READ, (ctx, refs) =>
    entityResponse(ctx, render(findPlan(ctx, refs, ctx.params.planId!), 'plan'), {
      context: 'planner/plans/$entity',
    }),
  );

  route(sandbox, 'GET', '/planner/plans/:planId/buckets', READ, (ctx, refs) => {
    const plan = findPlan(ctx, refs, ctx.params.planId!);
    const buckets = ctx.graph.store.list(refs.buckets).filter((b) => b.planId === plan.id);
    return collection(
      ctx,
      buckets.map((b) => render(b, 'bucket')),
      { ...LIST, defaultOrder: (a, b) => String(a.orderHint).localeCompare(String(b.orderHint)) },
    );
  });

  route(sandbox, 'GET', '/planner/plans/:planId/tasks', READ, (ctx, refs) => {
    const plan = findPlan(ctx, refs, ctx.params.planId!);
    const tasks = ctx.graph.store.list(refs.tasks).filter((t) => t.planId === plan.id);
    return collection(ctx, tasks.map(renderTask), LIST);
  });

  route(sandbox, 'GET', '/planner/buckets/:bucketId/tasks', READ, (ctx, refs) => {
    const bucket = findBucket(ctx, refs, ctx.params.bucketId!);
    const tasks = ctx.graph.store.list(refs.tasks).filter((t) => t.bucketId === bucket.id);
    return collection(ctx, tasks.map(renderTask), LIST);
  });

  // ---- buckets (plannerbucket-post.md, -update.md, -delete.md)
  route(sandbox, 'POST', '/planner/buckets', WRITE, async (ctx, refs) => {
    const body = object(await ctx.json(), 'The request body');
    onlyKnown(body, ['name', 'planId', 'orderHint']);
    if (typeof body.name !== 'string' || !body.name.trim()) throw badRequest('planner', 'name is required.');
    const plan = findPlan(ctx, refs, str(body.planId));
    const siblings = ctx.graph.store.list(refs.buckets).filter((b) => b.planId === plan.id);
    if (siblings.length >= LIMITS.buckets)
      throw limit('MaximumBucketsInProject', `${LIMITS.buckets} buckets in a plan`);
    const hints = siblings.map((b) => String(b.orderHint));
    const bucket = ctx.graph.store.insert(refs.buckets, {
      id: plannerId(),
      name: body.name,
      planId: plan.id,
      orderHint:
        body.orderHint === undefined ? lastHint(hints) : orderHintOf(body.orderHint, hints, 'orderHint'),
      [VERSIONS]: firstVersion(),
    });
    return entityResponse(ctx, render(bucket, 'bucket'), {
      status: 201,
      context: 'planner/buckets/$entity',
    });
  });

  route(sandbox, 'GET', '/planner/buckets/:bucketId', READ, (ctx, refs) =>
    entityResponse(ctx, render(findBucket(ctx, refs, ctx.params.bucketId!), 'bucket'), {
      context: 'planner/buckets/$entity',
    }),
  );

  route(sandbox, 'PATCH', '/planner/buckets/:bucketId', WRITE, async (ctx, refs) => {
    const bucket = findBucket(ctx, refs, ctx.params.bucketId!);
    const body = object(await ctx.json(), 'The request body');
    onlyKnown(body, ['name', 'orderHint']);
    checkIfMatch(ifMatch(ctx), KIND.bucket, bucket, Object.keys(body));
    const next: Body = {};
    if ('name' in body) {
      if (typeof body.name !== 'string' || !body.name.trim())
        throw badRequest('planner', 'name must be a non-empty string.');
      next.name = body.name;
    }
    if ('orderHint' in body) {
      const hints = ctx.graph.store
        .list(refs.buckets)
        .filter((b) => b.planId === bucket.planId && b.id !== bucket.id)
        .map((b) => String(b.orderHint));
      next.orderHint = orderHintOf(body.orderHint, hints, 'orderHint');
    }
    const updated = ctx.graph.store.update(refs.buckets, bucket.id, {
      ...next,
      [VERSIONS]: bump(bucket, Object.keys(next)),
    })!;
    return patched(ctx, render(updated, 'bucket'), 'planner/buckets/$entity');
  });

  route(sandbox, 'DELETE', '/planner/buckets/:bucketId', WRITE, (ctx, refs) => {
    const bucket = findBucket(ctx, refs, ctx.params.bucketId!);
    checkIfMatch(ifMatch(ctx), KIND.bucket, bucket, '*');
    ctx.graph.store.remove(refs.buckets, bucket.id);
    // Its tasks stay in the plan without a bucket.
    for (const t of ctx.graph.store.list(refs.tasks).filter((t) => t.bucketId === bucket.id))
      ctx.graph.store.update(refs.tasks, t.id, { bucketId: null, [VERSIONS]: bump(t, ['bucketId']) });
    return empty(204);
  });

  // ---- tasks (planner-post-tasks.md, plannertask-get/update/delete.md)
  route(sandbox, 'POST', '/planner/tasks', WRITE, async (ctx, refs) => {
    const body = object(await ctx.json(), 'The request body');
    if (typeof body.planId !== 'string')
      throw badRequest('planner', 'planId is required: tasks cannot be created without plans.');
    const plan = findPlan(ctx, refs, body.planId);
    if (!('title' in body)) throw badRequest('planner', 'title is required.');
    const inPlan = ctx.graph.store.list(refs.tasks).filter((t) => t.planId === plan.id);
    if (inPlan.length >= LIMITS.tasks)
      throw limit('MaximumTasksInProject', `${LIMITS.tasks} tasks in a plan`);
    if (inPlan.filter((t) => t.percentComplete !== 100).length >= LIMITS.activeTasks)
      throw limit('MaximumActiveTasksInProject', `${LIMITS.activeTasks} active tasks in a plan`);
    const { next } = taskChanges(ctx, refs, undefined, body, plan.id);
    const me = caller(ctx);
    const id = plannerId();
    const details = ctx.graph.store.insert(refs.details, newDetails(id));
    const task = ctx.graph.store.insert(refs.tasks, {
      planId: plan.id,
      bucketId: null,
      title: '',
      orderHint: lastHint(inPlan.map((t) => String(t.orderHint))),
      ...NEW_TASK,
      assignments: {},
      ...next,
      ...countsOf(details),
      id,
      createdBy: identity(me),
      [VERSIONS]: firstVersion(),
    });
    return entityResponse(ctx, renderTask(task), { status: 201, context: 'planner/tasks/$entity' });
  });

  route(sandbox, 'GET', '/planner/tasks/:taskId', READ, (ctx, refs) =>
    entityResponse(ctx, renderTask(findTask(ctx, refs, ctx.params.taskId!)), {
      context: 'planner/tasks/$entity',
    }),
  );

  route(sandbox, 'PATCH', '/planner/tasks/:taskId', WRITE, async (ctx, refs) => {
    const task = findTask(ctx, refs, ctx.params.taskId!);
    const body = object(await ctx.json(), 'The request body');
    onlyKnown(body, TASK_FIELDS);
    checkIfMatch(
      ifMatch(ctx),
      KIND.task,
      task,
      Object.keys(body).filter((k) => !k.startsWith('@odata.')),
    );
    const { next, fields } = taskChanges(ctx, refs, task, body, String(task.planId));
    const updated = ctx.graph.store.update(refs.tasks, task.id, { ...next, [VERSIONS]: bump(task, fields) })!;
    return patched(ctx, renderTask(updated), 'planner/tasks/$entity');
  });

  route(sandbox, 'DELETE', '/planner/tasks/:taskId', WRITE, (ctx, refs) => {
    const task = findTask(ctx, refs, ctx.params.taskId!);
    checkIfMatch(ifMatch(ctx), KIND.task, task, '*');
    ctx.graph.store.remove(refs.tasks, task.id);
    ctx.graph.store.remove(refs.details, task.id);
    return empty(204);
  });

  route(sandbox, 'GET', '/planner/tasks/:taskId/details', READ, (ctx, refs) => {
    const task = findTask(ctx, refs, ctx.params.taskId!);
    const details = ctx.graph.store.get(refs.details, task.id);
    if (!details) throw notFound('planner');
    return entityResponse(ctx, renderDetails(details), { context: 'planner/tasks/details/$entity' });
  });

  route(sandbox, 'PATCH', '/planner/tasks/:taskId/details', WRITE, async (ctx, refs) => {
    const task = findTask(ctx, refs, ctx.params.taskId!);
    const details = ctx.graph.store.get(refs.details, task.id);
    if (!details) throw notFound('planner');
    const body = object(await ctx.json(), 'The request body');
    onlyKnown(body, DETAILS_FIELDS);
    const { next, fields } = detailsChanges(ctx, details, body);
    checkIfMatch(ifMatch(ctx), KIND.details, details, fields);
    const updated = ctx.graph.store.update(refs.details, details.id, {
      ...next,
      [VERSIONS]: bump(details, fields),
    })!;
    // The task shows the counts; when they change, so does the task (and its etag).
    const counts = countsOf(updated);
    const moved = Object.keys(counts).filter((k) => counts[k] !== task[k]);
    if (moved.length > 0)
      ctx.graph.store.update(refs.tasks, task.id, { ...counts, [VERSIONS]: bump(task, moved) });
    return patched(ctx, renderDetails(updated), 'planner/tasks/details/$entity');
  });
}

/** Demo data: the plan of the "Contoso Launch" team's group with three buckets and three tasks. */
export function seedPlanner(sandbox: Sandbox): void {
  const adele = sandbox.directory.findUser('adele.vance@contoso.test');
  const megan = sandbox.directory.findUser('megan.bowen@contoso.test');
  if (!adele || !megan) return;
  const store = graphState(sandbox).store;
  const refs = plannerRefs(store, SANDBOX_TENANT_ID);
  const planId = plannerId('plan:contoso-launch');
  if (store.get(refs.plans, planId)) return;
  const created = '2025-01-06T09:00:00.000Z';
  store.insert(refs.plans, {
    id: planId,
    title: 'Launch plan',
    owner: SEED_TEAM.id,
    container: {
      containerId: SEED_TEAM.id,
      type: 'group',
      url: `https://graph.microsoft.com/v1.0/groups/${SEED_TEAM.id}`,
    },
    createdBy: identity(adele),
    createdDateTime: created,
    [VERSIONS]: firstVersion(),
  });
  const buckets = ['To do', 'In progress', 'Done'].map((name, i) =>
    store.insert(refs.buckets, {
      id: plannerId(`bucket:contoso-launch:${name}`),
      name,
      planId,
      orderHint: `8585${i}`,
      [VERSIONS]: firstVersion(),
    }),
  );
  const seedTask = (title: string, bucket: Entity, assignee: SandboxUser | undefined, i: number) => {
    const id = plannerId(`task:contoso-launch:${title}`);
    store.insert(refs.details, newDetails(id));
    store.insert(refs.tasks, {
      id,
      planId,
      bucketId: bucket.id,
      title,
      orderHint: `8584${i}`,
      ...NEW_TASK,
      assignments: assignee
        ? {
            [assignee.id]: {
              '@odata.type': '#microsoft.graph.plannerAssignment',
              assignedBy: identity(adele),
              assignedDateTime: created,
              orderHint: '8585',
            },
          }
        : {},
      createdBy: identity(adele),
      createdDateTime: created,
      [VERSIONS]: firstVersion(),
    });
  };
  seedTask('Draft the press release', buckets[0]!, adele, 1);
  seedTask('Book the launch venue', buckets[1]!, megan, 2);
  seedTask('Order swag', buckets[0]!, undefined, 3);
}
