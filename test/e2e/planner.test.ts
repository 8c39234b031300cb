/**
 * Planner through the local host as a platform calls it (issue 25): a task with a checklist in a
 * bucket, two updates in a row (each on the version the one before left), a concurrent edit by a
 * colleague refused as a 409 conflict with nothing overwritten, the checklist changed, completed
 * and deleted.
 */
import { InvocationContext } from '@azure/functions';
import type { ChangeEntry } from '../../shared/sync/feed';
import { handleSyncJob } from '../../shared/sync/worker';
import { actionCaller } from '../support/actions';
import { startTestApp, type TestApp } from '../support/app';
import { mintToken } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';

let t: TestApp;
let adele: string;
let planId: string;
let bucketId: string;

const { call, ok } = actionCaller(
  () => t,
  'planner',
  () => adele,
);

beforeAll(async () => {
  t = await startTestApp();
  adele = await t.connect(ADELE, { features: ['planner'] });
  const plans = await ok('listPlans', {});
  planId = (plans.items as Json[]).find((p) => p.title === 'Launch plan')!.id;
  const buckets = await ok('listBuckets', { planId });
  expect((buckets.items as Json[]).map((b) => String(b.name))).toEqual(['To do', 'In progress', 'Done']);
  bucketId = (buckets.items as Json[])[0]!.id;
});
afterAll(async () => await t.stop());

test('a task with a checklist in a bucket: two updates in a row, a colleague’s edit is a 409, complete, delete', async () => {
  const deck = {
    planId,
    bucketId,
    title: 'Prepare the launch deck',
    priority: 'important',
    dueAt: '2026-12-18T17:00:00Z',
    assignees: [MEGAN],
    description: 'Twelve slides at most',
    checklist: ['Outline', 'Draft slides', 'Review with Megan'],
  };
  const key = { 'idempotency-key': 'launch-deck-1' };
  const created = await call('createTask', deck, key);
  expect(created.status).toBe(201);
  const task = created.body;
  expect(task).toMatchObject({
    title: 'Prepare the launch deck',
    bucketId,
    priority: 'important',
    progress: 'notStarted',
    dueAt: '2026-12-18T17:00:00.000Z',
    description: 'Twelve slides at most',
    hasDescription: true,
    checklist: { total: 3, open: 3 },
    assignees: [t.sandbox.directory.findUser(MEGAN)!.id],
  });
  expect((task.checklistItems as Json[]).map((i) => String(i.title))).toEqual([
    'Outline',
    'Draft slides',
    'Review with Megan',
  ]);
  // Another body under the same Idempotency-Key is refused; the same body again is the same task.
  const again = await call('createTask', { planId, bucketId, title: 'Prepare the launch deck' }, key);
  expect(again.status).toBe(422);
  const replay = await call('createTask', deck, key);
  expect(replay.body.id).toBe(task.id);
  const all = (await ok('listTasks', { planId, progress: 'all', top: 400 })).items as Json[];
  expect(all.filter((x) => x.title === 'Prepare the launch deck')).toHaveLength(1);

  // Two updates in a row, without eTags: each writes on the version the one before left.
  const first = await ok('updateTask', { taskId: task.id, title: 'Prepare the launch deck (v2)' });
  const second = await ok('updateTask', { taskId: task.id, priority: 'urgent', progress: 'inProgress' });
  expect(second).toMatchObject({
    title: 'Prepare the launch deck (v2)',
    priority: 'urgent',
    progress: 'inProgress',
  });
  expect(second.eTag > first.eTag).toBe(true);

  // Adele reads; Megan changes the title in Planner meanwhile; Adele's change on what she read is
  // refused as a conflict, and Megan's title stays.
  const read = await ok('getTask', { taskId: task.id });
  const megan = await mintToken(t.sandbox, MEGAN, ['Tasks.ReadWrite']);
  const current = (await (
    await fetch(`${t.sandbox.graphBaseUrl}/planner/tasks/${task.id}`, {
      headers: { authorization: `Bearer ${megan}` },
    })
  ).json()) as Json;
  const meganEdit = await fetch(`${t.sandbox.graphBaseUrl}/planner/tasks/${task.id}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${megan}`,
      'content-type': 'application/json',
      'if-match': String(current['@odata.etag']),
    },
    body: JSON.stringify({ title: 'Launch deck (Megan)' }),
  });
  expect(meganEdit.status).toBe(204);
  const clash = await call('updateTask', { taskId: task.id, eTag: read.eTag, title: 'Launch deck (Adele)' });
  expect(clash.status).toBe(409);
  expect(clash.body.code).toBe('conflict');
  expect(clash.body.detail).toContain('planner.getTask');
  expect((await ok('getTask', { taskId: task.id })).title).toBe('Launch deck (Megan)');

  // The checklist: check one by title, remove one, add one at the end.
  const listed = await ok('updateChecklist', {
    taskId: task.id,
    check: ['Outline'],
    remove: ['Review with Megan'],
    add: ['Rehearse'],
  });
  expect((listed.checklistItems as Json[]).map((i) => [String(i.title), Boolean(i.isChecked)])).toEqual([
    ['Outline', true],
    ['Draft slides', false],
    ['Rehearse', false],
  ]);
  expect(listed.checklist).toEqual({ total: 3, open: 2 });
  const missing = await call('updateChecklist', { taskId: task.id, check: ['Nothing like it'] });
  expect([missing.status, missing.body.code]).toEqual([400, 'invalid_input']);

  const done = await ok('completeTask', { taskId: task.id });
  expect(done).toMatchObject({
    progress: 'completed',
    percentComplete: 100,
    completedAt: expect.any(String),
  });
  expect(((await ok('listTasks', { planId })).items as Json[]).map((x) => String(x.id))).not.toContain(
    task.id,
  );
  expect(
    ((await ok('listTasks', { planId, progress: 'completed' })).items as Json[]).map((x) => String(x.id)),
  ).toContain(task.id);

  // A stale eTag does not delete; the current version does.
  const stale = await call('deleteTask', { taskId: task.id, eTag: read.eTag });
  expect(stale.status).toBe(409);
  expect(await ok('deleteTask', { taskId: task.id })).toEqual({ taskId: task.id, deleted: true });
  const gone = await call('getTask', { taskId: task.id });
  expect([gone.status, gone.body.code]).toEqual([404, 'not_found']);
}, 60000);

