/**
 * The audit write off the caller's path (issue 29; shared/audit/journal.ts): an action's entry is
 * journaled locally before the answer and written to Table Storage after it, so an action answers
 * while storage has not yet taken its entry; the entry lands right after. What a dead process
 * journaled is written by the next one, except for a user erased since. The kill -9 half (every
 * answered action has its entry after a restart) is in test/e2e/events-crash.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { auditRow, flushAudit, listAudit } from '../../shared/audit';
import {
  onJournalWarning,
  recoverJournals,
  writeEntries,
  type JournalEntry,
} from '../../shared/audit/journal';
import { table } from '../../shared/storage/clients';
import { ERASURES_TABLE, pseudonym } from '../../shared/storage/erasures';
import { startTestApp, type TestApp } from '../support/app';
import { userTableOf } from '../support/storage';
import { waitFor, waitForQuiet } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

const settings = async (userId: string) =>
  await t.call(userId, 'POST', '/profile/getMailboxSettings', {}, { 'cache-control': 'no-cache' });

/** The user's audit rows for getMailboxSettings, read from the table itself. */
async function storedEntries(userId: string): Promise<number> {
  let n = 0;
  const filter = `PartitionKey eq '${userId}'`;
  for await (const row of userTableOf(t, 'audit', userId).listEntities<{ action?: string }>({
    queryOptions: { filter },
  }))
    if (row.action === 'profile.getMailboxSettings') n++;
  return n;
}

test('an action answers while its audit write is still held by storage; the entry lands after', async () => {
  const userId = await t.connect(ADELE, { features: ['mail', 'calendar'] });
  await waitForQuiet(t.sandbox);
  await flushAudit();
  const before = await storedEntries(userId);

  // Every write to the audit table (one entry, or a transaction) waits for `release`.
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = 0;
  const original = http.request;
  (http as { request: unknown }).request = function (this: unknown, ...args: unknown[]) {
    const req = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const opts = args[0] as { method?: string; path?: string };
    const path = typeof opts === 'object' ? (opts.path ?? '') : '';
    if (opts.method !== 'GET' && (path.includes('/audit(') || path.includes('$batch'))) {
      held++;
      // The request is not finished (so storage has not got it) until the release.
      const end = req.end.bind(req) as (...a: unknown[]) => http.ClientRequest;
      req.end = ((...a: unknown[]) => {
        void released.then(() => end(...a));
        return req;
      }) as typeof req.end;
    }
    return req;
  };
  try {
    const res = await settings(userId);
    expect(res.status).toBe(200);
    // The entry went out to storage after the answer, and storage has not answered yet.
    await waitFor(() => held > 0 || undefined, 5000);
    expect(await storedEntries(userId)).toBe(before);
  } finally {
    (http as { request: unknown }).request = original;
    release();
  }
  expect(await flushAudit()).toBe(true);
  expect(await storedEntries(userId)).toBe(before + 1);
  // The user's own listing waits for what this instance journaled: the last action is there.
  expect((await settings(userId)).status).toBe(200);
  const listed = (await listAudit(userId, { limit: 500 })).entries.filter(
    (e) => e.action === 'profile.getMailboxSettings',
  );
  expect(listed).toHaveLength(before + 2);
});

/** An entry as the journal holds it. */
function journalEntry(userId: string, at: number): JournalEntry {
  const entry = { userId, action: 'mail.sendMail', outcome: 'success', status: 202 } as const;
  return { principal: userId, row: auditRow({ ...entry, durationMs: 12 }, at, randomUUID()) };
}

test('what a dead process journaled is written by the next one, except for a user erased since', async () => {
  const dir = process.env.AUDIT_JOURNAL_DIR!;
  mkdirSync(dir, { recursive: true });
  const run = randomBytes(3).toString('hex');
  const kept = `journal-${run}-kept`;
  const erased = `journal-${run}-erased`;
  const now = Date.now();
  // The erased user's data was erased after their entry was journaled.
  await (
    await table(ERASURES_TABLE)
  ).createEntity({
    partitionKey: pseudonym(erased),
    rowKey: `r${now}`,
    at: new Date(now).toISOString(),
    invocationId: 'journal-test',
    counts: '{}',
  });
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
  const dead = join(dir, `audit-${deadPid}-0badc0de-0.jsonl`);
  const lines = [
    journalEntry(kept, now - 3000),
    journalEntry(kept, now - 2000),
    journalEntry(erased, now - 1000),
  ].map((e) => JSON.stringify(e));
  // The last line was being written when the process died: its action never answered.
  writeFileSync(dead, `${lines.join('\n')}\n{"principal":"${kept}","row":{"partiti`);
  // A live process's segment (the test runner's parent) is left to it.
  const live = join(dir, `audit-${process.ppid}-0badc0df-0.jsonl`);
  writeFileSync(live, `${JSON.stringify(journalEntry(kept, now - 500))}\n`);

  try {
    expect(await recoverJournals()).toBe(2);
    expect((await listAudit(kept)).entries.map((e) => e.action)).toEqual(['mail.sendMail', 'mail.sendMail']);
    expect((await listAudit(erased)).entries).toEqual([]);
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
    // Written twice (a crash between the write and the deletion) is still one row each.
    writeFileSync(dead, `${lines[0]}\n`);
    expect(await recoverJournals()).toBe(1);
    expect((await listAudit(kept)).entries).toHaveLength(2);
  } finally {
    for (const f of [dead, live]) if (existsSync(f)) unlinkSync(f);
  }
});

test('an entry storage refuses is dropped with a warning; the others of its transaction are written', async () => {
  const userId = `journal-${randomBytes(3).toString('hex')}-refused`;
  const good = journalEntry(userId, Date.now() - 1000);
  const bad = journalEntry(userId, Date.now());
  bad.row.rowKey = `${bad.row.rowKey}#not-a-key`; // '#' is not allowed in a RowKey
  const warnings: string[] = [];
  onJournalWarning((line) => warnings.push(line));
  try {
    await writeEntries([good, bad]);
  } finally {
    onJournalWarning((line) => console.warn(line));
  }
  expect((await listAudit(userId)).entries.map((e) => e.id)).toEqual([good.row.id]);
  expect(warnings.map((w) => JSON.parse(w) as { event: string; statusCode: number })).toEqual([
    expect.objectContaining({ event: 'audit_entry_refused', statusCode: 400 }),
  ]);
});
