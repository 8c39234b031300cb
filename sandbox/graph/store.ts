/**
 * One change-tracking store for every entity collection the Graph services keep (messages,
 * events, driveItems, contacts, todoTasks:{listId}, ...). Collections are keyed by (user id,
 * collection name). Every create, update and delete takes the next value of one monotonic
 * sequence, and deletes leave tombstones, so delta (delta.ts) can answer "what changed since
 * sequence N" and change notifications can subscribe with `onChange`.
 */
import { EventEmitter } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';

export type Entity = Record<string, unknown> & { id: string };

/** How a collection's items carry their version (reference §8 conventions). */
export type EtagStyle = 'outlook' | 'drive' | 'none';

export interface CollectionRef {
  userId: string;
  name: string;
}

export interface StoredRecord {
  id: string;
  /** Current state (the last state before deletion for tombstones). */
  data: Entity;
  /** Sequence of the last change. */
  seq: number;
  /** Sequence of the creation (stable; delta pages by it). */
  createdSeq: number;
  version: number;
  deleted: boolean;
  /** Drive etags: `"{GUID},version"` keeps one GUID per item. */
  etagGuid?: string;
}

export interface Change {
  type: 'created' | 'updated' | 'deleted';
  userId: string;
  collection: string;
  id: string;
  seq: number;
  /** The item after the change (the last state for deletes). */
  item: Entity;
}

export interface StoreSnapshot {
  seq: number;
  collections: Array<{ ref: CollectionRef; etag: EtagStyle; generation: number; records: StoredRecord[] }>;
}

interface Collection {
  ref: CollectionRef;
  etag: EtagStyle;
  records: Map<string, StoredRecord>;
  /** Bumped by delta invalidation: tokens of older generations answer 410. */
  generation: number;
}

export function collectionKey(ref: CollectionRef): string {
  return `${ref.userId}/${ref.name}`;
}

/** Graph timestamps: UTC, second precision plus 7 fractional digits as Outlook sends them. */
export function graphTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** Opaque Outlook-looking ids (`AAMkAG...`), URL-safe as Graph's immutable ids are. */
export function outlookId(prefix = 'AAMkAG'): string {
  return prefix + randomBytes(48).toString('base64url');
}

/** OneDrive-looking ids (`01` + 32 upper-case characters). */
export function driveItemId(): string {
  return '01' + randomBytes(20).toString('base64url').replace(/[-_]/g, 'X').toUpperCase().slice(0, 32);
}

export class ChangeStore {
  private seqValue = 0;
  private readonly collections = new Map<string, Collection>();
  private readonly events = new EventEmitter();

  constructor(private readonly now: () => number) {
    this.events.setMaxListeners(100);
  }

  /** The last sequence handed out (0 when nothing changed yet). */
  get seq(): number {
    return this.seqValue;
  }

  /** Declares (or returns) a collection. `etag` decides which version fields items carry. */
  collection(userId: string, name: string, options: { etag?: EtagStyle } = {}): CollectionRef {
    const ref = { userId, name };
    const key = collectionKey(ref);
    const existing = this.collections.get(key);
    if (existing) {
      if (options.etag) existing.etag = options.etag;
      return existing.ref;
    }
    this.collections.set(key, { ref, etag: options.etag ?? 'outlook', records: new Map(), generation: 0 });
    return ref;
  }

  private col(ref: CollectionRef): Collection {
    this.collection(ref.userId, ref.name);
    return this.collections.get(collectionKey(ref)) as Collection;
  }

  /** Current (not deleted) items in creation order. */
  list(ref: CollectionRef): Entity[] {
    return [...this.col(ref).records.values()].filter((r) => !r.deleted).map((r) => r.data);
  }

  get(ref: CollectionRef, id: string): Entity | undefined {
    const record = this.col(ref).records.get(id);
    return record && !record.deleted ? record.data : undefined;
  }

  /** The raw record, tombstones included. */
  record(ref: CollectionRef, id: string): StoredRecord | undefined {
    return this.col(ref).records.get(id);
  }

  /**
   * All records (tombstones too) in creation order; delta reads this. The map is already in that
   * order (insert moves a re-created id to the end, with the newest createdSeq), so it is iterated
   * as it is: no copy and no sort per delta page, which for a 10,000-item folder made the sandbox's
   * own work and garbage grow with the folder.
   */
  records(ref: CollectionRef): IterableIterator<StoredRecord> {
    return this.col(ref).records.values();
  }

  /**
   * Inserts an item. A missing id gets an Outlook-looking one; createdDateTime and
   * lastModifiedDateTime are stamped unless given; changeKey/@odata.etag (outlook) or eTag/cTag
   * (drive) are always stamped.
   */
  insert(ref: CollectionRef, item: Partial<Entity> & Record<string, unknown>): Entity {
    const col = this.col(ref);
    const id = typeof item.id === 'string' && item.id ? item.id : outlookId();
    const existing = col.records.get(id);
    if (existing && !existing.deleted) throw new Error(`item ${id} already exists in ${collectionKey(ref)}`);
    const seq = ++this.seqValue;
    const now = graphTimestamp(this.now());
    const data: Entity = {
      ...item,
      id,
      createdDateTime: item.createdDateTime ?? now,
      lastModifiedDateTime: item.lastModifiedDateTime ?? now,
    };
    const record: StoredRecord = { id, data, seq, createdSeq: seq, version: 1, deleted: false };
    this.stamp(col, record);
    // A re-created id moves to the end of the creation order, as a new item would.
    col.records.delete(id);
    col.records.set(id, record);
    this.emit({ type: 'created', userId: ref.userId, collection: ref.name, id, seq, item: data });
    return data;
  }

