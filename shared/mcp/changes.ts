/**
 * The `m365://changes` resource: the user's change feed (what the delta sync saw happen in mail,
 * calendar, files, contacts and To Do), so an assistant can catch up. The same page as
 * `GET /api/changes`: `{ items: [{ seq, service, resource, id, type, at, summary }], nextCursor,
 * hasMore }`, oldest first; `m365://changes?after=<nextCursor>` reads on.
 *
 * The feed belongs to the sync engine (shared/sync/feed.ts); this module needs only the small
 * reader interface below, which shared/mcp/feed.ts implements on top of it.
 */
import type { Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import { invalidInput } from '../http/validate';
import { FEED_SERVICES } from '../sync/feed';

export const CHANGES_URI = 'm365://changes';
export const CHANGES_PAGE_SIZE = 100;
export { FEED_SERVICES };

export interface ChangeEntry {
  seq: number;
  service: string;
  id: string;
  type: string;
  at: string;
  summary?: unknown;
}

/** A feed entry as read out: with several accounts connected, naming its account. */
export type FeedItem = Omit<ChangeEntry, 'account'> & { account?: string | { id: string; username: string } };

export interface ChangeFeedPage {
  items: readonly FeedItem[];
  /** The last sequence number returned (or `after` when nothing is new): read on from here. */
  nextCursor: string;
  hasMore: boolean;
}

export interface ChangeQuery {
  /** Entries after this sequence number (0 or absent: from the oldest kept). */
  after?: number;
  service?: (typeof FEED_SERVICES)[number];
}

/** Reads one page of a user's change feed, oldest first. */
export type ChangeFeedReader = (
  userId: string,
  query: ChangeQuery & { limit: number },
) => Promise<ChangeFeedPage>;

export const changesResource: Resource = {
  uri: CHANGES_URI,
  name: 'changes',
  title: 'Microsoft 365 change feed',
  description:
    'What changed in the user\'s Microsoft 365 (mail, calendar, files, contacts, To Do) as seen by the background sync, oldest first: {items: [{seq, service, resource, id, type: created|updated|deleted|reauth_required|connected, at, summary}], nextCursor, hasMore, next}. While hasMore, read "next" (m365://changes?after=<nextCursor>); keep the last nextCursor to catch up later. Use the ids with the matching get tool for details.',
  mimeType: 'application/json',
};

export const changesAfterTemplate: ResourceTemplate = {
  uriTemplate: `${CHANGES_URI}{?after,service}`,
  name: 'changes-after',
  title: 'Microsoft 365 changes after a cursor',
  description:
    'The change feed after a cursor (nextCursor of an earlier page), optionally of one service (mail, calendar, files, contacts, todo, connection).',
  mimeType: 'application/json',
};

/** The query of a changes URI; null when the URI is not the change feed, invalid_input when its query is wrong. */
export function parseChangesUri(uri: string): ChangeQuery | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== 'm365:') return null;
  const path = `${url.host}${url.pathname}`;
  const query: ChangeQuery = {};
  // m365://changes/<service>: one service's entries (a resource of its own, to subscribe to).
  const perService = /^changes\/([a-z]+)$/.exec(path);
  if (perService && (FEED_SERVICES as readonly string[]).includes(perService[1]!)) {
    query.service = perService[1] as ChangeQuery['service'];
  } else if (path !== 'changes') return null;
  for (const [key, value] of url.searchParams) {
    if (key === 'after' && /^\d{1,15}$/.test(value)) query.after = Number(value);
    else if (key === 'service' && (FEED_SERVICES as readonly string[]).includes(value))
      query.service = value as ChangeQuery['service'];
    else
      throw invalidInput([
        {
          field: key,
          message: `is not valid here: use after=<nextCursor of an earlier page> and service=${FEED_SERVICES.join('|')}`,
        },
      ]);
  }
  return query;
}

export function changesUri(after: string, service?: string): string {
  const params = new URLSearchParams({ after, ...(service ? { service } : {}) });
  return `${CHANGES_URI}?${params.toString()}`;
}

/** One resource per service: `m365://changes/mail`, ... (each subscribable). */
export const serviceChangesResources: Resource[] = FEED_SERVICES.map((service) => ({
  uri: `${CHANGES_URI}/${service}`,
  name: `changes-${service}`,
  title: `Microsoft 365 changes: ${service}`,
  description: `The change feed of ${service} only (same page shape as m365://changes). Subscribe to be told when it has new entries.`,
  mimeType: 'application/json',
}));

/**
 * The service a subscription to `uri` watches: undefined for the whole feed (m365://changes), a
 * service for m365://changes/<service>; null when the URI cannot be subscribed to (a cursor in it,
 * or not the feed).
 */
export function subscribedService(uri: string): string | undefined | null {
  if (uri.includes('?')) return null;
  return parseChangesUri(uri)?.service ?? (uri === CHANGES_URI ? undefined : null);
}
