/**
 * Delivers the change feed to the platform's endpoints as signed Standard Webhooks events
 * (docs/events.md).
 *
 * The feed is the log: each (user, endpoint) has a cursor row in `eventcursors` (the last seq
 * delivered), and a queue message on `m365-events` says "this user has news". The worker that
 * takes the user's lease (an ETag-guarded `leaseUntil`) posts the entries after the cursor in
 * order, moving the cursor after each 2xx, so delivery is ordered per user and at least once: a
 * crash between the POST and the cursor write sends that event again, with the same `webhook-id`.
 * A failure stops the user's stream for that endpoint and schedules a retry (a delayed queue
 * message) after EVENTS_RETRY_SECONDS, doubling up to an hour, for EVENTS_RETRY_FOR_SECONDS (24 h);
 * then the event goes to the dead-letter table and the stream moves on. 410 Gone disables the
 * endpoint (logged as the operator event `events_endpoint_disabled`). Replay sets the cursor
 * back (`replayAfter`, applied by the lease holder).
 */
import { recordEventDelivery } from '../telemetry';
import { createHash, randomUUID } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import { getConfig } from '../config';
import { getSecret } from '../secrets';
import { enqueue, erasePartition, table, userTable } from '../storage/clients';
import { getConnection } from '../storage/connections';
import { latestSeq, listChanges, type ChangeEntry } from '../sync/feed';
import { disableEndpoint, listEndpoints, type Endpoint } from './endpoints';
import { parseSecrets, signatureHeader } from './sign';
import { accepts } from './types';

export const EVENTS_QUEUE = 'm365-events';
export const CURSORS_TABLE = 'eventcursors';
export const DEAD_LETTERS_TABLE = 'eventdeadletters';
/** Beyond the POST timeout, what the lease allows for the storage reads and writes around it. */
const LEASE_SLACK_MS = 5_000;
const PAGE = 50;
const MAX_BACKOFF_SECONDS = 3600;

export interface EventsKick {
  userId: string;
  /** The first seq of the entries that caused this message (a new cursor starts just before it). */
  from?: number;
}

interface CursorRow {
  delivered: number;
  attempts: number;
  firstFailureAt: string;
  leaseUntil: number;
  leaseId: string;
  replayAfter: number;
  /** While a delivery is failing: when the scheduled retry is due (ms). */
  retryAt: number;
  etag: string;
}

export interface Logger {
  log(msg: string): void;
  warn(msg: string): void;
}

const statusOf = (err: unknown): number | undefined => (err as { statusCode?: number }).statusCode;
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The stable `webhook-id` of a feed entry: the same on every retry and replay. */
export function webhookId(userId: string, e: ChangeEntry): string {
  const key = JSON.stringify([userId, e.seq, e.at, e.service, e.resource, e.id, e.type]);
  return `msg_${createHash('sha256').update(key).digest('base64url').slice(0, 24)}`;
}

export function eventType(e: ChangeEntry): string {
  return `${e.service}.${e.type}`;
}

/** The JSON body of an event: ids, kind, time and the entry's short summary, never a body. */
export function eventBody(userId: string, e: ChangeEntry): string {
  return JSON.stringify({
    type: eventType(e),
    timestamp: e.at,
    data: {
      userId,
      seq: e.seq,
      service: e.service,
      resource: e.resource,
      id: e.id,
      change: e.type,
      at: e.at,
      summary: e.summary,
      // Another of the user's Microsoft accounts (its id, GET /api/connections/me names it).
      ...(e.account ? { account: e.account } : {}),
    },
  });
}

async function readCursor(
  client: TableClient,
  userId: string,
  endpointId: string,
): Promise<CursorRow | undefined> {
  try {
    const row = await client.getEntity<Record<string, unknown>>(userId, endpointId);
    return {
      delivered: Number(row.delivered ?? 0),
      attempts: Number(row.attempts ?? 0),
      firstFailureAt: text(row.firstFailureAt),
      leaseUntil: Number(row.leaseUntil ?? 0),
      leaseId: text(row.leaseId),
      replayAfter: Number(row.replayAfter ?? -1),
      retryAt: Number(row.retryAt ?? 0),
      etag: row.etag,
    };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

type Outcome = { kind: 'ok' } | { kind: 'gone' } | { kind: 'failed'; reason: string };

async function post(url: string, userId: string, e: ChangeEntry, keys: Buffer[]): Promise<Outcome> {
  const id = webhookId(userId, e);
  const timestamp = Math.floor(Date.now() / 1000);
  const body = eventBody(userId, e);
  try {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(getConfig().EVENTS_TIMEOUT_SECONDS * 1000),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'm365-integration-events/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(keys, id, timestamp, body),
      },
      body,
    });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { kind: 'ok' };
    if (res.status === 410) return { kind: 'gone' };
    return { kind: 'failed', reason: `HTTP ${res.status}` };
  } catch (err) {
    return {
      kind: 'failed',
      reason: (err as Error).name === 'TimeoutError' ? 'timeout' : 'connection failed',
    };
  }
}