  /**
   * Updates an item: `patch` is merged (top-level properties replace, `undefined` removes), or a
   * function returns the new state. Returns undefined for unknown or deleted ids.
   */
  update(
    ref: CollectionRef,
    id: string,
    patch: Record<string, unknown> | ((current: Entity) => Record<string, unknown>),
  ): Entity | undefined {
    const col = this.col(ref);
    const record = col.records.get(id);
    if (!record || record.deleted) return undefined;
    const next = typeof patch === 'function' ? patch(record.data) : { ...record.data, ...patch };
    for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
    const seq = ++this.seqValue;
    record.data = {
      ...next,
      id,
      createdDateTime: record.data.createdDateTime,
      lastModifiedDateTime: graphTimestamp(this.now()),
    };
    record.seq = seq;
    record.version += 1;
    this.stamp(col, record);
    this.emit({ type: 'updated', userId: ref.userId, collection: ref.name, id, seq, item: record.data });
    return record.data;
  }

  /** Deletes an item, leaving a tombstone for delta. Returns false for unknown ids. */
  remove(ref: CollectionRef, id: string): boolean {
    const record = this.col(ref).records.get(id);
    if (!record || record.deleted) return false;
    const seq = ++this.seqValue;
    record.deleted = true;
    record.seq = seq;
    this.emit({ type: 'deleted', userId: ref.userId, collection: ref.name, id, seq, item: record.data });
    return true;
  }

  /**
   * Moves an item to another collection (mail to another folder, a task to another list). Without
   * an immutable id the item gets a NEW id, as Outlook does: "creates a new copy ... and removes
   * the original" (message-move.md); with `Prefer: IdType="ImmutableId"` the id survives
   * (https://learn.microsoft.com/graph/outlook-immutable-id). Both collections see the change.
   */
  move(
    from: CollectionRef,
    to: CollectionRef,
    id: string,
    options: { keepId: boolean; patch?: Record<string, unknown> },
  ): Entity | undefined {
    const current = this.get(from, id);
    if (!current) return undefined;
    this.remove(from, id);
    const copy: Record<string, unknown> = { ...current, ...(options.patch ?? {}) };
    delete copy.changeKey;
    delete copy['@odata.etag'];
    delete copy.eTag;
    copy.id = options.keepId ? id : outlookId(id.slice(0, 6) || 'AAMkAG');
    return this.insert(to, copy);
  }

  /** Delta generation of a collection (see `invalidate`). */
  generation(ref: CollectionRef): number {
    return this.col(ref).generation;
  }

  /**
   * Expires delta tokens: collections matching the user (and name, when given) move to a new
   * generation, and tokens of older generations answer 410 (reference §5.1 item 7).
   * Returns the refs that were invalidated.
   */
  invalidate(filter: { userId?: string; name?: string } = {}): CollectionRef[] {
    const hit: CollectionRef[] = [];
    for (const col of this.collections.values()) {
      if (filter.userId && col.ref.userId !== filter.userId) continue;
      if (filter.name && col.ref.name !== filter.name) continue;
      col.generation += 1;
      hit.push(col.ref);
    }
    return hit;
  }

  /** Everything the store holds, as plain data (the sandbox's persisted state, sandbox/persist.ts). */
  dump(): StoreSnapshot {
    return {
      seq: this.seqValue,
      collections: [...this.collections.values()].map((c) => ({
        ref: c.ref,
        etag: c.etag,
        generation: c.generation,
        records: [...c.records.values()],
      })),
    };
  }

  /** Replaces the contents with a dump (before any listener runs: loading is not a change). */
  load(snapshot: StoreSnapshot): void {
    this.collections.clear();
    this.seqValue = snapshot.seq;
    for (const c of snapshot.collections) {
      this.collections.set(collectionKey(c.ref), {
        ref: c.ref,
        etag: c.etag,
        generation: c.generation,
        records: new Map(c.records.map((r) => [r.id, r])),
      });
    }
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  onChange(listener: (change: Change) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  private emit(change: Change): void {
    this.events.emit('change', change);
  }

  private stamp(col: Collection, record: StoredRecord): void {
    if (col.etag === 'outlook') {
      const changeKey = randomBytes(12).toString('base64');
      record.data.changeKey = changeKey;
      record.data['@odata.etag'] = `W/"${changeKey}"`;
    } else if (col.etag === 'drive') {
      const guid = (record.etagGuid ??= randomUUID().toUpperCase());
      record.data.eTag = `"{${guid}},${record.version}"`;
      record.data.cTag = `"c:{${guid}},${record.version}"`;
    }
  }
}
