/**
 * Silence is detected (issue 36): the sandbox stops delivering a user's notifications without a
 * word (PUT /_sandbox/subscriptions/silence); the next safety-net (timer) round finds changes no
 * notification announced, and none comes in the grace period (1 s here): the feed says
 * `feed.degraded`, the round has reconciled them by delta,
 * the subscription is replaced, the feed says `feed.recovered`, and every change is in the feed
 * once. GET /api/connections/me and the health metrics show it. Also: a subscription Graph
 * removes is `subscription.lost` then `subscription.recovered`; an expired delta token's resync is
 * `sync.gap_recovered`.
 */
import { InvocationContext } from '@azure/functions';
import type { ChangeEntry } from '../../shared/sync/feed';
import { queueClient } from '../../shared/storage/clients';
import { SYNC_JOBS_QUEUE } from '../../shared/sync/jobs';
import { NOTIFICATIONS_QUEUE } from '../../shared/webhooks/notifications';
import { handleSyncJob } from '../../shared/sync/worker';
import { startTestApp, type TestApp } from '../support/app';
import { controlCall, sendMailAs } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = () =>
  new InvocationContext({
    functionName: 'syncWorker',
    logHandler: (_l, ...a) => {
      if (process.env.DEBUG_SILENCE) console.log(...a);
    },
  });

let t: TestApp;
let adele: string;

async function feed(): Promise<ChangeEntry[]> {
  const res = await t.call(adele, 'GET', '/changes?limit=1000');
  return ((await res.json()) as Json).items as ChangeEntry[];
}

const mailFromMegan = (subject: string) => sendMailAs(t.sandbox, MEGAN, ADELE, subject, 'x');

/** The safety-net round the sync timer enqueues every SYNC_INTERVAL_MINUTES. */
async function timerRound(): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const outcome = await handleSyncJob({ userId: adele, resource: 'mail:inbox', reason: 'timer' }, quiet());
    if (outcome.status === 'completed') return;
    await sleep(50);
  }
  throw new Error('the inbox stayed busy');
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Nothing left that would sync the inbox on its own: no notification the sandbox still has to
 * deliver (on a busy machine a slow answer makes Graph send it again, later), none queued for the
 * notification worker, no sync job waiting, visible or delayed (a trailing notification job), and
 * no round running.
 */
async function syncIdle(): Promise<void> {
  await until(
    async () =>
      (await controlCall<{ outstanding: number }>(t.sandbox, 'GET', '/subscriptions/stats?last=0'))
        .outstanding === 0,
    'every notification delivered',
  );
  // Azurite, like Azure, counts invisible (delayed or taken) messages too.
  for (const name of [NOTIFICATIONS_QUEUE, SYNC_JOBS_QUEUE]) {
    const queue = await queueClient(name);
    await until(async () => (await queue.getProperties()).approximateMessagesCount === 0, `${name} empty`);
  }
  // The last job taken may still be running: the inbox's lease is free once it is done.
  await timerRound();
}

const subjectsIn = (entries: ChangeEntry[]) =>
  entries.filter((e) => e.service === 'mail').map((e) => (e.summary as { subject?: string } | null)?.subject);

