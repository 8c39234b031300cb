/**
 * One Microsoft account connected by two platform users (two devices of one person, or a shared
 * mailbox account): each connection owns its subscriptions and clientState; connecting the second
 * never deletes the first one's (Graph lists every subscription of the app for the account, so the
 * second reconcile used to take the first one's for orphans), and a new mail reaches both feeds.
 */
import { controlCall, sendMailAs, waitFor as waitBriefly } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';
import { listSubscriptions } from '../../shared/webhooks/store';
import { getSyncState } from '../../shared/sync/state';
import { reconcileUser } from '../../shared/webhooks/manager';

type Json = Record<string, unknown>;
const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

/** Connect-time work (subscriptions, first sync rounds) can take a while on a busy machine. */
const waitFor = <T>(fn: () => Promise<T | undefined | false>) => waitBriefly(fn, 15_000);

async function liveIds(): Promise<Set<string>> {
  const { value } = await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions');
  return new Set(value.map((s) => String(s.id)));
}

test('two platform users on one account: both keep their subscriptions and both hear of a new mail', async () => {
  const first = await t.connect(ADELE, { features: ['mail'] });
  const firstRows = await waitFor(async () => {
    const rows = await listSubscriptions(first);
    return rows.length > 0 ? rows : undefined;
  });
  const second = await t.connect(ADELE, { features: ['mail'] });
  await waitFor(async () => (await listSubscriptions(second)).length > 0);
  // Let the second user's reconcile (and anything it starts) finish, then look at Graph.
  await waitFor(async () => (await getSyncState(second, 'mail:inbox'))?.deltaLink);
  await waitFor(async () => (await getSyncState(first, 'mail:inbox'))?.deltaLink);
  const live = await liveIds();
  for (const row of firstRows) expect(live.has(row.subscriptionId)).toBe(true);
  for (const row of await listSubscriptions(second)) expect(live.has(row.subscriptionId)).toBe(true);

  // A timer round for each (the renewal reconcile) deletes nothing of the other's either.
  const log = { log: () => undefined, warn: () => undefined, error: () => undefined };
  for (const userId of [first, second]) {
    expect((await reconcileUser(userId, log, 'timer')).deleted).toBe(0);
  }
  const after = await liveIds();
  for (const row of [...firstRows, ...(await listSubscriptions(second))])
    expect(after.has(row.subscriptionId)).toBe(true);

  // A new mail to Adele reaches both users' change feeds.
  const subject = `For both ${Date.now()}`;
  await sendMailAs(t.sandbox, MEGAN, ADELE, subject);
  for (const userId of [first, second]) {
    await waitFor(async () => {
      const page = (await (await t.call(userId, 'GET', '/changes?after=0&limit=1000')).json()) as {
        items: Array<{ summary?: { subject?: string } }>;
      };
      return page.items.some((i) => i.summary?.subject === subject);
    });
  }
});
