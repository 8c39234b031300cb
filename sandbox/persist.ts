/**
 * The sandbox's tenant state on disk, so stopping and starting `npm start` keeps a connected user
 * connected and their data where it was (in step with Azurite's data under .local/azurite). Tests
 * never pass `stateDir`: their sandboxes live in memory and vanish with them.
 *
 * What is kept: the directory (users, app registrations, issued refresh tokens, consent grants,
 * revocations), the signing key (issued access tokens stay valid), the clock offset, every Graph
 * collection (mail, events, files, chats, contacts, tasks ... with their delta sequence), file
 * bytes (under `files/`), subscriptions, Key Vault secrets and each module's settings. What is not:
 * in-flight work (upload sessions, queued notification deliveries, throttling windows, injected
 * faults), as if the tenant had been idle for the restart.
 *
 * Crash safety: one snapshot file, written whole to a temp file, fsynced, then renamed over the
 * previous one (rename is atomic on one file system), so a `kill -9` at any point leaves either the
 * old or the new snapshot, never a torn one. File bytes are written to new files before a snapshot
 * names them, and a file the state stops naming is deleted only after the snapshot that no longer
 * names it is on disk. Snapshots are taken shortly after each request (debounced) and on stop.
 *
 * Format: Node's structured serialisation (`v8.serialize`, documented as safe to store: newer Node
 * versions read older data), which keeps Maps, Sets and Buffers as they are.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import type { AppRegistration, RefreshTokenRecord, SandboxUser } from './state';
import type { SavedSigningKey } from './tokens';

export const STATE_FILE = 'state.v8';
const LOCK_FILE = 'lock';
const FORMAT = 'm365-sandbox-state';
/** Bump when a saved shape changes incompatibly; older files then ask for a reset. */
const VERSION = 1;
/** Changes within this window are saved together. */
const SAVE_DELAY_MS = 150;

export interface SavedDirectory {
  users: Map<string, SandboxUser>;
  apps: Map<string, AppRegistration>;
  refreshTokens: Map<string, RefreshTokenRecord>;
  revokedBefore: Map<string, number>;
}

/** What the sandbox core (index.ts) keeps; each module adds its own part under `modules`. */
export interface CoreState {
  clockOffset: number;
  key: SavedSigningKey;
  directory: SavedDirectory;
}

export interface SandboxSnapshot extends CoreState {
  format: typeof FORMAT;
  version: number;
  savedAt: string;
  modules: Record<string, unknown>;
}

/** The state directory cannot be used; the message says what to do. */
export class StateError extends Error {}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid of a live process holding the state directory, if any. */
export function lockHolder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, LOCK_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the saved snapshot; undefined when there is none yet. Leftover temp files are ignored. */
export function readSnapshot(dir: string): SandboxSnapshot | undefined {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file)) return undefined;
  const resetHint = 'run `npm run reset` (or `npm start -- --reset`) to start from a fresh demo tenant';
  let snapshot: SandboxSnapshot;
  try {
    snapshot = deserialize(readFileSync(file)) as SandboxSnapshot;
  } catch (err) {
    throw new StateError(
      `The sandbox state ${file} cannot be read (${(err as Error).message}): ${resetHint}.`,
    );
  }
  if (snapshot?.format !== FORMAT) throw new StateError(`${file} is not a sandbox state file: ${resetHint}.`);
  if (snapshot.version !== VERSION)
    throw new StateError(
      `${file} was saved by another version of the sandbox (format ${snapshot.version}, this one reads ${VERSION}): ${resetHint}.`,
    );
  return snapshot;
}

export class Persistence {
  readonly file: string;
  /** Where file bytes live (the files module writes here instead of a temp directory). */
  readonly filesDir: string;
  /** The snapshot the sandbox started from (undefined: a new tenant). */
  readonly snapshot: SandboxSnapshot | undefined;
  /** Saved module parts not yet claimed by their module (modules start lazily). */
  private readonly unclaimed = new Map<string, unknown>();
  private readonly savers = new Map<string, () => unknown>();
  /** Files to delete once a snapshot that no longer names them is on disk. */
  private trash: string[] = [];
  private core: (() => CoreState) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failed = false;
  private closed = false;

