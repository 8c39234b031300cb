/**
 * Delta sync of mail folders against the sandbox (graph-behaviour.md §5; issue 11): the silent
 * baseline after connect, exactly one feed entry per created / updated / moved / deleted message,
 * a round killed after page 3 of 10 that resumes to the same feed as an uninterrupted run, a 410
 * SyncStateNotFound recovered by a full resync without duplicates, and the per-(user, resource)
 * lease. Rounds run in-process through runSyncRound (the same function the queue worker calls).
 */
import type { TestApp } from '../../scripts/harness';
import { runSyncRound, type RoundResult } from '../../shared/sync/engine';
import { eraseUserData, registerUserData } from '../../shared/privacy';
import {
  appendChanges,
  latestSeq,
  listChanges,
  type ChangeEntry,
  type NewChange,
} from '../../shared/sync/feed';
import type { ResourceKey } from '../../shared/sync/jobs';
import { acquireLease, getSyncState, listSyncStates, releaseLease } from '../../shared/sync/state';
import { startTestApp } from '../support/app';
import { controlCall, injectFault, requestLog } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const LEE = 'lee.gu@contoso.test';
const MAIL: ResourceKey[] = ['mail:inbox', 'mail:archive'];

let t: TestApp;

async function graph(upn: string, method: string, path: string, body?: unknown): Promise<Json> {
  const { access_token } = await controlCall<{ access_token: string }>(t.sandbox, 'POST', '/tokens', {
    user: upn,
    scopes: ['Mail.ReadWrite', 'Mail.Send'],
  });
  const res = await fetch(`${t.sandbox.graphBaseUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${access_token}`,
      prefer: 'IdType="ImmutableId"',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as Json;
}

/** Waits until the rounds enqueued by connect have completed (the worker runs them in the local host). */
async function waitIdle(userId: string, resources: readonly string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const states = await listSyncStates(userId);
    const done = resources.every((r) =>
      states.some((s) => s.resource === r && s.status === 'idle' && s.lastSuccessAt),
    );
    if (done) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rounds for ${resources.join(', ')} did not complete`);
}

async function feed(userId: string, after = 0): Promise<ChangeEntry[]> {
  const out: ChangeEntry[] = [];
  for (;;) {
    const page = await listChanges(userId, { after, limit: 500 });
    out.push(...page.items);
    if (!page.hasMore) return out;
    after = Number(page.nextCursor);
  }
}

const round = (userId: string, resource: ResourceKey): Promise<RoundResult> =>
  runSyncRound({ userId, resource, reason: 'manual' });

/**
 * A round once the resource is free: change notifications (the webhooks feature subscribes to the
 * Inbox on connect) start rounds in the local host too, and those make ours yield.
 */
async function roundWhenFree(userId: string, resource: ResourceKey): Promise<RoundResult> {
  for (let i = 0; i < 200; i++) {
    const result = await round(userId, resource);
    if (result.status !== 'busy') return result;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the resource stayed busy');
}

/** 100 messages with fixed ids in the user's Archive (a seeded mailbox both users get alike). */
async function seedArchive(upn: string, count: number): Promise<string[]> {
  const archive = await graph(upn, 'GET', '/me/mailFolders/archive');
  const items = Array.from({ length: count }, (_, i) => ({
    '@odata.type': '#microsoft.graph.message',
    id: `AAMkAGarchive${String(i).padStart(4, '0')}`,
    subject: `Report ${i}`,
    from: { emailAddress: { name: 'Fabrikam', address: 'reports@fabrikam.test' } },
    receivedDateTime: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
    parentFolderId: archive.id as string,
    isRead: false,
    isDraft: false,
    hasAttachments: false,
    body: { contentType: 'text', content: 'numbers' },
  }));
  await controlCall(t.sandbox, 'POST', `/store/${encodeURIComponent(upn)}/messages`, items);
  return items.map((m) => m.id);
}

beforeAll(async () => {
  t = await startTestApp({
    env: { SYNC_PAGE_SIZE: '10', SYNC_MAIL_FOLDERS: 'archive', GRAPH_MAX_RETRY_WAIT_SECONDS: '1' },
  });
});
afterAll(async () => await t.stop());

describe('one entry per change', () => {
  let adele: string;
  beforeAll(async () => {
    adele = await t.connect(ADELE, { features: ['mail'] });
    await waitIdle(adele, MAIL);
  });

  test('connecting runs a silent baseline: existing mail is indexed, not reported as new', async () => {
    const inbox = await getSyncState(adele, 'mail:inbox');
    expect(inbox).toMatchObject({ status: 'idle', deltaLink: expect.stringContaining('$deltatoken=') });
    expect(inbox!.items).toBeGreaterThan(0);
    // No mail entry: the feed holds only the connection itself (connection.connected).
    expect((await feed(adele)).map((e) => `${e.service}.${e.type}`)).toEqual(['connection.connected']);
  });

  test('create, update, move and delete each yield exactly one correct entry', async () => {
    const before = await latestSeq(adele);
    const inbox = (await graph(ADELE, 'GET', '/me/mailFolders/inbox/messages?$top=50')).value as Json[];
    expect(inbox.length).toBeGreaterThanOrEqual(3);
    const [toUpdate, toMove, toDelete] = inbox as [Json, Json, Json];

    // Hold the Inbox while the changes are made: a round that a change notification starts
    // between two of them would (rightly) report the new mail as created and then updated. What
    // is under test is that changes made before one round come out of it once each.
    let held: Awaited<ReturnType<typeof acquireLease>> | undefined;
    for (let i = 0; i < 200 && !(held && 'etag' in held); i++) {
      held = await acquireLease(adele, 'mail:inbox');
      if (!('etag' in held)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(held && 'etag' in held).toBe(true);

    await graph(MEGAN, 'POST', '/me/sendMail', {
      message: {
        subject: 'Quarterly numbers',
        body: { contentType: 'text', content: 'See attached.' },
        toRecipients: [{ emailAddress: { address: ADELE } }],
      },
    });
    await graph(ADELE, 'PATCH', `/me/messages/${encodeURIComponent(toUpdate.id)}`, {
      isRead: !toUpdate.isRead,
    });
    await graph(ADELE, 'POST', `/me/messages/${encodeURIComponent(toMove.id)}/move`, {
      destinationId: 'archive',
    });
    await graph(ADELE, 'DELETE', `/me/messages/${encodeURIComponent(toDelete.id)}`);
    const created = (
      (await graph(ADELE, 'GET', '/me/mailFolders/inbox/messages?$top=50')).value as Json[]
    ).find((m) => m.subject === 'Quarterly numbers')!;
    // Read it too before the round: a created-then-updated item is ONE created entry, current state.
    await graph(ADELE, 'PATCH', `/me/messages/${encodeURIComponent(created.id)}`, { isRead: true });
    if (held && 'etag' in held) await releaseLease(held, { status: 'idle' });

    // Whichever round runs first (ours or one a notification started), each change is reported once.
    expect(await roundWhenFree(adele, 'mail:inbox')).toMatchObject({ status: 'completed', mode: 'delta' });
    expect(await roundWhenFree(adele, 'mail:archive')).toMatchObject({ status: 'completed', mode: 'delta' });

    const entries = await feed(adele, Number(before));
    const view = entries.map((e) => ({ resource: e.resource, id: e.id, type: e.type }));
    expect(view).toHaveLength(5);
    expect(view).toEqual(
      expect.arrayContaining([
        { resource: 'mail:inbox', id: created.id, type: 'created' },
        { resource: 'mail:inbox', id: toUpdate.id, type: 'updated' },
        // A move leaves one folder and enters the other (per-folder delta, reference §5.2); with
        // immutable ids it is the same id in both.
        { resource: 'mail:inbox', id: toMove.id, type: 'deleted' },
        { resource: 'mail:archive', id: toMove.id, type: 'created' },
        // DELETE moves to Deleted Items: gone from the Inbox.
        { resource: 'mail:inbox', id: toDelete.id, type: 'deleted' },
      ]),
    );
    const byKey = new Map(entries.map((e) => [`${e.resource}|${e.id}|${e.type}`, e]));
    expect(byKey.get(`mail:inbox|${created.id}|created`)!.summary).toEqual({
      from: MEGAN,
      subject: 'Quarterly numbers',
      receivedAt: created.receivedDateTime,
      isRead: true,
      hasAttachments: false,
    });
    expect(byKey.get(`mail:inbox|${toUpdate.id}|updated`)!.summary).toMatchObject({
      subject: toUpdate.subject,
      isRead: !toUpdate.isRead,
    });
    // A deletion says what went (the last summary the index held).
    expect(byKey.get(`mail:inbox|${toDelete.id}|deleted`)!.summary).toMatchObject({
      subject: toDelete.subject,
    });
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));

    // Nothing changed since: the next round is one request and no entries.
    const quiet = await roundWhenFree(adele, 'mail:inbox');
    expect(quiet).toMatchObject({ status: 'completed', requests: 1, entries: 0 });
  });

  test('replaying a page (crash between writing the feed and the index) writes nothing twice', async () => {
    const change = {
      service: 'mail' as const,
      resource: 'mail:inbox',
      id: 'AAMkAGreplay',
      type: 'updated' as const,
      summary: { subject: 'x' },
      dedupe: JSON.stringify(['mail:inbox', 'AAMkAGreplay', 'updated', 'ck1']),
    };
    const first = await appendChanges(adele, [change]);
    const again = await appendChanges(adele, [change, change]);
    expect(first).toHaveLength(1);
    expect(again).toEqual([]);
    expect((await feed(adele)).filter((e) => e.id === 'AAMkAGreplay')).toHaveLength(1);
  });
});

describe('interrupted and invalidated rounds', () => {
  let megan: string;
  let lee: string;
  let ids: string[];

  beforeAll(async () => {
    [megan, lee] = [
      await t.connect(MEGAN, { features: ['mail'] }),
      await t.connect(LEE, { features: ['mail'] }),
    ];
    await waitIdle(megan, MAIL);
    await waitIdle(lee, MAIL);
    ids = await seedArchive(MEGAN, 100);
    await seedArchive(LEE, 100);
    // The 100 new messages: the same for both users.
    await round(megan, 'mail:archive');
    await round(lee, 'mail:archive');
  });

  async function changeAll(upn: string): Promise<void> {
    for (const [i, id] of ids.entries()) {
      await controlCall(t.sandbox, 'PATCH', `/store/${encodeURIComponent(upn)}/messages/${id}`, {
        isRead: true,
        subject: `Report ${i} (read)`,
      });
    }
  }

  test('a round killed after page 3 of 10 resumes and the feed ends identical to an uninterrupted run', async () => {
    const startMegan = await latestSeq(megan);
    const startLee = await latestSeq(lee);
    await changeAll(MEGAN);
    await changeAll(LEE);

    const uninterrupted = await round(megan, 'mail:archive');
    expect(uninterrupted).toMatchObject({ status: 'completed', pages: 10, updated: 100, entries: 100 });

    // Lee's round loses its connection on the nextLink of page 4 (retries give up after 1 s).
    // Each next page is requested while the one before is written: when page 2 is stored, page 3
    // is already on its way and the next request made is page 4's.
    const leeOid = t.sandbox.directory.findUser(LEE)!.id;
    const before = t.sandbox.log.lastSeq;
    const nextLinksSeen = async () =>
      (await requestLog(t.sandbox, before)).filter(
        (e) =>
          e.mailbox === leeOid &&
          e.path.endsWith('messages/delta') &&
          Object.keys(e.query).some((k) => k.endsWith('skiptoken')),
      ).length;
    let seenAtFault = 0;
    const killed = runSyncRound(
      { userId: lee, resource: 'mail:archive', reason: 'manual' },
      {
        afterPage: async (page) => {
          if (page !== 2) return;
          // Page 3's request (the second nextLink) has reached the sandbox before the fault is set.
          for (let i = 0; i < 200 && (await nextLinksSeen()) < 2; i++)
            await new Promise((r) => setTimeout(r, 10));
          seenAtFault = await nextLinksSeen();
          await injectFault(t.sandbox, {
            path: 'messages/delta\\?(\\$|%24)skiptoken=',
            userId: leeOid,
            drop: true,
            count: 50,
          });
        },
      },
    );
    await expect(killed).rejects.toThrow();
    expect(seenAtFault).toBe(2); // the fault was set with page 3 requested and page 4 not yet
    await controlCall(t.sandbox, 'DELETE', '/faults');
    expect(await getSyncState(lee, 'mail:archive')).toMatchObject({ status: 'failed' });
    expect((await feed(lee, Number(startLee))).length).toBe(30);

    const resumed = await round(lee, 'mail:archive');
    // Pages 1–3 come again but are already indexed: only pages 4–10 produce entries.
    expect(resumed).toMatchObject({ status: 'completed', pages: 10, updated: 70, entries: 70 });

    const shape = (entries: ChangeEntry[]) =>
      entries.map(({ resource, id, type, summary }) => ({ resource, id, type, summary }));
    const meganFeed = shape(await feed(megan, Number(startMegan)));
    const leeFeed = shape(await feed(lee, Number(startLee)));
    expect(leeFeed).toHaveLength(100);
    expect(new Set(leeFeed.map((e) => e.id)).size).toBe(100);
    expect(leeFeed).toEqual(meganFeed);
  });

  test('an invalidated delta token (410 SyncStateNotFound) recovers with a full resync that emits only real differences', async () => {
    const start = await latestSeq(megan);
    const archive = await graph(MEGAN, 'GET', '/me/mailFolders/archive');
    // Changes made while the token is being invalidated: one new, one updated, one gone for good.
    await controlCall(t.sandbox, 'POST', `/store/${encodeURIComponent(MEGAN)}/messages`, {
      '@odata.type': '#microsoft.graph.message',
      id: 'AAMkAGarchiveNew',
      subject: 'Late report',
      from: { emailAddress: { name: 'Fabrikam', address: 'reports@fabrikam.test' } },
      receivedDateTime: new Date().toISOString(),
      parentFolderId: archive.id,
      isRead: false,
      hasAttachments: false,
    });
    await controlCall(t.sandbox, 'PATCH', `/store/${encodeURIComponent(MEGAN)}/messages/${ids[5]}`, {
      isRead: false,
    });
    await graph(MEGAN, 'POST', `/me/messages/${ids[6]}/permanentDelete`);
    const megaOid = t.sandbox.directory.findUser(MEGAN)!.id;
    // Reference §5.1 item 7 (https://learn.microsoft.com/graph/delta-query-overview, "Synchronization
    // reset"; microsoft-graph-docs#2350): the saved token now answers 410 SyncStateNotFound.
    await controlCall(t.sandbox, 'POST', '/delta/invalidate', {
      userId: megaOid,
      collection: `messages:${String(archive.id)}`,
    });
    const since = (await requestLog(t.sandbox)).at(-1)?.seq ?? 0;

    const result = await round(megan, 'mail:archive');
    expect(result).toMatchObject({
      status: 'completed',
      mode: 'resync',
      created: 1,
      updated: 1,
      deleted: 1,
      entries: 3,
    });
    const gone = (await requestLog(t.sandbox, since)).filter((e) => e.status === 410);
    expect(gone).toHaveLength(1);

    const entries = (await feed(megan, start)).map(({ id, type }) => ({ id, type }));
    expect(entries).toEqual(
      expect.arrayContaining([
        { id: 'AAMkAGarchiveNew', type: 'created' },
        { id: ids[5], type: 'updated' },
        { id: ids[6], type: 'deleted' },
      ]),
    );
    expect(entries).toHaveLength(3);
    // The next round follows the new deltaLink: nothing more.
    expect(await round(megan, 'mail:archive')).toMatchObject({
      status: 'completed',
      mode: 'delta',
      entries: 0,
      requests: 1,
    });
  });

  test('two workers started on the same (user, resource) at once: one runs, the other yields', async () => {
    await controlCall(t.sandbox, 'PATCH', `/store/${encodeURIComponent(MEGAN)}/messages/${ids[7]}`, {
      subject: 'Report 7 (corrected)',
    });
    const start = await latestSeq(megan);
    const results = await Promise.all([round(megan, 'mail:archive'), round(megan, 'mail:archive')]);
    expect(results.map((r) => r.status).sort()).toEqual(['busy', 'completed']);
    const entries = await feed(megan, start);
    expect(entries.map(({ id, type }) => ({ id, type }))).toEqual([{ id: ids[7], type: 'updated' }]);
    // Different resources of the same user run side by side, and their entries still get
    // distinct, gap-free sequence numbers.
    await controlCall(t.sandbox, 'PATCH', `/store/${encodeURIComponent(MEGAN)}/messages/${ids[8]}`, {
      isRead: false,
    });
    await Promise.all([round(megan, 'mail:archive'), round(megan, 'mail:inbox')]);
    const seqs = (await feed(megan)).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });
});

test('mail that arrives after connect but before the baseline reaches it is reported as created', async () => {
  // The baseline cannot start (its lease is held) until the new mail is in the Inbox: a slow
  // first round on a busy instance, with the mail's notification finding the round busy.
  const userId = `user-late-${Date.now()}`;
  let held: Awaited<ReturnType<typeof acquireLease>> | undefined;
  held = await acquireLease(userId, 'mail:inbox');
  expect('etag' in held).toBe(true);
  await t.connect(LEE, { features: ['mail'], userId });
  await graph(MEGAN, 'POST', '/me/sendMail', {
    message: {
      subject: 'Arrived during the baseline',
      body: { contentType: 'text', content: 'hello' },
      toRecipients: [{ emailAddress: { address: LEE } }],
    },
  });
  // The connect noted when following began on the held row (its ETag moved): the holder ends.
  const now = await getSyncState(userId, 'mail:inbox');
  expect(now?.followSince).toBeDefined();
  if ('etag' in held) await releaseLease({ ...held, etag: now!.etag! }, { status: 'idle' });
  held = undefined;
  // Whichever job runs the baseline first (here the mail's notification, which knows nothing of
  // the connect), the instant the sign-in started following the Inbox holds.
  const first = await roundWhenFree(userId, 'mail:inbox');
  expect(first.status).toBe('completed');

  await waitIdle(userId, ['mail:inbox']);
  const entries = (await feed(userId)).filter((e) => e.service === 'mail');
  // Exactly the new mail: the Inbox's earlier messages are still the silent baseline.
  expect(entries.map((e) => ({ type: e.type, subject: e.summary?.subject }))).toEqual([
    { type: 'created', subject: 'Arrived during the baseline' },
  ]);
});

test('erasing a user while rounds run: the counts are what the user had, and nothing written meanwhile stays', async () => {
  const userId = `user-erased-${Date.now()}`;
  await t.connect(LEE, { features: ['mail'], userId });
  await waitIdle(userId, ['mail:inbox']);
  await graph(MEGAN, 'POST', '/me/sendMail', {
    message: {
      subject: 'Before the erase',
      body: { contentType: 'text', content: 'hello' },
      toRecipients: [{ emailAddress: { address: LEE } }],
    },
  });
  for (let i = 0; i < 100 && (await feed(userId)).every((e) => e.service !== 'mail'); i++) {
    await roundWhenFree(userId, 'mail:inbox');
    await new Promise((r) => setTimeout(r, 100));
  }
  const had = (await feed(userId)).length;
  expect(had).toBeGreaterThan(1);

  // Two pieces of running work, placed where the race hurts: one writes a feed entry just after
  // the feed was swept while the connection still exists; one (a queued job) runs a round just
  // after the connection went, which removes the user's sync rows itself.
  let wroteAfterSweep = false;
  let ranAfterConnectionGone: RoundResult | undefined;
  registerUserData({
    name: 'test-writer-after-sweep',
    writtenByRunningWork: true,
    export: async () => null,
    async erase(id) {
      if (id !== userId || wroteAfterSweep) return 0;
      wroteAfterSweep = true;
      const change = { service: 'mail', resource: 'mail:inbox', id: 'late', type: 'updated', summary: null };
      await appendChanges(userId, [{ ...change, dedupe: 'late' } as NewChange]);
      return 0;
    },
  });
  registerUserData({
    name: 'test-round-after-connection-gone',
    export: async () => null,
    async erase(id) {
      if (id === userId) ranAfterConnectionGone = await round(userId, 'mail:inbox');
      return 0;
    },
  });
  const counts = await eraseUserData(userId, 'test-invocation');
  expect(wroteAfterSweep).toBe(true);
  expect(ranAfterConnectionGone).toBeDefined();
  // Every entry the user had is counted; the late one went with the round that found no connection.
  expect(counts.changeFeed).toBe(had);
  expect(counts.syncState).toBeGreaterThan(0);
  expect(counts.syncedItems).toBeGreaterThan(0);
  expect(await feed(userId)).toEqual([]);
  expect(await listSyncStates(userId)).toEqual([]);
});
