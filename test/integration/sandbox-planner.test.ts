/**
 * The sandbox's Planner over real HTTP: plans of the user's groups, buckets, tasks and task details
 * with Planner's versioning rules. Sources, as cited in sandbox/graph/planner:
 * - planner-overview.md, "Planner resource versioning" and "Common Planner error conditions":
 *   If-Match required on PATCH/DELETE, 412 for an etag that is no version, 409 for a conflicting
 *   change made on an older version, older versions accepted when they do not conflict; the
 *   limits' names as 403 codes.
 * - plannertask-update.md / plannertaskdetails-update.md: 204, or 200 with
 *   `Prefer: return=representation`.
 * - plannertask.md: percentComplete 100 completes the task; the checklist/reference counts.
 * - planner-order-hint-format.md: "<previous> <next>!" computed by the service.
 * - https://learn.microsoft.com/office365/planner/planner-limits: 20 checklist items per task.
 */
import type { Sandbox } from '../../sandbox';
import { SEED_TEAM } from '../../sandbox/graph/teams';
import { between, serviceOrderHint } from '../../sandbox/graph/planner/order-hints';
import { mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let sandbox: Sandbox;
let adele: string;
let lee: string;
let planId: string;
let bucketId: string;

async function graph(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} };
}

const assign = (orderHint = ' !') => ({ '@odata.type': '#microsoft.graph.plannerAssignment', orderHint });

async function newTask(title: string, extra: Json = {}): Promise<Json> {
  const res = await graph(adele, 'POST', '/planner/tasks', { planId, bucketId, title, ...extra });
  expect(res.status).toBe(201);
  return res.body;
}

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  sandbox.directory.addUser({ userPrincipalName: 'nestor.wilke@contoso.test', displayName: 'Nestor Wilke' });
  sandbox.directory.addUser({
    userPrincipalName: 'pat.personal@outlook.test',
    displayName: 'Pat Personal',
    accountType: 'personal',
  });
  adele = await mintToken(sandbox, 'adele.vance@contoso.test', ['Tasks.ReadWrite', 'Group.Read.All']);
  lee = await mintToken(sandbox, 'lee.gu@contoso.test', ['Tasks.ReadWrite']);
  const plans = await graph(adele, 'GET', '/me/planner/plans');
  planId = plans.body.value[0].id;
  const buckets = await graph(adele, 'GET', `/planner/plans/${planId}/buckets`);
  bucketId = buckets.body.value.find((b: Json) => b.name === 'To do').id;
});
afterAll(async () => await sandbox.stop());

