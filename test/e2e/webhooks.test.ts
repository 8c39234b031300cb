/**
 * Change notifications end to end through the local host: connect creates subscriptions in the
 * sandbox (which validates our URLs over loopback), the sandbox POSTs notifications to our
 * anonymous webhook, the worker turns them into delta syncs, and the change feed shows the
 * change. Also: forged notifications, the validation echo, lifecycle events, renewal ahead of
 * expiry, 404 recreation, orphans, disconnect, the Teams setting, a burst of 500, and 503 when
 * nothing could be stored. Rules: ../shared/reference/graph-behaviour.md §6
 * (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
 * https://learn.microsoft.com/graph/change-notifications-lifecycle-events).
 */
import { createHash, randomUUID } from 'node:crypto';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { graphWebhook } from '../../functions/webhooks/graph';
import { wellKnownFolderId } from '../../sandbox/graph/mail/model';
import { subscriptionsState } from '../../sandbox/graph/subscriptions';
import { resetConfig } from '../../shared/config';
import { HEALTH_USER_AGENT } from '../../shared/health';
import { getSyncState } from '../../shared/sync/state';
import { enqueue, resetStorageClients } from '../../shared/storage/clients';
import { createGraphSubscription } from '../../shared/webhooks/graph';
import { RENEWALS_QUEUE } from '../../shared/webhooks/renewal';
import { notificationUrls } from '../../shared/webhooks/resources';
import { webhookStats } from '../../shared/webhooks/stats';
import { listSubscriptions } from '../../shared/webhooks/store';
import { controlCall, requestLog, sendMailAs, waitFor } from '../support/sandbox';
import { startTestApp, type TestApp } from '../support/app';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
const ALL = ['mail', 'calendar', 'files', 'contacts', 'todo'];
let t: TestApp;
let adele: string;
let adeleGraphId: string;

beforeAll(async () => {
  // Retries compressed from Graph's hours to milliseconds (sandbox option).
  t = await startTestApp({ sandbox: { subscriptions: { retryDelaysMs: [100, 200, 400] } } });
  adeleGraphId = t.sandbox.directory.findUser(ADELE)!.id;
  adele = await t.connect(ADELE, { features: ALL });
});
afterAll(async () => await t.stop());
afterEach(() => jest.useRealTimers());

// ---------------------------------------------------------------- helpers

async function sandboxSubs(graphUserId: string): Promise<Json[]> {
  const { value } = await controlCall<{ value: Json[] }>(t.sandbox, 'GET', '/subscriptions');
  return value.filter((s) => s.creatorId === graphUserId);
}

const byResource = (subs: Json[], resource: string) => subs.find((s) => s.resource === resource);

/** The clientState Graph holds for a subscription (the sandbox knows it; we only store its hash). */
function clientStateOf(id: string): string {
  return subscriptionsState(t.sandbox).subs.get(id)!.clientState!;
}

async function feed(userId: string, after = 0): Promise<{ items: Json[]; nextCursor: string }> {
  const items: Json[] = [];
  let cursor = String(after);
  for (;;) {
    const res = await t.call(userId, 'GET', `/changes?after=${cursor}&limit=1000`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Json[]; nextCursor: string; hasMore: boolean };
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!page.hasMore) return { items, nextCursor: cursor };
  }
}

/** The first sync of a resource is a silent baseline (shared/sync/engine.ts): wait for it to finish. */
async function syncBaseline(userId: string): Promise<void> {
  await waitFor(async () => (await getSyncState(userId, 'mail:inbox'))?.deltaLink, 15_000);
}

