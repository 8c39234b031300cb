/**
 * Per-user read-through cache for slowly changing metadata (profile, mailbox settings, mail
 * folders, calendars, joined teams and channels, drive root), in memory per instance with a short
 * TTL. Dropped on the user's own writes (actions declare the tags they invalidate) and on change
 * notifications; message bodies and file content are never cached (only actions that opt in are).
 *
 * Entries are keyed by the platform user *and* the Microsoft account (home account id): after a
 * user disconnects and connects another account, nothing cached for the old one can answer.
 */
const MAX_ENTRIES = 5000;

interface Entry {
  value: unknown;
  expiresAt: number;
  tag: string;
}

const entries = new Map<string, Entry>();
let hits = 0;
let misses = 0;

/** Whose data an entry is: the platform user and the Microsoft account it came from. */
export interface CacheOwner {
  userId: string;
  account: string;
}

function key(owner: CacheOwner, actionId: string, input: unknown): string {
  return `${owner.userId}\u0000${owner.account}\u0000${actionId}\u0000${JSON.stringify(input)}`;
}

export function cacheGet(owner: CacheOwner, actionId: string, input: unknown): unknown {
  const k = key(owner, actionId, input);
  const e = entries.get(k);
  if (!e || e.expiresAt <= Date.now()) {
    if (e) entries.delete(k);
    misses++;
    return undefined;
  }
  hits++;
  return e.value;
}

export function cacheSet(
  owner: CacheOwner,
  actionId: string,
  input: unknown,
  tag: string,
  value: unknown,
  ttlSeconds: number,
): void {
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(key(owner, actionId, input), { value, tag, expiresAt: Date.now() + ttlSeconds * 1000 });
}

/** Drops a user's entries (of every account) with these tags (all tags when none are given). */
export function invalidate(userId: string, tags?: readonly string[]): number {
  let n = 0;
  const prefix = `${userId}\u0000`;
  for (const [k, e] of entries) {
    if (k.startsWith(prefix) && (!tags || tags.includes(e.tag))) {
      entries.delete(k);
      n++;
    }
  }
  return n;
}

export function cacheStats(): { hits: number; misses: number; entries: number } {
  return { hits, misses, entries: entries.size };
}