beforeAll(async () => {
  t = await startTestApp({ env: { FEED_SILENCE_GRACE_SECONDS: '1' } });
  adele = await t.connect(ADELE, { features: ['mail'] });
  await until(
    async () => (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value.length > 0,
    'a subscription',
  );
});
afterAll(async () => await t.stop());

test('notifications that go quiet: degraded, reconciled by delta, resubscribed, recovered, nothing lost or doubled', async () => {
  // A first look by the timer, then a mail that a notification announces, then another look.
  await timerRound();
  await mailFromMegan('Announced');
  await until(async () => subjectsIn(await feed()).includes('Announced'), 'the announced mail');
  await syncIdle();
  expect((await feed()).filter((e) => e.service === 'feed')).toEqual([]);

  const before = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value;
  const silenced = await controlCall<{ silenced: string[] }>(t.sandbox, 'PUT', '/subscriptions/silence', {
    user: ADELE,
    silent: true,
  });
  expect(silenced.silenced.sort()).toEqual(before.map((s) => s.id as string).sort());
  await mailFromMegan('Unannounced 1');
  await mailFromMegan('Unannounced 2');
  await sleep(500);
  expect(subjectsIn(await feed())).not.toContain('Unannounced 1'); // nobody was told

  // The timer's round finds them; the re-check after the grace period calls it.
  await timerRound();
  let entries: ChangeEntry[] = [];
  await until(async () => {
    entries = await feed();
    return entries.some((e) => e.service === 'feed' && e.type === 'recovered');
  }, 'feed.recovered');
  const kinds = entries.map((e) => `${e.service}.${e.type}`);
  // The round wrote the two mails, then the feed said it had been degraded and has recovered.
  const first = kinds.indexOf('feed.degraded');
  expect(first).toBeGreaterThan(-1);
  expect(kinds.slice(first)).toEqual(['feed.degraded', 'feed.recovered']);
  expect(entries[first]!.summary).toMatchObject({
    resource: 'mail:inbox',
    reason: 'changes_without_notification',
    unannounced: 2,
  });
  // Every change once.
  const subjects = subjectsIn(entries);
  expect(subjects.filter((s) => s === 'Unannounced 1')).toHaveLength(1);
  expect(subjects.filter((s) => s === 'Unannounced 2')).toHaveLength(1);
  expect(subjects.filter((s) => s === 'Announced')).toHaveLength(1);

  // A new subscription replaced the quiet one, and notifications flow again.
  const after = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value;
  expect(after.map((s) => s.id as string)).not.toEqual(before.map((s) => s.id as string));
  await mailFromMegan('Announced again');
  await until(
    async () => subjectsIn(await feed()).includes('Announced again'),
    'notifications after recovery',
  );

  // A change whose notification is still on its way when the timer looks is not a silence: the
  // round makes the inbox suspect, the notification comes, the re-check clears it.
  await controlCall(t.sandbox, 'PUT', '/subscriptions/silence', { user: ADELE, silent: false });
  const feedBefore = (await feed()).filter((e) => e.service === 'feed').length;
  await mailFromMegan('Racing the timer');
  await timerRound();
  await until(async () => subjectsIn(await feed()).includes('Racing the timer'), 'the racing mail');
  // Past the grace period (1 s), the re-check (if the round ran before the notification) has run.
  await sleep(2500);
  expect((await feed()).filter((e) => e.service === 'feed')).toHaveLength(feedBefore);

  const me = (await (await t.call(adele, 'GET', '/connections/me')).json()) as Json;
  expect(me.feed).toEqual({ status: 'healthy', degraded: [] });
  const health = (await (await fetch(`${t.api}/health`)).json()) as Json;
  expect(health.metrics.feed).toMatchObject({ degraded: expect.any(Number), recovered: expect.any(Number) });
  expect(health.metrics.feed.recovered).toBeGreaterThanOrEqual(1);
});

test('a subscription Graph removes is subscription.lost, then subscription.recovered once replaced', async () => {
  const [sub] = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value.filter((s) =>
    String(s.resource).includes('Inbox'),
  );
  expect(sub).toBeDefined();
  await controlCall(t.sandbox, 'POST', `/subscriptions/${String(sub!.id)}/lifecycle`, {
    event: 'subscriptionRemoved',
  });
  let kinds: string[] = [];
  await until(async () => {
    kinds = (await feed()).filter((e) => e.service === 'subscription').map((e) => `${e.service}.${e.type}`);
    return kinds.includes('subscription.recovered');
  }, 'subscription.recovered');
  expect(kinds).toEqual(['subscription.lost', 'subscription.recovered']);
  const lost = (await feed()).find((e) => e.service === 'subscription' && e.type === 'lost')!;
  expect(lost.summary).toEqual({ resource: 'mail:inbox', reason: 'subscriptionRemoved' });
  const now = (await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions')).value;
  expect(now.map((s) => s.id as string)).not.toContain(sub!.id);
});

test('an expired delta token: the resync reports the gap as sync.gap_recovered, each change once', async () => {
  await controlCall(t.sandbox, 'POST', '/delta/invalidate', { userId: ADELE });
  await mailFromMegan('Across the gap');
  await timerRound();
  let entries: ChangeEntry[] = [];
  await until(async () => {
    entries = await feed();
    return entries.some((e) => e.service === 'sync' && e.type === 'gap_recovered');
  }, 'sync.gap_recovered');
  const gap = entries.find((e) => e.service === 'sync')!;
  expect(gap.summary).toMatchObject({ resource: 'mail:inbox', reason: 'delta_reset', created: 1 });
  expect(subjectsIn(entries).filter((s) => s === 'Across the gap')).toHaveLength(1);
});