async function postWebhook(body: unknown, path = '/webhooks/graph'): Promise<Response> {
  return await fetch(`${t.api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function sendMail(to: string, subject: string): Promise<void> {
  await sendMailAs(t.sandbox, MEGAN, to, subject);
}

const INBOX = "me/mailFolders('Inbox')/messages";

/** Fake only Date (the sandbox clock follows it); timers and I/O keep running. */
const NOT_DATE: Array<
  | 'nextTick'
  | 'setImmediate'
  | 'clearImmediate'
  | 'setTimeout'
  | 'clearTimeout'
  | 'setInterval'
  | 'clearInterval'
  | 'queueMicrotask'
  | 'hrtime'
  | 'performance'
> = [
  'nextTick',
  'setImmediate',
  'clearImmediate',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'queueMicrotask',
  'hrtime',
  'performance',
];

// ---------------------------------------------------------------- tests

describe('subscriptions after connect', () => {
  test('one per granted resource, with a lifecycle URL, a hashed clientState and the expiry Graph returned', async () => {
    const subs = await sandboxSubs(adeleGraphId);
    const { notificationUrl, lifecycleNotificationUrl } = notificationUrls();
    expect(notificationUrl).toBe(`${t.host.url}/api/webhooks/graph`);
    const resources = subs.map((s) => String(s.resource));
    for (const r of [INBOX, 'me/events', 'me/drive/root', 'me/contacts']) expect(resources).toContain(r);
    expect(resources.some((r) => /^me\/todo\/lists\/[^/]+\/tasks$/.test(r))).toBe(true);
    expect(resources.some((r) => r.includes('chats'))).toBe(false); // TEAMS_CHAT_SUBSCRIPTIONS_ENABLED is off
    expect(byResource(subs, INBOX)).toMatchObject({
      changeType: 'created,updated',
      lifecycleNotificationUrl,
    });
    expect(byResource(subs, 'me/drive/root')!.changeType).toBe('updated');
    for (const s of subs) {
      expect(s).toMatchObject({ notificationUrl, lifecycleNotificationUrl, hasClientState: true });
    }
    // Lifetime: the resource's maximum minus a margin (§6.2): ~7 days for mail, ~30 for the drive.
    const days = (s: Json) => (Date.parse(String(s.expirationDateTime)) - Date.now()) / 86_400_000;
    expect(days(byResource(subs, INBOX)!)).toBeGreaterThan(6.9);
    expect(days(byResource(subs, INBOX)!)).toBeLessThan(7);
    expect(days(byResource(subs, 'me/drive/root')!)).toBeGreaterThan(29);

    const rows = await listSubscriptions(adele);
    expect(rows.map((r) => r.subscriptionId).sort()).toEqual(subs.map((s) => String(s.id)).sort());
    for (const row of rows) {
      const sub = subs.find((s) => s.id === row.subscriptionId)!;
      const secret = clientStateOf(row.subscriptionId);
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(row.clientStateHash).toBe(createHash('sha256').update(secret).digest('base64url'));
      expect(row.expiresAt).toBe(new Date(Date.parse(String(sub.expirationDateTime))).toISOString());
    }
  });

  // How fast is a benchmark (bench webhooks, "webhook end to end"); here: that it arrives at all.
  test('a new mail in the sandbox reaches the change feed through the webhook', async () => {
    await syncBaseline(adele);
    const { nextCursor } = await feed(adele);
    const subject = `Webhook test ${Date.now()}`;
    await sendMail(ADELE, subject);
    const entry = await waitFor(
      async () => (await feed(adele, Number(nextCursor))).items.find((e) => e.summary?.subject === subject),
      30_000,
    );
    expect(entry).toMatchObject({ service: 'mail', type: 'created' });
    expect(webhookStats.resourceIds.get(String(entry.id))).toBeGreaterThanOrEqual(1);
  });
});

describe('the webhook endpoint', () => {
  test('a forged notification (wrong, missing or null clientState, unknown subscription) is answered 202 and changes nothing', async () => {
    const mailSub = byResource(await sandboxSubs(adeleGraphId), INBOX)!;
    const before = {
      ...webhookStats.dropped,
      processed: webhookStats.processed,
      syncJobs: webhookStats.syncJobs,
    };
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    const forged = (clientState: unknown, subscriptionId = String(mailSub.id)) => ({
      subscriptionId,
      changeType: 'created',
      resource: `Users/${adeleGraphId}/Messages/AAMkForged`,
      resourceData: { id: 'AAMkForged' },
      tenantId: t.sandbox.tenantId,
      ...(clientState === undefined ? {} : { clientState }),
    });
    const res = await postWebhook({
      value: [
        forged('guessed-wrong'),
        forged(undefined),
        forged(null),
        forged('x', '00000000-0000-4000-8000-000000000000'),
      ],
    });
    // Never an error: an error status makes Graph back off for every subscription (peers.md pain point 3).
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    const lifecycle = await postWebhook(
      { value: [{ subscriptionId: mailSub.id, clientState: 'nope', lifecycleEvent: 'subscriptionRemoved' }] },
      '/webhooks/graph/lifecycle',
    );
    expect(lifecycle.status).toBe(202);
    await new Promise((r) => setTimeout(r, 500));
    expect(webhookStats.dropped.client_state_mismatch).toBe(before.client_state_mismatch + 2);
    expect(webhookStats.dropped.client_state_missing).toBe(before.client_state_missing + 2);
    expect(webhookStats.dropped.unknown_subscription).toBe(before.unknown_subscription + 1);
    expect(webhookStats.processed).toBe(before.processed);
    expect(webhookStats.syncJobs).toBe(before.syncJobs);
    expect(webhookStats.resourceIds.has('AAMkForged')).toBe(false);
    // The subscription was not replaced, and nothing was asked of Graph.
    expect(byResource(await sandboxSubs(adeleGraphId), INBOX)!.id).toBe(mailSub.id);
    expect((await requestLog(t.sandbox, since)).filter((e) => e.path.startsWith('/v1.0/'))).toEqual([]);
  });

  test('forged floods are dropped fast with 202: odd subscription ids are never looked up, and one request looks up at most 100', async () => {
    const before = { ...webhookStats.dropped };
    const odd = await postWebhook({
      value: [{ subscriptionId: 'a/b', clientState: 'x', changeType: 'created' }, { subscriptionId: "x'#%" }],
    });
    expect(odd.status).toBe(202);
    expect(webhookStats.dropped.malformed).toBe(before.malformed + 2);
    const flood = Array.from({ length: 5000 }, () => ({
      subscriptionId: randomUUID(),
      clientState: 'forged',
      changeType: 'created',
      resource: 'Users/x/Messages/y',
    }));
    // 202, not the 503 the 2.5 s persist deadline gives: the work no longer grows with the items.
    const res = await postWebhook({ value: flood });
    expect(res.status).toBe(202);
    expect(webhookStats.dropped.unknown_subscription - before.unknown_subscription).toBe(100);
    expect(webhookStats.dropped.lookup_budget - before.lookup_budget).toBe(4900);
  });

  test('/api/health caches its outbound probes: ten calls make at most one request to each dependency', async () => {
    const since = t.sandbox.log.lastSeq;
    for (let i = 0; i < 10; i++) expect((await fetch(`${t.api}/health`)).status).toBe(200);
    const outbound = (await requestLog(t.sandbox, since))
      .filter((e) => e.headers['user-agent'] === HEALTH_USER_AGENT)
      .map((e) => e.path);
    expect(outbound.filter((p) => p.endsWith('/openid-configuration')).length).toBeLessThanOrEqual(1);
    expect(outbound.filter((p) => p.endsWith('/$metadata')).length).toBeLessThanOrEqual(1);
  });

  test('in a mixed batch only the item with the right clientState is processed', async () => {
    const mailSub = byResource(await sandboxSubs(adeleGraphId), INBOX)!;
    const item = (id: string, clientState: string) => ({
      subscriptionId: mailSub.id,
      clientState,
      changeType: 'created',
      resource: `Users/${adeleGraphId}/Messages/${id}`,
      resourceData: { id },
    });
    const res = await postWebhook({
      value: [item('AAMkGood', clientStateOf(String(mailSub.id))), item('AAMkBad', 'wrong')],
    });
    expect(res.status).toBe(202);
    await waitFor(() => webhookStats.resourceIds.has('AAMkGood') || undefined);
    expect(webhookStats.resourceIds.has('AAMkBad')).toBe(false);
  });

  test('a validationToken with markup comes back verbatim as text/plain only; an oversized one is refused', async () => {
    const token = '<script>alert("x")</script> & <b>bold</b> ü';
    for (const path of ['/webhooks/graph', '/webhooks/graph/lifecycle']) {
      const res = await fetch(`${t.api}${path}?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(token);
    }
    const long = await fetch(`${t.api}/webhooks/graph?validationToken=${'a'.repeat(5000)}`, {
      method: 'POST',
    });
    expect(long.status).toBe(400);
  });
});

