/**
 * The `syncstate` table: one row per (user, resource) with the saved deltaLink, the last round's
 * counts and status, and a lease. Two rounds for one (user, resource) never run at once: a round
 * takes the lease with a write conditional on the row's ETag, renews it after every page (same
 * condition), and releases it when it saves the new deltaLink. A round whose lease was taken over
 * (it stalled past the lease) fails its next renewal and stops without saving anything.
 */
import { randomUUID } from 'node:crypto';
import type { TableEntityResult } from '@azure/data-tables';
import { decodeOrRaw } from '../http/url';
import { erasePartition, userTable } from '../storage/clients';
import type { ResourceKey } from './jobs';

export const SYNCSTATE_TABLE = 'syncstate';
/** Requests for one more round, made while a round held the lease (see requestRerun). */
export const SYNC_RERUNS_TABLE = 'syncreruns';
/** A lease outlives a stalled page request (Graph timeout 30 s plus retries) with room to spare. */
export const LEASE_MS = 3 * 60 * 1000;
/** Clock difference tolerated between instances. */
const CLOCK_SKEW_MS = 60 * 1000;

export type SyncStatus = 'idle' | 'running' | 'failed' | 'reauth_required' | 'removed';

export interface SyncState {
  userId: string;
  resource: ResourceKey;
  status: SyncStatus;
  /** The opaque deltaLink of the last completed round (absent until the first one completes). */
  deltaLink?: string;
  /** Items currently in the index (not deleted). */
  items: number;
  lastRunAt?: string;
  lastSuccessAt?: string;
  /** Error code of the last failed round (never a message: they can quote data). */
  lastError?: string;
  /** JSON of the last round's counts (pages, requests, created, updated, deleted, mode). */
  lastRound?: string;
  /** Calendar: the window the saved deltaLink covers. */
  windowStart?: string;
  windowEnd?: string;
  leaseId?: string;
  leaseUntil?: string;
  /**
   * The sign-in that started following the resource (ISO), written before its first round: the
   * baseline reports items created from then on, whichever job runs it (shared/sync/engine.ts).
   */
  followSince?: string;
  etag?: string;
}

export const rowKeyOf = (resource: string): string => encodeURIComponent(resource);

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

function fromRow(row: TableEntityResult<Record<string, unknown>>): SyncState {
  const out: Record<string, unknown> = {
    userId: row.partitionKey ?? '',
    resource: decodeOrRaw(row.rowKey ?? ''),
    etag: row.etag,
    items: 0,
  };
  for (const [k, v] of Object.entries(row)) {
    if (['partitionKey', 'rowKey', 'etag', 'timestamp', 'odata.metadata'].includes(k)) continue;
    if (v !== '' && v !== null) out[k] = v;
  }
  return out as unknown as SyncState;
}