test('the user’s own tasks across plans; bad input and a missing feature are clear problems', async () => {
  const mine = await ok('listTasks', {});
  expect((mine.items as Json[]).map((x) => String(x.title))).toContain('Draft the press release');
  expect((mine.items as Json[]).map((x) => String(x.title))).not.toContain('Book the launch venue');

  const badId = await call('getTask', { taskId: "x' or 1 eq 1" });
  expect([badId.status, badId.body.code]).toEqual([400, 'invalid_input']);
  const noPlan = await call('listTasks', { bucketId });
  expect(noPlan.status).toBe(400);
  const nobody = await call('createTask', { planId, title: 'x', assignees: ['nobody@contoso.test'] });
  expect([nobody.status, nobody.body.code]).toEqual([400, 'invalid_input']);

  const lee = await t.connect('lee.gu@contoso.test', { features: ['mail'] });
  const res = await t.call(lee, 'POST', '/planner/listPlans', {});
  expect(res.status).toBe(403);
  expect(((await res.json()) as Json).code).toBe('feature_not_granted');
}, 60000);

test('tasks assigned to the user reach the change feed: new, changed and gone, each once', async () => {
  const quiet = () => new InvocationContext({ functionName: 'syncWorker', logHandler: () => undefined });
  // The sync timer's round (Planner has no delta or notifications on v1.0: rounds list the tasks).
  const round = async () => {
    for (let i = 0; i < 200; i++) {
      const outcome = await handleSyncJob(
        { userId: adele, resource: 'planner:tasks', reason: 'timer' },
        quiet(),
      );
      if (outcome.status === 'completed') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the planner round stayed busy');
  };
  const feed = async () => {
    const res = await t.call(adele, 'GET', '/changes?service=planner&limit=1000');
    return ((await res.json()) as Json).items as ChangeEntry[];
  };
  await round();
  const before = (await feed()).length;

  // Megan gives Adele a task in Planner, then changes it, then deletes it.
  const megan = await mintToken(t.sandbox, MEGAN, ['Tasks.ReadWrite']);
  const graph = async (method: string, path: string, body?: unknown, etag?: string) => {
    const res = await fetch(`${t.sandbox.graphBaseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${megan}`,
        'content-type': 'application/json',
        prefer: 'return=representation',
        ...(etag ? { 'if-match': etag } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const adeleId = t.sandbox.directory.findUser(ADELE)!.id;
  const created = await graph('POST', '/planner/tasks', {
    planId,
    bucketId,
    title: 'Check the venue contract',
    assignments: { [adeleId]: { '@odata.type': '#microsoft.graph.plannerAssignment', orderHint: ' !' } },
  });
  expect(created.status).toBe(201);
  const id = String(created.body.id);
  await round();
  await round(); // a second look changes nothing
  let entries = (await feed()).slice(before).filter((e) => e.id === id);
  expect(entries.map((e) => e.type)).toEqual(['created']);
  expect(entries[0]).toMatchObject({
    service: 'planner',
    resource: 'planner:tasks',
    summary: { title: 'Check the venue contract', planId, progress: 'notStarted', priority: 'medium' },
  });

  const changed = await graph(
    'PATCH',
    `/planner/tasks/${id}`,
    { percentComplete: 50 },
    String(created.body['@odata.etag']),
  );
  expect(changed.status).toBe(200);
  await round();
  expect(
    await graph('DELETE', `/planner/tasks/${id}`, undefined, String(changed.body['@odata.etag'])),
  ).toMatchObject({
    status: 204,
  });
  await round();
  await round();
  entries = (await feed()).slice(before).filter((e) => e.id === id);
  expect(entries.map((e) => e.type)).toEqual(['created', 'updated', 'deleted']);
  expect(entries[1]!.summary).toMatchObject({ progress: 'inProgress' });
}, 60000);