describe('lifecycle events (§6.6)', () => {
  test('subscriptionRemoved leads to a new subscription and a delta catch-up', async () => {
    const old = byResource(await sandboxSubs(adeleGraphId), INBOX)!;
    const removedBefore = webhookStats.lifecycle.subscriptionRemoved;
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    await controlCall(t.sandbox, 'POST', `/subscriptions/${old.id}/lifecycle`, {
      event: 'subscriptionRemoved',
    });
    const replacement = await waitFor(async () => {
      const s = byResource(await sandboxSubs(adeleGraphId), INBOX);
      return s && s.id !== old.id ? s : undefined;
    });
    expect(replacement.lifecycleNotificationUrl).toBe(notificationUrls().lifecycleNotificationUrl);
    // Graph answered the create before our row was written: wait for the row.
    const rows = await waitFor(async () => {
      const list = await listSubscriptions(adele);
      return list.some((r) => r.subscriptionId === replacement.id) ? list : undefined;
    });
    expect(rows.map((r) => r.subscriptionId)).not.toContain(old.id);
    await waitFor(() => webhookStats.lifecycle.subscriptionRemoved === removedBefore + 1 || undefined);
    // Catch-up: the Inbox is read by delta again after the new subscription exists.
    await waitFor(
      async () =>
        (await requestLog(t.sandbox, since)).some((e) =>
          /\/mailFolders\/inbox\/messages\/delta/i.test(e.path),
        ) || undefined,
    );
  });

  test('reauthorizationRequired reauthorizes the subscription at Graph', async () => {
    const sub = byResource(await sandboxSubs(adeleGraphId), 'me/events')!;
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    await controlCall(t.sandbox, 'POST', `/subscriptions/${sub.id}/lifecycle`, {
      event: 'reauthorizationRequired',
    });
    await waitFor(async () =>
      (await requestLog(t.sandbox, since)).find(
        (e) =>
          e.method === 'POST' && e.path === `/v1.0/subscriptions/${sub.id}/reauthorize` && e.status === 204,
      ),
    );
    const after = byResource(await sandboxSubs(adeleGraphId), 'me/events')!;
    expect(after).toMatchObject({ id: sub.id, needsReauthorization: false });
  });

  test("reauthorizationRequired when the user's grant is gone marks the connection reauth_required", async () => {
    const megan = await t.connect(MEGAN, { features: ['calendar'] });
    const sub = byResource(await sandboxSubs(t.sandbox.directory.findUser(MEGAN)!.id), 'me/events')!;
    // The refresh token is revoked and the access token forgotten: no token can be had.
    for (const rt of t.sandbox.directory.refreshTokens.values())
      if (rt.userId === sub.creatorId) rt.revoked = true;
    jest.useFakeTimers({ doNotFake: NOT_DATE, advanceTimers: true });
    jest.setSystemTime(Date.now() + 2 * 3600_000);
    await controlCall(t.sandbox, 'POST', `/subscriptions/${sub.id}/lifecycle`, {
      event: 'reauthorizationRequired',
    });
    await waitFor(async () => {
      const res = await t.call(megan, 'GET', '/connections/me');
      return ((await res.json()) as Json).status === 'reauth_required' || undefined;
    });
  });

  test('missed runs a full delta resync of the resource', async () => {
    const sub = byResource(await sandboxSubs(adeleGraphId), INBOX)!;
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;
    await controlCall(t.sandbox, 'POST', `/subscriptions/${sub.id}/lifecycle`, { event: 'missed' });
    // A full resync starts from the initial delta URL (no token), as after a 410 (§5.1).
    await waitFor(async () =>
      (await requestLog(t.sandbox, since)).find(
        (e) =>
          /\/mailFolders\/inbox\/messages\/delta$/i.test(e.path) &&
          !/deltatoken|skiptoken/i.test(JSON.stringify(e.query)),
      ),
    );
  });
});

