/** The change-feed reader of the MCP resource, on the sync engine's feed (the same data as GET /api/changes). */
import { latestSeq, listChanges, nameAccounts } from '../sync/feed';
import type { ChangeFeedReader } from './changes';

export const syncFeedReader: ChangeFeedReader = async (userId, query) => {
  const page = await listChanges(userId, {
    limit: query.limit,
    ...(query.after !== undefined ? { after: query.after } : {}),
    ...(query.service ? { service: query.service } : {}),
  });
  // With several Microsoft accounts, each entry names its account (as GET /api/changes does).
  return { ...page, items: await nameAccounts(userId, page.items) };
};

/** The user's last feed sequence number: what a push stream polls. */
export const latestFeedSeq = async (userId: string): Promise<number> => await latestSeq(userId);
