/**
 * Signed outbound events (issue 36, docs/events.md) through the local host: a receiver verifies
 * every delivery with the `standardwebhooks` package (an independent implementation of the spec)
 * and dedupes by `webhook-id`; it sees each change once and in order across an outage of several
 * retries and a secret rotation; replay redelivers the same ids; 410 disables the endpoint; a mail
 * arriving in the sandbox becomes a signed `mail.created`; bad registrations and cursors are 400s.
 */
import { appendChanges } from '../../shared/sync/feed';
import { MASTER_KEY, startTestApp, type TestApp } from '../support/app';
import { EventReceiver } from '../support/receiver';
import { sendMailAs } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const OLD_SECRET = 'whsec_' + Buffer.from('old-events-secret-for-the-e2e-test').toString('base64');
const NEW_SECRET = 'whsec_' + Buffer.from('new-events-secret-for-the-e2e-test').toString('base64');
const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestApp;
let adele: string;
const receiver = new EventReceiver([OLD_SECRET]);

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${t.api}${path}`, {
    method,
    headers: { 'x-functions-key': MASTER_KEY, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

async function userCall(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> {
  const res = await t.call(adele, method, path, body);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
}

let n = 0;
/** Feed entries as the sync engine writes them (mail items with a subject each). */
async function changes(count: number) {
  const batch = Array.from({ length: count }, () => {
    n++;
    return {
      service: 'mail' as const,
      resource: 'inbox',
      id: `msg-${n}`,
      type: 'created' as const,
      summary: { subject: `Message ${n}` },
      dedupe: `e2e-${n}`,
    };
  });
  return await appendChanges(adele, batch);
}

beforeAll(async () => {
  t = await startTestApp({
    env: { EVENTS_SIGNING_SECRETS: OLD_SECRET, EVENTS_RETRY_SECONDS: '1' },
  });
  await receiver.start();
  const registered = await admin('PUT', '/events/endpoints', { url: receiver.url });
  expect(registered.status).toBe(200);
  adele = await t.connect(ADELE, { features: ['mail'] });
});
const secretsBefore = process.env.EVENTS_SIGNING_SECRETS;
afterAll(async () => {
  if (secretsBefore === undefined) delete process.env.EVENTS_SIGNING_SECRETS;
  else process.env.EVENTS_SIGNING_SECRETS = secretsBefore;
  await t.stop();
  await receiver.stop();
});

test('every change arrives signed, once by webhook-id and in order, across an outage of several retries', async () => {
  // The connect itself is an event.
  const [connected] = await receiver.waitFor(1, 'connection event');
  expect(connected!.body).toMatchObject({
    type: 'connection.connected',
    data: { userId: adele, change: 'connected' },
  });

  const before = receiver.unique().length;
  // The receiver is down for its next three requests (the first attempt and two retries).
  let failures = 3;
  receiver.answer = () => (failures-- > 0 ? 503 : 204);
  const written = await changes(5);
  const got = (await receiver.waitFor(before + 5, 'changes')).slice(before);
  expect(got.map((d) => d.body.data.seq as number)).toEqual(written.map((e) => e.seq));
  expect(got.map((d) => d.body.type as string)).toEqual(Array(5).fill('mail.created'));
  expect(got[0]!.body.data.summary).toEqual({ subject: written[0]!.summary!.subject });
  // Nothing but ids, kind, time and the summary: no message bodies.
  expect(Object.keys(got[0]!.body.data).sort()).toEqual([
    'at',
    'change',
    'id',
    'resource',
    'seq',
    'service',
    'summary',
    'userId',
  ]);
  expect(failures).toBeLessThan(0);
  expect(receiver.rejected).toBe(0);
});

test('a secret rotation: both signatures during the overlap, then only the new one', async () => {
  process.env.EVENTS_SIGNING_SECRETS = `${NEW_SECRET},${OLD_SECRET}`;
  receiver.secrets = [OLD_SECRET, NEW_SECRET];
  const before = receiver.unique().length;
  await changes(1);
  const [overlap] = (await receiver.waitFor(before + 1, 'overlap change')).slice(before);
  expect(overlap!.verifiedWith).toEqual([OLD_SECRET, NEW_SECRET]);

  process.env.EVENTS_SIGNING_SECRETS = NEW_SECRET;
  await changes(1);
  const [after] = (await receiver.waitFor(before + 2, 'post-rotation change')).slice(before + 1);
  expect(after!.verifiedWith).toEqual([NEW_SECRET]);
  receiver.secrets = [NEW_SECRET];
});

test('replay from a cursor redelivers the same webhook-ids, in order', async () => {
  const firstIds = receiver.unique().map((d) => d.id);
  const seqs = receiver.unique().map((d) => d.body.data.seq as number);
  const cursor = String(seqs[1]! - 1);
  const sent = receiver.deliveries.length;
  const replay = await userCall('POST', '/events/replay', { after: cursor });
  expect(replay.status).toBe(202);
  for (let i = 0; i < 600 && receiver.deliveries.length < sent + firstIds.length - 1; i++) await sleep(50);
  const again = receiver.deliveries.slice(sent).map((d) => d.id);
  expect(again).toEqual(firstIds.slice(1));
  // Still exactly once after dedupe.
  expect(receiver.unique().map((d) => d.id)).toEqual(firstIds);
});

test('a mail arriving in the sandbox becomes a signed mail.created event', async () => {
  const before = receiver.unique().length;
  await sendMailAs(t.sandbox, MEGAN, ADELE, 'Pushed to the platform', 'not in the event');
  for (let i = 0; i < 600; i++) {
    if (
      receiver
        .unique()
        .slice(before)
        .some((d) => d.body.data.summary?.subject === 'Pushed to the platform')
    )
      break;
    await sleep(50);
  }
  const event = receiver.unique().find((d) => d.body.data.summary?.subject === 'Pushed to the platform');
  expect(event?.body).toMatchObject({ type: 'mail.created', data: { service: 'mail', change: 'created' } });
  expect(JSON.stringify(event?.body)).not.toContain('not in the event');
});

test('bad registrations and cursors are clear 400s', async () => {
  const http = await admin('PUT', '/events/endpoints', { url: 'http://platform.example/hook' });
  expect(http.status).toBe(400);
  expect(http.body.errors).toEqual([{ field: 'url', message: expect.stringMatching(/https/) }]);
  const filter = await admin('PUT', '/events/endpoints', {
    url: 'https://platform.example/hook',
    types: ['mail.exploded'],
  });
  expect(filter.status).toBe(400);
  expect(filter.body.errors[0]).toMatchObject({
    field: 'types[0]',
    message: expect.stringMatching(/not an event type/),
  });
  for (const after of ['abc', '-1', '999999', 12]) {
    const r = await userCall('POST', '/events/replay', { after });
    expect(r.status).toBe(400);
    expect(r.body.errors[0].field).toBe('after');
  }
  // Without the master key the endpoint routes are closed.
  const res = await t.call(adele, 'GET', '/events/endpoints');
  expect(res.status).toBe(401);
});

test('an endpoint answering 410 Gone is disabled and gets nothing more', async () => {
  receiver.answer = () => 410;
  const before = receiver.deliveries.length;
  await changes(1);
  let list: Json[] = [];
  for (let i = 0; i < 600; i++) {
    list = (await admin('GET', '/events/endpoints')).body.items as Json[];
    if (list[0]?.disabled) break;
    await sleep(50);
  }
  expect(list[0]).toMatchObject({ url: receiver.url, disabled: true, disabledReason: 'answered 410 Gone' });
  receiver.answer = () => 204;
  await changes(1);
  await sleep(500);
  expect(receiver.deliveries.length).toBe(before);
});