function backoffSeconds(attempts: number): number {
  const base = getConfig().EVENTS_RETRY_SECONDS;
  return Math.min(MAX_BACKOFF_SECONDS, base * 2 ** Math.max(0, attempts - 1));
}

async function deadLetter(userId: string, endpoint: Endpoint, e: ChangeEntry, reason: string): Promise<void> {
  const client = await table(DEAD_LETTERS_TABLE);
  await client.upsertEntity(
    {
      partitionKey: endpoint.id,
      rowKey: `${userId}|${String(e.seq).padStart(15, '0')}`,
      userId,
      seq: e.seq,
      type: eventType(e),
      webhookId: webhookId(userId, e),
      reason,
      failedAt: new Date().toISOString(),
    },
    'Replace',
  );
}

/**
 * Delivers one user's pending entries to one endpoint. Returns `busy` when another worker holds
 * the user's lease (the caller tries again shortly).
 */
async function deliverTo(
  userId: string,
  endpoint: Endpoint,
  from: number | undefined,
  keys: () => Promise<Buffer[]>,
  log: Logger,
): Promise<'done' | 'busy' | 'more'> {
  const client = await userTable(CURSORS_TABLE, userId);
  const leaseId = randomUUID();
  // Long enough for one POST and its cursor write, and renewed by each: a worker killed
  // mid-delivery (kill -9, a lost instance) holds the stream for one timeout plus the slack.
  const leaseMs = getConfig().EVENTS_TIMEOUT_SECONDS * 1000 + LEASE_SLACK_MS;
  let cursor = await readCursor(client, userId, endpoint.id);
  const now = Date.now();
  if (!cursor) {
    // A new stream starts with the entries that caused this message (nothing older: replay for that).
    const start = from !== undefined ? from - 1 : await latestSeq(userId);
    try {
      await client.createEntity({
        partitionKey: userId,
        rowKey: endpoint.id,
        delivered: start,
        attempts: 0,
        leaseUntil: 0,
      });
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    cursor = await readCursor(client, userId, endpoint.id);
    if (!cursor) return 'done';
  }
  if (cursor.leaseUntil > now) return 'busy';
  // During a backoff the scheduled retry owns the next attempt; this message only says there is more.
  // (2 s of slack: the queue's clock and ours may differ a little.)
  if (cursor.retryAt - 2000 > now && cursor.replayAfter < 0) return 'done';
  let etag: string;
  try {
    const res = await client.updateEntity(
      { partitionKey: userId, rowKey: endpoint.id, leaseUntil: now + leaseMs, leaseId },
      'Merge',
      { etag: cursor.etag },
    );
    etag = res.etag ?? '';
  } catch (err) {
    if (statusOf(err) === 412) return 'busy';
    throw err;
  }
  let delivered = cursor.replayAfter >= 0 ? cursor.replayAfter : cursor.delivered;
  let attempts = cursor.replayAfter >= 0 ? 0 : cursor.attempts;
  let firstFailureAt = cursor.replayAfter >= 0 ? '' : cursor.firstFailureAt;
  const save = async (extra: Record<string, unknown> = {}) => {
    const res = await client.updateEntity(
      {
        partitionKey: userId,
        rowKey: endpoint.id,
        delivered,
        attempts,
        firstFailureAt,
        replayAfter: -1,
        retryAt: 0,
        leaseUntil: Date.now() + leaseMs,
        ...extra,
      },
      'Merge',
      { etag },
    );
    etag = res.etag ?? '';
  };
  try {
    for (;;) {
      const page = await listChanges(userId, { after: delivered, limit: PAGE });
      if (page.items.length === 0) break;
      for (const e of page.items) {
        if (!accepts(endpoint.types, eventType(e))) {
          delivered = e.seq;
          continue;
        }
        const outcome = await post(endpoint.url, userId, e, await keys());
        recordEventDelivery(outcome.kind === 'ok' ? 'delivered' : 'failed');
        if (outcome.kind === 'ok') {
          delivered = e.seq;
          attempts = 0;
          firstFailureAt = '';
          await save();
          continue;
        }
        if (outcome.kind === 'gone') {
          await disableEndpoint(endpoint.id, 'answered 410 Gone');
          log.warn(
            JSON.stringify({
              event: 'events_endpoint_disabled',
              endpointId: endpoint.id,
              reason: '410 Gone',
            }),
          );
          await save({ leaseUntil: 0 });
          return 'done';
        }
        attempts += 1;
        firstFailureAt ||= new Date().toISOString();
        if (Date.now() - Date.parse(firstFailureAt) >= getConfig().EVENTS_RETRY_FOR_SECONDS * 1000) {
          await deadLetter(userId, endpoint, e, outcome.reason);
          recordEventDelivery('dead_lettered');
          log.warn(
            JSON.stringify({
              event: 'events_dead_lettered',
              endpointId: endpoint.id,
              seq: e.seq,
              attempts,
              reason: outcome.reason,
            }),
          );
          delivered = e.seq;
          attempts = 0;
          firstFailureAt = '';
          await save();
          continue;
        }
        const delay = backoffSeconds(attempts);
        log.log(
          JSON.stringify({
            event: 'events_delivery_failed',
            endpointId: endpoint.id,
            seq: e.seq,
            attempts,
            retryInSeconds: delay,
            reason: outcome.reason,
          }),
        );
        await save({ leaseUntil: 0, retryAt: Date.now() + delay * 1000 });
        await enqueue(EVENTS_QUEUE, { userId } satisfies EventsKick, { visibilityTimeoutSeconds: delay });
        return 'done';
      }
      if (!page.hasMore) break;
    }
    await save({ leaseUntil: 0 });
  } catch (err) {
    // Lost the lease (412) or storage failed: the queue message is retried.
    if (statusOf(err) === 412) return 'busy';
    throw err;
  }
  // An entry appended while we held the lease may have had its message skipped as busy: look again.
  return (await latestSeq(userId)) > delivered ? 'more' : 'done';
}

/** Signing keys, or undefined (logged) when EVENTS_SIGNING_SECRETS is not set. */
async function signingKeys(log: Logger): Promise<Buffer[] | undefined> {
  let value: string;
  try {
    value = await getSecret('EVENTS_SIGNING_SECRETS');
  } catch {
    log.warn(JSON.stringify({ event: 'events_not_signed', reason: 'EVENTS_SIGNING_SECRETS is not set' }));
    return undefined;
  }
  return parseSecrets(value);
}

/** Handles one `m365-events` message: every enabled endpoint gets the user's pending events. */
export async function deliverUserEvents(kick: EventsKick, log: Logger): Promise<void> {
  // The list cached for a few seconds (one read per instance, not per message); a disabled
  // endpoint is also dropped from this instance's copy at once (disableEndpoint).
  const endpoints = (await listEndpoints()).filter((e) => !e.disabled);
  if (endpoints.length === 0) return;
  // An erased user (a message queued before the erase): no cursor may be left behind for them.
  if (!(await getConnection(kick.userId))) {
    await erasePartition(await userTable(CURSORS_TABLE, kick.userId), kick.userId);
    return;
  }
  // Without a secret nothing can be signed: the message fails and is retried (then poison).
  if (!(await signingKeys(log))) throw new Error('EVENTS_SIGNING_SECRETS is not set');
  // Read for every event (a cached secret, or a setting): one sent after a rotation has the new set.
  const keys = async () => (await signingKeys(log)) ?? [];
  let busy = false;
  let pending = endpoints;
  for (let pass = 0; pending.length > 0 && pass < 10; pass++) {
    const more: Endpoint[] = [];
    for (const endpoint of pending) {
      const outcome = await deliverTo(kick.userId, endpoint, pass === 0 ? kick.from : undefined, keys, log);
      if (outcome === 'busy') busy = true;
      if (outcome === 'more') more.push(endpoint);
    }
    pending = more;
  }
  if (pending.length > 0) busy = true;
  if (busy)
    await enqueue(EVENTS_QUEUE, { userId: kick.userId } satisfies EventsKick, {
      visibilityTimeoutSeconds: 1,
    });
}

/** After a feed append: tell the delivery worker (only when some endpoint is registered). */
export async function kickDelivery(userId: string, entries: readonly ChangeEntry[]): Promise<void> {
  if (entries.length === 0) return;
  if ((await listEndpoints()).every((e) => e.disabled)) return;
  await enqueue(EVENTS_QUEUE, { userId, from: entries[0]!.seq } satisfies EventsKick);
}

/** Redelivers the user's events after `after` (a change-feed cursor) to every endpoint, or one. */
export async function replayEvents(userId: string, after: number, endpointId?: string): Promise<string[]> {
  const endpoints = (await listEndpoints({ fresh: true })).filter(
    (e) => !e.disabled && (!endpointId || e.id === endpointId),
  );
  const client = await userTable(CURSORS_TABLE, userId);
  for (const e of endpoints) {
    await client.upsertEntity({ partitionKey: userId, rowKey: e.id, replayAfter: after }, 'Merge');
  }
  if (endpoints.length > 0) await enqueue(EVENTS_QUEUE, { userId } satisfies EventsKick);
  return endpoints.map((e) => e.id);
}

export interface DeadLetter {
  endpointId: string;
  userId: string;
  seq: number;
  type: string;
  webhookId: string;
  reason: string;
  failedAt: string;
}

export async function listDeadLetters(limit = 100): Promise<DeadLetter[]> {
  const client = await table(DEAD_LETTERS_TABLE);
  const out: DeadLetter[] = [];
  for await (const row of client.listEntities<Record<string, unknown>>()) {
    out.push({
      endpointId: String(row.partitionKey),
      userId: String(row.userId),
      seq: Number(row.seq),
      type: String(row.type),
      webhookId: String(row.webhookId),
      reason: String(row.reason),
      failedAt: String(row.failedAt),
    });
    if (out.length >= limit) break;
  }
  return out;
}