test("plans of the user's groups; buckets in order; the tasks assigned to the user", async () => {
  const plans = await graph(adele, 'GET', '/me/planner/plans');
  expect(plans.body.value).toEqual([
    expect.objectContaining({
      title: 'Launch plan',
      container: expect.objectContaining({ containerId: SEED_TEAM.id, type: 'group' }),
      '@odata.etag': expect.stringMatching(/^W\/"/),
    }),
  ]);
  expect(planId).toHaveLength(28);
  const byGroup = await graph(adele, 'GET', `/groups/${SEED_TEAM.id}/planner/plans`);
  expect(byGroup.body.value.map((p: Json) => String(p.id))).toEqual([planId]);
  const buckets = await graph(adele, 'GET', `/planner/plans/${planId}/buckets`);
  expect(buckets.body.value.map((b: Json) => String(b.name))).toEqual(['To do', 'In progress', 'Done']);
  const mine = await graph(adele, 'GET', '/me/planner/tasks');
  expect(mine.body.value.map((t: Json) => String(t.title))).toContain('Draft the press release');
  expect(mine.body.value.map((t: Json) => String(t.title))).not.toContain('Book the launch venue');
  // A plan has no lastModifiedDateTime in v1.0 (plannerPlan resource).
  expect(plans.body.value[0].lastModifiedDateTime).toBeUndefined();
});

test('If-Match: 400 without it, 412 for no version, 204 or 200 with return=representation', async () => {
  const task = await newTask('Write the FAQ');
  const url = `/planner/tasks/${task.id}`;
  expect((await graph(adele, 'PATCH', url, { title: 'x' })).status).toBe(400);
  const bogus = await graph(
    adele,
    'PATCH',
    url,
    { title: 'x' },
    { 'if-match': 'W/"JzEtVGFzay999999999999"' },
  );
  expect(bogus.status).toBe(412);
  expect(bogus.body.error.code).toBe('');

  const plain = await graph(
    adele,
    'PATCH',
    url,
    { title: 'Write the FAQ v2' },
    { 'if-match': task['@odata.etag'] },
  );
  expect(plain).toEqual({ status: 204, body: {} });
  const read = await graph(adele, 'GET', url);
  expect(read.body.title).toBe('Write the FAQ v2');
  // Etags of one resource compare ordinally: newer is greater.
  expect(read.body['@odata.etag'] > task['@odata.etag']).toBe(true);

  const rep = await graph(
    adele,
    'PATCH',
    url,
    { priority: 1 },
    { 'if-match': read.body['@odata.etag'], prefer: 'return=representation' },
  );
  expect(rep.status).toBe(200);
  expect(rep.body).toMatchObject({ id: task.id, priority: 1, title: 'Write the FAQ v2' });
});

test('an older etag is accepted when its change does not conflict, 409 when it does', async () => {
  const task = await newTask('Plan the keynote');
  const url = `/planner/tasks/${task.id}`;
  const v1 = task['@odata.etag'];
  expect(
    (await graph(adele, 'PATCH', url, { title: 'Plan the keynote (draft)' }, { 'if-match': v1 })).status,
  ).toBe(204);
  // Another property, on the older version: no conflict.
  expect((await graph(adele, 'PATCH', url, { priority: 3 }, { 'if-match': v1 })).status).toBe(204);
  // The same property, on the older version: conflict.
  const conflict = await graph(adele, 'PATCH', url, { title: 'Someone else’s title' }, { 'if-match': v1 });
  expect(conflict.status).toBe(409);
  expect((await graph(adele, 'GET', url)).body).toMatchObject({
    title: 'Plan the keynote (draft)',
    priority: 3,
  });
  // A delete on an older version conflicts with any newer change.
  expect((await graph(adele, 'DELETE', url, undefined, { 'if-match': v1 })).status).toBe(409);
  const current = (await graph(adele, 'GET', url)).body['@odata.etag'];
  expect((await graph(adele, 'DELETE', url, undefined, { 'if-match': current })).status).toBe(204);
  expect((await graph(adele, 'GET', url)).status).toBe(404);
  expect((await graph(adele, 'GET', `${url}/details`)).status).toBe(404);
});

test('details: checklist and description in their own resource; the task shows the counts', async () => {
  const task = await newTask('Prepare the demo');
  const details = await graph(adele, 'GET', `/planner/tasks/${task.id}/details`);
  expect(details.body).toMatchObject({ id: task.id, description: '', checklist: {}, references: {} });
  // Open-type values must declare their type.
  const untyped = await graph(
    adele,
    'PATCH',
    `/planner/tasks/${task.id}/details`,
    { checklist: { a1: { title: 'Laptop' } } },
    { 'if-match': details.body['@odata.etag'] },
  );
  expect(untyped.status).toBe(400);
  const item = (title: string, isChecked = false) => ({
    '@odata.type': 'microsoft.graph.plannerChecklistItem',
    title,
    isChecked,
  });
  const updated = await graph(
    adele,
    'PATCH',
    `/planner/tasks/${task.id}/details`,
    { description: 'Ten minutes, live', checklist: { a1: item('Laptop'), a2: item('Slides', true) } },
    { 'if-match': details.body['@odata.etag'], prefer: 'return=representation' },
  );
  expect(updated.status).toBe(200);
  expect(Object.keys(updated.body.checklist).sort()).toEqual(['a1', 'a2']);
  expect(updated.body.checklist.a1.orderHint < updated.body.checklist.a2.orderHint).toBe(true);
  const after = (await graph(adele, 'GET', `/planner/tasks/${task.id}`)).body;
  expect(after).toMatchObject({ checklistItemCount: 2, activeChecklistItemCount: 1, hasDescription: true });
  expect(after['@odata.etag']).not.toBe(task['@odata.etag']);

  // Two clients changing different checklist items on the same version do not conflict.
  const v = updated.body['@odata.etag'];
  const url = `/planner/tasks/${task.id}/details`;
  expect(
    (
      await graph(
        adele,
        'PATCH',
        url,
        { checklist: { a1: { ...item('Laptop'), isChecked: true } } },
        { 'if-match': v },
      )
    ).status,
  ).toBe(204);
  expect((await graph(adele, 'PATCH', url, { checklist: { a2: null } }, { 'if-match': v })).status).toBe(204);
  expect((await graph(adele, 'PATCH', url, { checklist: { a1: null } }, { 'if-match': v })).status).toBe(409);
  expect((await graph(adele, 'GET', `/planner/tasks/${task.id}`)).body).toMatchObject({
    checklistItemCount: 1,
    activeChecklistItemCount: 0,
  });

  // References are keyed by the encoded URL.
  const now = (await graph(adele, 'GET', url)).body['@odata.etag'];
  const raw = await graph(
    adele,
    'PATCH',
    url,
    { references: { 'https://contoso.com': { '@odata.type': 'microsoft.graph.plannerExternalReference' } } },
    { 'if-match': now },
  );
  expect(raw.status).toBe(400);
});

test('limits are 403s named by the limit: 20 checklist items on a task', async () => {
  const task = await newTask('Collect feedback');
  const checklist: Json = {};
  for (let i = 0; i < 21; i++)
    checklist[`c${i}`] = { '@odata.type': 'microsoft.graph.plannerChecklistItem', title: `Item ${i}` };
  const details = await graph(adele, 'GET', `/planner/tasks/${task.id}/details`);
  const res = await graph(
    adele,
    'PATCH',
    `/planner/tasks/${task.id}/details`,
    { checklist },
    {
      'if-match': details.body['@odata.etag'],
    },
  );
  expect(res.status).toBe(403);
  expect(res.body.error.code).toBe('MaximumChecklistItemsOnTask');
});

test('completion, priority, dates, assignments and buckets are validated as Planner does', async () => {
  const leeId = sandbox.directory.findUser('lee.gu@contoso.test')!.id;
  const task = await newTask('Ship it', { assignments: { [leeId]: assign() } });
  expect(task.assignments[leeId]).toMatchObject({
    orderHint: expect.any(String),
    assignedDateTime: expect.any(String),
  });
  const url = `/planner/tasks/${task.id}`;
  let etag = task['@odata.etag'];
  const patch = async (body: Json) => {
    const res = await graph(adele, 'PATCH', url, body, { 'if-match': etag, prefer: 'return=representation' });
    if (res.status === 200) etag = res.body['@odata.etag'];
    return res;
  };
  const done = await patch({ percentComplete: 100 });
  expect(done.body).toMatchObject({ percentComplete: 100, completedDateTime: expect.any(String) });
  expect(done.body.completedBy.user.id).toBe(sandbox.directory.findUser('adele.vance@contoso.test')!.id);
  expect((await patch({ percentComplete: 50 })).body.completedDateTime).toBeNull();
  expect((await patch({ priority: 11 })).status).toBe(400);
  expect(
    (await patch({ startDateTime: '2026-05-02T00:00:00Z', dueDateTime: '2026-05-01T00:00:00Z' })).status,
  ).toBe(400);
  expect((await patch({ assignments: { [leeId]: { orderHint: ' !' } } })).status).toBe(400);
  expect((await patch({ bucketId: 'nobucketnobucketnobucketnobu' })).status).toBe(400);
  // A raw order hint is refused; the "<previous> <next>!" form is computed by the service.
  expect((await patch({ orderHint: 'abc' })).status).toBe(400);
  const placed = await patch({ orderHint: ' !' });
  expect(placed.status).toBe(200);
  expect(placed.body.orderHint).not.toBe(' !');
});

test('order hints: the service value sorts between its neighbours, composed values resolve', () => {
  expect(between('5637', 'adhg') > '5637' && between('5637', 'adhg') < 'adhg').toBe(true);
  const first = serviceOrderHint(' 5637!', [])!;
  expect(first < '5637').toBe(true);
  const last = serviceOrderHint('adhg !', [])!;
  expect(last > 'adhg').toBe(true);
  // The doc's example: item 5 placed between item 3 (' 5637!') and item 4 ('5637 adhg!').
  const item4 = serviceOrderHint('5637 adhg!', [])!;
  const nested = serviceOrderHint(' 5637! 5637 adhg!!', [])!;
  expect(first < nested && nested < item4 && item4 < 'adhg').toBe(true);
  expect(serviceOrderHint('adhg 5637!', [])).toBeUndefined(); // next before previous
  expect(serviceOrderHint('8585', ['8585'])).toBe('8585'); // a value the service gave out
  for (const [a, b] of [
    ['a', 'a!'],
    ['a', 'ab'],
    ['~', ''],
    ['', ' !'],
  ]) {
    const m = between(a!, b!);
    expect(m > a! && (b === '' || m < b!)).toBe(true);
  }
});

test('plans are for their group’s members; personal accounts have no Planner', async () => {
  // Lee is a member of the team's group: he sees the plan. Someone outside it does not.
  expect((await graph(lee, 'GET', `/planner/plans/${planId}`)).status).toBe(200);
  const outsider = await mintToken(sandbox, 'nestor.wilke@contoso.test', ['Tasks.ReadWrite']);
  expect((await graph(outsider, 'GET', `/planner/plans/${planId}`)).status).toBe(403);
  expect((await graph(outsider, 'GET', '/me/planner/plans')).body.value).toEqual([]);
  const pat = await mintToken(sandbox, 'pat.personal@outlook.test', ['Tasks.ReadWrite']);
  expect((await graph(pat, 'GET', '/me/planner/plans')).status).toBe(403);
  const readOnly = await mintToken(sandbox, 'adele.vance@contoso.test', ['Tasks.Read']);
  expect((await graph(readOnly, 'POST', '/planner/tasks', { planId, title: 'x' })).status).toBe(403);
});
