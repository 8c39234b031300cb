/**
 * Append-only audit log (table `audit`, partition = user id, row = inverted time + id so the
 * newest come first). Entries say who did what to which ids and how it ended — never bodies,
 * subjects, addresses or tokens. One structured log line per entry for Application Insights.
 * An entry is journaled locally before the answer and reaches the table right after, off the
 * caller's path (./journal.ts: nothing is lost when the process dies).
 */
import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import { splitPrincipal } from '../storage/accounts';
import { countRoundTrip } from '../meter';
import { userTable } from '../storage/clients';
import { inSpan, SpanKind } from '../telemetry';
import { AUDIT_TABLE, flushAudit, record, type JournalEntry } from './journal';

export { AUDIT_TABLE, flushAudit };

export interface AuditEntry {
  userId: string;
  action: string;
  targetIds?: string[];
  outcome: 'success' | 'failure';
  status: number;
  code?: string;
  graphRequestIds?: string[];
  durationMs?: number;
  invocationId?: string;
}

export interface StoredAuditEntry extends AuditEntry {
  id: string;
  at: string;
}

const MAX_TIME = 9999999999999;

export function auditRowKey(at: number, id: string): string {
  return `${String(MAX_TIME - at).padStart(13, '0')}-${id}`;
}

/** An entry as its table row (what the journal holds and storage gets). */
export function auditRow(entry: AuditEntry, at: number, id: string): JournalEntry['row'] {
  // One log per user: what was done as another of their Microsoft accounts names the account.
  const { owner, ref } = splitPrincipal(entry.userId);
  return {
    partitionKey: owner,
    ...(ref ? { account: ref } : {}),
    rowKey: auditRowKey(at, id),
    id,
    at: new Date(at).toISOString(),
    action: entry.action,
    targetIds: JSON.stringify(entry.targetIds ?? []),
    outcome: entry.outcome,
    status: entry.status,
    code: entry.code ?? '',
    graphRequestIds: JSON.stringify(entry.graphRequestIds ?? []),
    durationMs: entry.durationMs ?? 0,
    invocationId: entry.invocationId ?? '',
  };
}

export async function audit(entry: AuditEntry, context?: InvocationContext): Promise<StoredAuditEntry> {
  const at = Date.now();
  const id = randomUUID();
  const stored: StoredAuditEntry = { ...entry, id, at: new Date(at).toISOString() };
  const line = {
    event: 'audit',
    action: entry.action,
    outcome: entry.outcome,
    status: entry.status,
    code: entry.code,
    targets: entry.targetIds?.length ?? 0,
    durationMs: entry.durationMs,
    graphRequestIds: entry.graphRequestIds,
    invocationId: entry.invocationId,
  };
  if (context) context.log(JSON.stringify(line));
  const row = auditRow(entry, at, id);
  // The entry is journaled before the answer and written to storage right after (./journal.ts):
  // it is this invocation's table write, counted here, though it leaves after the answer.
  countRoundTrip(`table:${AUDIT_TABLE} POST`);
  await inSpan(
    'audit write',
    SpanKind.INTERNAL,
    { 'db.system': 'azure_table_storage', 'db.collection.name': AUDIT_TABLE, 'm365.audit.journaled': true },
    async () => await record({ principal: entry.userId, row }),
  );
  return stored;
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

/** The caller's own entries, newest first, after an opaque cursor. */
export async function listAudit(
  userId: string,
  options: { after?: string; limit?: number } = {},
): Promise<{ entries: StoredAuditEntry[]; next?: string }> {
  // What this instance has journaled is in storage first: the caller's last action is listed.
  await flushAudit(2000);
  const client = await userTable(AUDIT_TABLE, userId);
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  const escaped = userId.replace(/'/g, "''");
  let filter = `PartitionKey eq '${escaped}'`;
  if (options.after) filter += ` and RowKey gt '${options.after.replace(/'/g, "''")}'`;
  const entries: StoredAuditEntry[] = [];
  let lastKey: string | undefined;
  for await (const row of client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) {
    entries.push({
      userId,
      id: String(row.id),
      at: String(row.at),
      action: String(row.action),
      targetIds: JSON.parse(str(row.targetIds, '[]')) as string[],
      outcome: row.outcome as 'success' | 'failure',
      status: Number(row.status),
      ...(str(row.code) ? { code: str(row.code) } : {}),
      graphRequestIds: JSON.parse(str(row.graphRequestIds, '[]')) as string[],
      durationMs: Number(row.durationMs),
      invocationId: str(row.invocationId),
    });
    lastKey = row.rowKey;
    if (entries.length >= limit) break;
  }
  return { entries, ...(entries.length >= limit && lastKey ? { next: lastKey } : {}) };
}

/** Erasure: removes the user's entries (a pseudonymous erasure record is written separately). */
export async function deleteAuditForUser(userId: string): Promise<number> {
  await flushAudit();
  const client = await userTable(AUDIT_TABLE, userId);
  let n = 0;
  const escaped = userId.replace(/'/g, "''");
  for await (const row of client.listEntities({ queryOptions: { filter: `PartitionKey eq '${escaped}'` } })) {
    await client.deleteEntity(row.partitionKey!, row.rowKey!).catch((err: unknown) => {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err; // erased meanwhile
    });
    n++;
  }
  return n;
}