function toRow(s: Partial<SyncState> & { userId: string; resource: string }): Row {
  const row: Row = { partitionKey: s.userId, rowKey: rowKeyOf(s.resource) };
  for (const [k, v] of Object.entries(s)) {
    if (k === 'userId' || k === 'resource' || k === 'etag' || v === undefined) continue;
    row[k] = v;
  }
  return row;
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;

export async function getSyncState(userId: string, resource: string): Promise<SyncState | undefined> {
  const client = await userTable(SYNCSTATE_TABLE, userId);
  try {
    return fromRow(await client.getEntity<Record<string, unknown>>(userId, rowKeyOf(resource)));
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

export async function listSyncStates(userId: string): Promise<SyncState[]> {
  const client = await userTable(SYNCSTATE_TABLE, userId);
  const out: SyncState[] = [];
  const rows = client.listEntities<Record<string, unknown>>({
    queryOptions: { filter: `PartitionKey eq '${userId.replace(/'/g, "''")}'` },
  });
  for await (const row of rows) out.push(fromRow(row));
  return out;
}

export interface Lease {
  userId: string;
  resource: ResourceKey;
  id: string;
  etag: string;
  /** The row as it was when the lease was taken. */
  state: SyncState;
}

export class LeaseLost extends Error {
  constructor() {
    super('The sync lease was taken over by another round');
    this.name = 'LeaseLost';
  }
}

/** Another round holds the lease until `until` (ms since the epoch): come back then. */
export interface LeaseHeld {
  heldUntil: number;
  /** The holding round's lease id (absent when the row kept changing under us). */
  holder?: string;
}

/**
 * Takes the (user, resource) lease, or says until when another round holds it. Creating
 * the row and updating it are both conditional (insert fails on an existing row, update on a
 * changed ETag), so exactly one of two racing workers wins.
 */
export async function acquireLease(
  userId: string,
  resource: ResourceKey,
  now = Date.now(),
): Promise<Lease | LeaseHeld> {
  const client = await userTable(SYNCSTATE_TABLE, userId);
  const id = randomUUID();
  const leaseUntil = new Date(now + LEASE_MS).toISOString();
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await getSyncState(userId, resource);
    if (current?.leaseId && current.leaseUntil) {
      const left = Date.parse(current.leaseUntil) - now;
      // Held, unless it runs further ahead than any lease could: the clock of whoever wrote it
      // (or ours, before a jump back) was off, and such a lease would block the resource for hours.
      if (left > 0 && left <= LEASE_MS + CLOCK_SKEW_MS)
        return { heldUntil: now + left, holder: current.leaseId };
    }
    const patch = { userId, resource, leaseId: id, leaseUntil, lastRunAt: new Date(now).toISOString() };
    try {
      if (!current) {
        const res = await client.createEntity(toRow({ ...patch, status: 'running', items: 0 }));
        return {
          userId,
          resource,
          id,
          etag: res.etag ?? '',
          state: { userId, resource, status: 'idle', items: 0 },
        };
      }
      const res = await client.updateEntity(toRow({ ...patch, status: 'running' }), 'Merge', {
        etag: current.etag,
      });
      return { userId, resource, id, etag: res.etag ?? '', state: current };
    } catch (err) {
      const status = statusOf(err);
      if (status !== 409 && status !== 412) throw err;
      // Someone else wrote the row between our read and our write: look again.
    }
  }
  return { heldUntil: now + LEASE_MS };
}

/**
 * Records when a connect began following a resource that has no completed round yet (the row is
 * created if need be). A baseline already under way loses its lease to this write and is retried
 * with it, which is what it should do: it must not absorb what arrived after the sign-in.
 */
export async function markFollowSince(userId: string, resource: ResourceKey, since: string): Promise<void> {
  const client = await userTable(SYNCSTATE_TABLE, userId);
  try {
    await client.createEntity(toRow({ userId, resource, status: 'idle', items: 0, followSince: since }));
    return;
  } catch (err) {
    if (statusOf(err) !== 409) throw err;
  }
  const current = await getSyncState(userId, resource);
  if (!current || current.lastSuccessAt || current.followSince) return;
  await client
    .updateEntity(toRow({ userId, resource, followSince: since }), 'Merge', { etag: current.etag })
    .catch((err: unknown) => {
      if (statusOf(err) !== 412 && statusOf(err) !== 404) throw err;
    });
}

/** Extends the lease (after every page); throws LeaseLost when another round took it over. */
export async function renewLease(lease: Lease, now = Date.now()): Promise<void> {
  await mergeUnderLease(lease, { leaseUntil: new Date(now + LEASE_MS).toISOString() });
}

/** Ends the round: writes its outcome and frees the lease, still conditional on our ETag. */
export async function releaseLease(lease: Lease, outcome: Partial<SyncState>): Promise<void> {
  await mergeUnderLease(lease, { ...outcome, leaseId: '', leaseUntil: '' });
}

/** Merges into the sync state row only while it still carries our lease's ETag (LeaseLost otherwise). */
async function mergeUnderLease(lease: Lease, fields: Partial<SyncState>): Promise<void> {
  const client = await userTable(SYNCSTATE_TABLE, lease.userId);
  try {
    const res = await client.updateEntity(
      toRow({ ...fields, userId: lease.userId, resource: lease.resource }),
      'Merge',
      { etag: lease.etag },
    );
    lease.etag = res.etag ?? lease.etag;
  } catch (err) {
    if (statusOf(err) === 412 || statusOf(err) === 404) throw new LeaseLost();
    throw err;
  }
}

export async function deleteSyncState(userId: string, resource: string): Promise<void> {
  const client = await userTable(SYNCSTATE_TABLE, userId);
  await client.deleteEntity(userId, rowKeyOf(resource)).catch((err: unknown) => {
    if (statusOf(err) !== 404) throw err;
  });
}

export async function eraseSyncStates(userId: string): Promise<number> {
  const states = await listSyncStates(userId);
  for (const s of states) await deleteSyncState(userId, s.resource);
  return states.length + (await erasePartition(await userTable(SYNC_RERUNS_TABLE, userId), userId));
}

/**
 * A change arrived while the round with lease `holder` runs (it may have read Graph before the
 * change): asks that round to run once more when it ends. One row per (user, resource) names the
 * round asked; returns false when that round was already asked (nothing more to do).
 */
export async function requestRerun(userId: string, resource: ResourceKey, holder: string): Promise<boolean> {
  const client = await userTable(SYNC_RERUNS_TABLE, userId);
  const current = await client
    .getEntity<{ holder?: string }>(userId, rowKeyOf(resource))
    .catch((err: unknown) => {
      if (statusOf(err) === 404) return undefined;
      throw err;
    });
  if (current?.holder === holder) return false;
  await client.upsertEntity(
    { partitionKey: userId, rowKey: rowKeyOf(resource), holder, at: new Date().toISOString() },
    'Replace',
  );
  return true;
}

/** Whether a change asked the round that held lease `leaseId` to run once more. */
export async function rerunRequested(
  userId: string,
  resource: ResourceKey,
  leaseId: string,
): Promise<boolean> {
  const client = await userTable(SYNC_RERUNS_TABLE, userId);
  try {
    const row = await client.getEntity<{ holder?: string }>(userId, rowKeyOf(resource));
    return row.holder === leaseId;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw err;
  }
}