describe('renewal timer (every 30 min, fan-out through a queue)', () => {
  test('advancing time past the renewal threshold renews before expiry; a vanished subscription is recreated; an orphan is deleted', async () => {
    const before = await sandboxSubs(adeleGraphId);
    const todo = before.find((s) => String(s.resource).startsWith('me/todo/'))!;
    const mail = byResource(before, INBOX)!;
    const contacts = byResource(before, 'me/contacts')!;
    // Graph drops one silently (its renewal will see 404) ...
    await controlCall(t.sandbox, 'DELETE', `/subscriptions/${contacts.id}`);
    // ... and one exists at Graph that we have no row for (e.g. a crash between create and save).
    const orphan = await createGraphSubscription(adele, {
      resource: 'me/events',
      changeType: 'created',
      ...notificationUrls(),
      clientState: 'orphan-client-state',
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    });

    // To Do subscriptions live 4,170 minutes: move to 5 hours before their expiry (inside the
    // 6-hour window). Both our clock and the sandbox's move (the sandbox clock follows Date).
    const todoLeft = Date.parse(String(todo.expirationDateTime)) - Date.now();
    jest.useFakeTimers({ doNotFake: NOT_DATE, advanceTimers: true });
    jest.setSystemTime(Date.now() + todoLeft - 5 * 3600_000);
    expect(Date.parse(String(todo.expirationDateTime)) - t.sandbox.now()).toBeGreaterThan(0);

    // The timer's fan-out message for this user (the timer itself enqueues one per connected user
    // of the shared test storage, including other test files' users, so it is not fired here).
    await enqueue(RENEWALS_QUEUE, { userId: adele });
    const after = await waitFor(async () => {
      const subs = await sandboxSubs(adeleGraphId);
      const renewed = subs.find((s) => s.id === todo.id);
      return renewed &&
        renewed.expirationDateTime !== todo.expirationDateTime &&
        byResource(subs, 'me/contacts')
        ? subs
        : undefined;
    }, 10_000);
    // Renewed in place, before it expired, to a full lifetime again (~4,170 minutes from "now").
    const renewed = after.find((s) => s.id === todo.id)!;
    expect((Date.parse(String(renewed.expirationDateTime)) - t.sandbox.now()) / 60_000).toBeGreaterThan(4100);
    // The Inbox subscription was far from expiry: untouched.
    expect(byResource(after, INBOX)).toMatchObject({
      id: mail.id,
      expirationDateTime: mail.expirationDateTime,
    });
    // Contacts: recreated under a new id.
    expect(byResource(after, 'me/contacts')!.id).not.toBe(contacts.id);
    // The orphan is gone.
    expect(after.find((s) => s.id === orphan.id)).toBeUndefined();
    // Rows follow Graph's answers (the pass may still be writing the last of them).
    const expected = after.map(
      (s) => `${String(s.id)} ${new Date(Date.parse(String(s.expirationDateTime))).toISOString()}`,
    );
    await waitFor(async () => {
      const rows = (await listSubscriptions(adele)).map((r) => `${r.subscriptionId} ${r.expiresAt}`);
      return JSON.stringify(rows.sort()) === JSON.stringify([...expected].sort()) || undefined;
    });
  });
});

