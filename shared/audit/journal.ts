/**
 * The audit log's write-ahead journal (issue 29, "the audit write must not add its latency to the
 * caller, without losing an entry"). An entry is appended to a local file before the action's
 * answer goes out: one write() to the operating system, which keeps it when this process dies
 * (a `kill -9`, a crash, the worker recycled). Right after, off the caller's path, entries are
 * written to Table Storage in entity-group transactions (one per user partition, up to 100
 * entries), and a journal segment is deleted once every entry in it is in storage.
 *
 * A process that died with entries not yet written leaves its segments behind; the next process
 * of the app on the machine writes them (`recoverJournals`, at its first audit entry or read),
 * skipping entries of a user erased since (an erasure must not come back). Rows are upserts
 * keyed by time and id, so an entry written twice (a crash between the write and the segment's
 * deletion) is one row.
 *
 * Bounds, stated (docs/security.md): an entry is readable in storage a few milliseconds after the
 * answer (GET /api/audit on the same instance waits for them); the journal survives the process,
 * not the machine: a Flex Consumption instance deallocated without its graceful shutdown (which
 * flushes, `flushAudit` on appTerminate) loses at most the entries of its last flush interval.
 * Where the folder cannot be written, each entry is written to storage before the answer, as
 * before the journal.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableClient, TransactionAction } from '@azure/data-tables';
import { getConfig } from '../config';
import { detached } from '../correlation';
import { onShutdown } from '../runtime/register';
import { userTable } from '../storage/clients';
import { lastErasedAt } from '../storage/erasures';

export const AUDIT_TABLE = 'audit';

/** One audit row as stored, with the principal whose account holds it. */
export interface JournalEntry {
  principal: string;
  row: { partitionKey: string; rowKey: string; at: string } & Record<string, string | number>;
}

const SEGMENT = /^audit-(\d+)-([0-9a-f]+)-(\d+)\.jsonl$/;
const TRANSACTION_MAX = 100;
const MAX_BACKOFF_MS = 30_000;
const FLUSH_DELAY_MS = 10;

/** This process among the app's processes sharing the folder (a pid can be reused). */
const self = { pid: process.pid, token: randomBytes(4).toString('hex') };
let seq = 0;
let segment: { path: string; fd: number } | undefined;
let pending: Array<{ entry: JournalEntry; written?: () => void }> = [];
let draining: Promise<void> | undefined;
let recovering: Promise<void> | undefined;
let journalBroken = false;
let warn: (line: string) => void = (line) => console.warn(line);

// A graceful shutdown writes what is journaled (the host gives the hook a short grace period).
onShutdown(async () => {
  await flushAudit();
});

export function journalDir(): string {
  return getConfig().AUDIT_JOURNAL_DIR ?? join(tmpdir(), 'm365-audit-journal');
}

/** Where the writer reports what it could not do (never an entry's content). */
export function onJournalWarning(log: (line: string) => void): void {
  warn = log;
}

function openSegment(): { path: string; fd: number } {
  const dir = journalDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `audit-${self.pid}-${self.token}-${seq++}.jsonl`);
  return { path, fd: openSync(path, 'a') };
}

/**
 * Records an entry: journaled at once (the returned promise is already settled), written to
 * storage shortly after. Without a journal, the promise settles once the entry is in storage.
 */
export function record(entry: JournalEntry): Promise<void> {
  startRecovery();
  if (!journalBroken) {
    try {
      segment ??= openSegment();
      writeSync(segment.fd, `${JSON.stringify(entry)}\n`);
      pending.push({ entry });
      drainSoon();
      return Promise.resolve();
    } catch (err) {
      journalBroken = true;
      warn(
        JSON.stringify({
          event: 'audit_journal_unavailable',
          error: (err as NodeJS.ErrnoException).code ?? (err as Error).name,
        }),
      );
    }
  }
  return new Promise<void>((written) => {
    pending.push({ entry, written });
    drainSoon();
  });
}

function drainSoon(): void {
  // Detached: the flush serves many requests' entries, and belongs to none of them.
  draining ??= detached(() => drain());
}

