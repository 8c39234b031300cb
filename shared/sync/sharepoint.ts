/**
 * SharePoint libraries and lists a user chose to sync (sharepoint.syncLibrary / syncList). A choice
 * is its sync state row: the first round (started by the choosing action) creates it, later
 * rounds come from the timer and from notifications like any other resource, and stopping the
 * sync deletes the row and the index. Notifications for a resource nobody chose any more do not
 * bring it back (shared/sync/worker.ts).
 *
 * The ids go inside the resource key base64url-encoded: drive ids (`b!...`) and site ids
 * (`host,guid,guid`) hold characters a key may not.
 */
import type { ResourceKey } from './jobs';
import { listSyncStates, type SyncState } from './state';

export type Chosen = { kind: 'library'; driveId: string } | { kind: 'list'; siteId: string; listId: string };

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const unb64 = (text: string) => Buffer.from(text, 'base64url').toString('utf8');

export function libraryKey(driveId: string): ResourceKey {
  return `splib:${b64(driveId)}`;
}

export function listKey(siteId: string, listId: string): ResourceKey {
  return `splist:${b64(JSON.stringify([siteId, listId]))}`;
}

export function isChosenKey(key: string): boolean {
  return key.startsWith('splib:') || key.startsWith('splist:');
}

/** What a chosen key names; undefined for any other key (or one that does not decode). */
export function parseChosenKey(key: string): Chosen | undefined {
  if (key.startsWith('splib:')) {
    const driveId = unb64(key.slice('splib:'.length));
    return driveId ? { kind: 'library', driveId } : undefined;
  }
  if (key.startsWith('splist:')) {
    try {
      const parsed: unknown = JSON.parse(unb64(key.slice('splist:'.length)));
      if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((v) => typeof v === 'string' && v)) {
        return { kind: 'list', siteId: parsed[0] as string, listId: parsed[1] as string };
      }
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The libraries and lists the user chose and still syncs, each with its sync state. */
export async function chosenSyncs(userId: string): Promise<Array<{ state: SyncState; chosen: Chosen }>> {
  const out: Array<{ state: SyncState; chosen: Chosen }> = [];
  for (const state of await listSyncStates(userId)) {
    const chosen = state.status === 'removed' ? undefined : parseChosenKey(state.resource);
    if (chosen) out.push({ state, chosen });
  }
  return out;
}