describe('load and settings', () => {
  test('a burst of 500 new mails: every delivery answered 202, each message in the feed exactly once', async () => {
    const lee = await t.connect(LEE, { features: ['mail'] });
    const leeId = t.sandbox.directory.findUser(LEE)!.id;
    await syncBaseline(lee);
    const { nextCursor } = await feed(lee);
    await controlCall(t.sandbox, 'DELETE', '/subscriptions/stats');
    const inbox = wellKnownFolderId(leeId, 'inbox');
    const now = new Date().toISOString();
    const burst = Array.from({ length: 500 }, (_, i) => ({
      '@odata.type': '#microsoft.graph.message',
      subject: `Burst ${i}`,
      parentFolderId: inbox,
      receivedDateTime: now,
      isRead: false,
      isDraft: false,
      from: { emailAddress: { address: 'megan.bowen@contoso.test', name: 'Megan Bowen' } },
    }));
    await controlCall(t.sandbox, 'POST', `/store/${leeId}/messages`, burst);

    const stats = await waitFor(async () => {
      const s = await controlCall<Json>(t.sandbox, 'GET', '/subscriptions/stats?last=5000');
      return s.delivered >= 500 ? s : undefined;
    }, 15_000);
    expect(stats).toMatchObject({ delivered: 500, failedAttempts: 0, dropped: 0 });
    const posts = (stats.deliveries as Json[]).filter((d) => d.kind === 'notification');
    expect(posts.every((d) => d.status === 202)).toBe(true);

    const entries = await waitFor(async () => {
      const items = (await feed(lee, Number(nextCursor))).items.filter(
        (e) => e.type === 'created' && String(e.summary?.subject ?? '').startsWith('Burst '),
      );
      return new Set(items.map((e) => String(e.summary.subject))).size >= 500 ? items : undefined;
    }, 30_000);
    const perId = new Map<string, number>();
    for (const e of entries) perId.set(String(e.id), (perId.get(String(e.id)) ?? 0) + 1);
    expect(perId.size).toBe(500);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    // Coalesced: far fewer delta syncs than notifications.
    expect(webhookStats.coalesced).toBeGreaterThan(0);
  });

  test('Teams chat messages are subscribed only when TEAMS_CHAT_SUBSCRIPTIONS_ENABLED is set', async () => {
    process.env.TEAMS_CHAT_SUBSCRIPTIONS_ENABLED = 'true';
    resetConfig();
    try {
      await t.connect(MEGAN, { features: ['teams'] });
      const meganId = t.sandbox.directory.findUser(MEGAN)!.id;
      const chats = byResource(await sandboxSubs(meganId), `users/${meganId}/chats/getAllMessages`);
      expect(chats).toMatchObject({ changeType: 'created,updated,deleted' });
      expect(chats!.lifecycleNotificationUrl).toBe(notificationUrls().lifecycleNotificationUrl);
    } finally {
      delete process.env.TEAMS_CHAT_SUBSCRIPTIONS_ENABLED;
      resetConfig();
    }
  });

  test("disconnect deletes the user's subscriptions at Graph and their rows", async () => {
    expect((await sandboxSubs(adeleGraphId)).length).toBeGreaterThan(0);
    const res = await t.call(adele, 'DELETE', '/connections/me');
    expect(res.status).toBeLessThan(300);
    expect(await sandboxSubs(adeleGraphId)).toEqual([]);
    expect(await listSubscriptions(adele)).toEqual([]);
  });
});

