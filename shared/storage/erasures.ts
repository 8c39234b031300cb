/**
 * Erasure records (GDPR, shared/privacy.ts writes them): one row per erasure in shard 0's
 * `erasures` table, keyed by a pseudonym of the user id, with the time and the counts erased.
 * Nothing in them leads back to the user without their id.
 */
import { createHash } from 'node:crypto';
import { table } from './clients';

export const ERASURES_TABLE = 'erasures';

/** A stable pseudonym for erasure records. */
export function pseudonym(userId: string): string {
  return createHash('sha256').update(`erasure|${userId}`, 'utf8').digest('hex');
}

/** The latest time (ISO) the user's data was erased, if ever. */
export async function lastErasedAt(userId: string): Promise<string | undefined> {
  const client = await table(ERASURES_TABLE);
  let last: string | undefined;
  const filter = `PartitionKey eq '${pseudonym(userId)}'`;
  for await (const row of client.listEntities<{ at?: string }>({ queryOptions: { filter } }))
    if (typeof row.at === 'string' && (!last || row.at > last)) last = row.at;
  return last;
}