async function drain(): Promise<void> {
  // A short wait: the answer that recorded the entry goes out first (the flush is CPU work in this
  // process), and entries of the next few milliseconds join the same transactions.
  await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS));
  try {
    let backoffMs = 100;
    while (pending.length > 0) {
      const batch = pending;
      const done = segment;
      pending = [];
      segment = undefined; // what comes next goes to a new segment
      if (done) closeSync(done.fd);
      for (;;) {
        try {
          await writeEntries(batch.map((p) => p.entry));
          break;
        } catch (err) {
          warn(
            JSON.stringify({
              event: 'audit_write_retry',
              entries: batch.length,
              error: (err as Error).name,
              statusCode: (err as { statusCode?: number }).statusCode,
              retryInMs: backoffMs,
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        }
      }
      backoffMs = 100;
      for (const p of batch) p.written?.();
      if (done) removeFile(done.path);
    }
  } finally {
    draining = undefined;
    if (pending.length > 0) drainSoon();
  }
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Upserts grouped by account and user partition, up to 100 per transaction. */
export async function writeEntries(entries: JournalEntry[]): Promise<void> {
  const groups = new Map<string, { client: TableClient; rows: JournalEntry['row'][] }>();
  for (const e of entries) {
    const client = await userTable(AUDIT_TABLE, e.principal);
    const key = `${client.url}|${e.row.partitionKey}`;
    const group = groups.get(key) ?? { client, rows: [] };
    group.rows.push(e.row);
    groups.set(key, group);
  }
  await Promise.all(
    [...groups.values()].map(async ({ client, rows }) => {
      for (let i = 0; i < rows.length; i += TRANSACTION_MAX) {
        const chunk = rows.slice(i, i + TRANSACTION_MAX);
        try {
          if (chunk.length === 1) await client.upsertEntity(chunk[0]!, 'Replace');
          else
            await client.submitTransaction(chunk.map((row): TransactionAction => ['upsert', row, 'Replace']));
        } catch (err) {
          if (!refused(err)) throw err; // storage unavailable: the caller retries the whole batch
          // Storage refuses something in the chunk (an entry over a property's size, say): each
          // entry alone, so one bad entry cannot hold the others back, nor the journal forever.
          for (const row of chunk) await upsertOrDrop(client, row);
        }
      }
    }),
  );
}

/** A request storage refuses as such (4xx other than timeout, conflict and throttling). */
function refused(err: unknown): boolean {
  const status = (err as { statusCode?: number }).statusCode ?? 0;
  return status >= 400 && status < 500 && ![408, 409, 429].includes(status);
}

async function upsertOrDrop(client: TableClient, row: JournalEntry['row']): Promise<void> {
  try {
    await client.upsertEntity(row, 'Replace');
  } catch (err) {
    if (!refused(err)) throw err;
    warn(
      JSON.stringify({
        event: 'audit_entry_refused',
        action: row.action,
        statusCode: (err as { statusCode?: number }).statusCode,
      }),
    );
  }
}

/** Waits until every entry recorded so far is in storage, or `timeoutMs` passes; true when done. */
export async function flushAudit(timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  startRecovery();
  for (;;) {
    const work = recovering ?? draining ?? (pending.length > 0 ? (drainSoon(), draining) : undefined);
    if (!work) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work, new Promise((resolve) => (timer = setTimeout(resolve, left)))]);
    clearTimeout(timer);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let recovered = false;
function startRecovery(): void {
  if (recovered) return;
  recovered = true;
  // After the current request: the folder is read with synchronous calls, which the first
  // request of the process should not wait for.
  recovering = detached(() =>
    new Promise((resolve) => setImmediate(resolve))
      .then(async () => await recoverJournals())
      .then(() => undefined)
      .catch((err: unknown) =>
        warn(JSON.stringify({ event: 'audit_journal_recovery_failed', error: (err as Error).name })),
      )
      .finally(() => (recovering = undefined)),
  );
}

/**
 * Writes what dead processes left in the folder: each segment of a process no longer running (or
 * of an earlier process that had this one's pid) is claimed by renaming it (two processes never
 * take the same one), its entries are written, then it is deleted. Returns the entries written.
 */
export async function recoverJournals(): Promise<number> {
  const dir = journalDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let written = 0;
  for (const name of names) {
    const m = SEGMENT.exec(name);
    if (!m || m[2] === self.token) continue;
    const pid = Number(m[1]);
    if (pid !== self.pid && alive(pid)) continue;
    // Renamed into this process's own name: should it die too, the next one takes the file over.
    const claimed = join(dir, `audit-${self.pid}-${self.token}-${seq++}.jsonl`);
    try {
      renameSync(join(dir, name), claimed);
    } catch {
      continue; // another process took it
    }
    const entries = readFileSync(claimed, 'utf8')
      .split('\n')
      .flatMap((line): JournalEntry[] => {
        try {
          return line ? [JSON.parse(line) as JournalEntry] : [];
        } catch {
          return []; // a line cut by the crash: its answer never went out
        }
      });
    const kept = await withoutErased(entries);
    await writeEntries(kept);
    removeFile(claimed);
    written += kept.length;
  }
  return written;
}

/** Entries of users erased after the entry was made are dropped: an erasure must not come back. */
async function withoutErased(entries: JournalEntry[]): Promise<JournalEntry[]> {
  const erasedAt = new Map<string, string | undefined>();
  for (const owner of new Set(entries.map((e) => e.row.partitionKey)))
    erasedAt.set(owner, await lastErasedAt(owner));
  return entries.filter((e) => {
    const erased = erasedAt.get(e.row.partitionKey);
    return !erased || erased < e.row.at;
  });
}
