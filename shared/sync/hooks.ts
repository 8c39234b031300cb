/**
 * Where sync meets the rest of the app: a new connection gets its initial rounds, a connection
 * becoming reauth_required is a change-feed entry, and the sync tables are part of the user's
 * data (exported, erased on disconnect).
 */
import { onConnected } from '../auth/lifecycle';
import { onReauthRequired } from '../auth/token-vault';
import { registerUserData } from '../privacy';
import { getConnection } from '../storage/connections';
import { appendEvent, eraseChanges, exportChanges } from './feed';
import { eraseIndexed, exportIndexed } from './items';
import { enqueueUserJobs } from './plan';
import { eraseSyncStates, listSyncStates } from './state';

let installed = false;

export function installSyncHooks(): void {
  if (installed) return;
  installed = true;

  onConnected(async (userId, context) => {
    const connection = await getConnection(userId);
    if (!connection) return;
    const jobs = await enqueueUserJobs(connection, 'connect');
    context.log(JSON.stringify({ event: 'sync_jobs_enqueued', reason: 'connect', jobs }));
  });

  onReauthRequired(async (userId, reason) => {
    // One entry per transition: markReauthRequired runs once when the status changes.
    await appendEvent(userId, {
      service: 'connection',
      resource: 'connection',
      id: 'microsoft',
      type: 'reauth_required',
      summary: { status: 'reauth_required', reason },
    });
  });

  registerUserData({
    name: 'syncState',
    perAccount: true,
    writtenByRunningWork: true,
    async export(userId) {
      return (await listSyncStates(userId)).map(({ etag: _e, leaseId: _l, leaseUntil: _u, ...rest }) => rest);
    },
    erase: eraseSyncStates,
  });
  registerUserData({
    name: 'syncedItems',
    perAccount: true,
    writtenByRunningWork: true,
    export: exportIndexed,
    erase: (userId) => eraseIndexed(userId),
  });
  // The feed is the user's; erasing an account's principal removes only that account's entries.
  registerUserData({
    name: 'changeFeed',
    perAccount: true,
    writtenByRunningWork: true,
    export: exportChanges,
    erase: eraseChanges,
  });
}
