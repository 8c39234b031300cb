/**
 * The timers' fan-out per storage account (docs/scale.md, "Queues"): the sync and renewal ticks,
 * and the daily retention, keep-alive and weekly re-encryption. With one account a timer
 * lists the users and queues their jobs itself. With several, it queues one `timer-fanout`
 * message per account, into that account's own queue, and that account's copy of
 * `timerFanoutWorker` lists that account's users only: on Flex Consumption each queue function
 * scales on its own instances (per-function scaling,
 * https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#per-function-scaling),
 * so n accounts' fan-outs run side by side instead of one invocation writing every user's jobs
 * (at a million users, 4.5 million messages a tick from one invocation would outlast its tick).
 * Every account plans with the tick's own time, so the turns and delays are those of the tick.
 */
import { z } from 'zod';
import { fanOutKeepAlive, fanOutReencrypt } from './auth/maintenance';
import { enqueue } from './storage/clients';
import { listShardConnections } from './storage/connections';
import { shardCount } from './shards';
import { fanOutSync } from './sync/plan';
import { fanOutRetention } from './sync/retention';
import { fanOutRenewals } from './webhooks/renewal';

export const FANOUT_QUEUE = 'timer-fanout';

export const FanoutMessage = z
  .object({
    kind: z.enum(['sync', 'renewal', 'retention', 'keepalive', 'reencrypt']),
    shard: z.number().int().min(0).max(63),
    tickAt: z.number().int().positive(),
  })
  .strip();
export type FanoutMessage = z.infer<typeof FanoutMessage>;

export type FanoutResult =
  { accounts: 1; users: number; jobs: number } | { accounts: number; queued: number };

/** A timer's tick: the fan-out itself with one account, one message per account with several. */
export async function fanOutTick(kind: FanoutMessage['kind'], tickAt = Date.now()): Promise<FanoutResult> {
  const accounts = shardCount();
  if (accounts === 1) return { accounts: 1, ...(await fanOutAccount({ kind, shard: 0, tickAt })) };
  for (let shard = 0; shard < accounts; shard++)
    await enqueue(FANOUT_QUEUE, { kind, shard, tickAt } satisfies FanoutMessage);
  return { accounts, queued: accounts };
}

/**
 * One account's share of a tick: its users' jobs (sync rounds, subscription renewals, feed
 * retention, token keep-alive or re-encryption).
 */
export async function fanOutAccount(message: FanoutMessage): Promise<{ users: number; jobs: number }> {
  const connections = listShardConnections(message.shard);
  if (message.kind === 'sync') return await fanOutSync(connections, message.tickAt);
  const users = await {
    renewal: () => fanOutRenewals(connections, message.tickAt),
    retention: () => fanOutRetention(connections),
    keepalive: () => fanOutKeepAlive(message.tickAt, connections),
    reencrypt: () => fanOutReencrypt(connections),
  }[message.kind]();
  return { users, jobs: users };
}