  /** Opens (and locks) a state directory, reading what it holds. */
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    const holder = lockHolder(dir);
    if (holder)
      throw new StateError(
        `Another sandbox (pid ${holder}) is using the state in ${dir}: stop it first (one npm start per state directory).`,
      );
    this.file = join(dir, STATE_FILE);
    this.filesDir = join(dir, 'files');
    this.snapshot = readSnapshot(dir);
    mkdirSync(this.filesDir, { recursive: true });
    for (const [name, part] of Object.entries(this.snapshot?.modules ?? {})) this.unclaimed.set(name, part);
    writeFileSync(join(dir, LOCK_FILE), String(process.pid));
  }

  /** The core's part of every snapshot (set once the sandbox is built). */
  attach(core: () => CoreState): void {
    this.core = core;
  }

  /**
   * A module registers what it saves and gets back what it saved last time (undefined for a new
   * tenant). Called once, when the module's state is created.
   */
  claim<T>(name: string, save: () => T): T | undefined {
    this.savers.set(name, save);
    const saved = this.unclaimed.get(name) as T | undefined;
    this.unclaimed.delete(name);
    return saved;
  }

  /** Something changed: save soon (changes close together share one write). */
  changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.save();
    }, SAVE_DELAY_MS);
    this.timer.unref();
  }

  /** A file the state no longer names: deleted after the next snapshot is on disk. */
  discard(path: string): void {
    this.trash.push(path);
    this.changed();
  }

  /** Writes a snapshot now (temp file, fsync, rename), then deletes files it no longer names. */
  save(): void {
    if (!this.core) return;
    const modules: Record<string, unknown> = Object.fromEntries(this.unclaimed);
    for (const [name, save] of this.savers) modules[name] = save();
    const snapshot: SandboxSnapshot = {
      format: FORMAT,
      version: VERSION,
      savedAt: new Date().toISOString(),
      ...this.core(),
      modules,
    };
    const trash = this.trash;
    this.trash = [];
    try {
      const bytes = serialize(snapshot);
      const temp = `${this.file}.${process.pid}.tmp`;
      const fd = openSync(temp, 'w');
      try {
        writeSync(fd, bytes);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.file);
      this.failed = false;
    } catch (err) {
      // Disk full or the directory removed under us: keep serving, say so once, retry on the next change.
      this.trash.push(...trash);
      if (!this.failed) console.error(`sandbox: saving its state failed (${(err as Error).message})`);
      this.failed = true;
      return;
    }
    for (const path of trash) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  }

  /** Deletes files under filesDir the state does not name (left by a crash between write and save). */
  collectGarbage(named: Iterable<string>): void {
    const keep = new Set(named);
    for (const name of readdirSync(this.filesDir)) {
      const path = join(this.filesDir, name);
      if (!keep.has(path)) rmSync(path, { recursive: true, force: true });
    }
  }

  /** Saves a last time and releases the lock. */
  close(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.save();
    this.closed = true;
    rmSync(join(this.dir, LOCK_FILE), { force: true });
  }
}

/**
 * A module's persisted part (see Persistence.claim); undefined for in-memory sandboxes and new
 * tenants.
 */
export function persisted<T>(
  sandbox: { readonly persistence?: Persistence },
  name: string,
  save: () => T,
): T | undefined {
  return sandbox.persistence?.claim(name, save);
}

/** Drops a content file: at once in memory-only sandboxes, after the next save when persisted. */
export function discardFile(sandbox: { readonly persistence?: Persistence }, path: string | undefined): void {
  if (!path) return;
  if (sandbox.persistence) {
    sandbox.persistence.discard(path);
    return;
  }
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