describe('storage failure (last: it briefly breaks the queue for the whole host)', () => {
  test('when the notification cannot be queued the webhook answers 503, so Graph retries', async () => {
    // Lee (connected by the burst test) still has his subscriptions; Adele disconnected.
    const mailSub = byResource(await sandboxSubs(t.sandbox.directory.findUser(LEE)!.id), INBOX)!;
    const body = JSON.stringify({
      value: [
        { subscriptionId: mailSub.id, clientState: clientStateOf(String(mailSub.id)), changeType: 'updated' },
      ],
    });
    // Warm this instance's lookup cache, then point the queue at a server that is not a queue
    // service (the local host answers 404: a non-retryable storage failure).
    expect((await postWebhook(JSON.parse(body))).status).toBe(202);
    const saved = process.env.AzureWebJobsStorage!;
    const logged: string[] = [];
    try {
      process.env.AzureWebJobsStorage = saved.replace(
        /QueueEndpoint=[^;]+/,
        `QueueEndpoint=${t.host.url}/devstoreaccount1`,
      );
      resetStorageClients();
      const res = await graphWebhook(
        new HttpRequest({
          method: 'POST',
          url: `${t.api}/webhooks/graph`,
          headers: { 'content-type': 'application/json' },
          body: { string: body },
        }),
        new InvocationContext({
          functionName: 'graphWebhook',
          logHandler: (_level, ...args) => logged.push(args.map(String).join(' ')),
        }),
      );
      expect(res.status).toBe(503);
      expect(logged.join('\n')).toContain('webhook_persist_failed');
      expect((res.headers as Record<string, string>)['retry-after']).toBe('5');
    } finally {
      process.env.AzureWebJobsStorage = saved;
      resetStorageClients();
    }
  });
});
