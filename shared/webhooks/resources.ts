/**
 * Which subscriptions a user should have (the "desired" side of reconciliation), one per
 * resource the granted features cover, with its lifetime (one TTL constant per resource type,
 * style.md 16), the delta sync a notification triggers (shared/sync/jobs.ts ResourceKey) and the
 * cached metadata it invalidates. Lifetimes: graph-behaviour.md §6.2.
 */
import { z } from 'zod';
import { getConfig } from '../config';
import { grantedFeatures } from '../auth/scopes';
import { graphRequest } from '../graph/client';
import type { Connection } from '../storage/connections';
import type { ResourceKey } from '../sync/jobs';
import { chosenSyncs, isChosenKey } from '../sync/sharepoint';
import { followedChannels } from '../sync/teams';

export type WebhookService = 'mail' | 'calendar' | 'files' | 'contacts' | 'todo' | 'teams' | 'sharepoint';

export interface DesiredSubscription {
  /** Stable identity of the desired subscription: the sync ResourceKey it feeds. */
  key: string;
  service: WebhookService;
  resource: string;
  changeType: string;
  lifetimeMinutes: number;
}

/** Graph's maximum lifetime per resource type, in minutes (§6.2, lifetime include ms.date 11/07/2024). */
export const MAX_LIFETIME_MINUTES: Record<WebhookService, number> = {
  mail: 10080,
  calendar: 10080,
  contacts: 10080,
  todo: 4230,
  files: 42300,
  teams: 4320,
  // driveItem and SharePoint list: 42,300 minutes (§6.2).
  sharepoint: 42300,
};
/** Asked-for expiry = maximum minus this margin, so clock skew never makes Graph answer 400. */
export const LIFETIME_MARGIN_MINUTES = 60;
/** The renewal timer renews what expires within this window (and runs every 30 minutes). */
export const RENEW_WITHIN_MS = 6 * 3600_000;

const lifetime = (service: WebhookService) => MAX_LIFETIME_MINUTES[service] - LIFETIME_MARGIN_MINUTES;

/** Cache tags (shared/actions/cache.ts) holding metadata a change in the service can make stale. */
export const CACHE_TAGS: Record<WebhookService, string[]> = {
  mail: ['mail', 'mailFolders'],
  calendar: ['calendar', 'calendars'],
  files: ['files', 'driveRoot'],
  contacts: ['contacts', 'contactFolders'],
  todo: ['todo', 'todoLists'],
  teams: ['teams', 'teamsChannels', 'teamsChats'],
  sharepoint: ['sharepoint.lists'],
};

export function serviceOfKey(key: string): WebhookService {
  if (isChosenKey(key)) return 'sharepoint';
  if (key.startsWith('teamschannel:') || key.startsWith('teamschat:')) return 'teams';
  const service = key.split(':')[0] as WebhookService;
  return service in MAX_LIFETIME_MINUTES ? service : 'mail';
}

/**
 * The sync a notification for this subscription runs. A chat subscription's notification names its
 * chat and runs that chat's round (shared/webhooks/notifications.ts); without a chat, the chats round
 * finds which chats have news.
 */
export function syncResourceOf(key: string): ResourceKey {
  return key as ResourceKey;
}

const TodoLists = z.object({
  value: z.array(z.object({ id: z.string().min(1) }).passthrough()),
  '@odata.nextLink': z.string().optional(),
});

async function todoListIds(userId: string): Promise<string[]> {
  const ids: string[] = [];
  let url: string | undefined = '/me/todo/lists';
  for (let page = 0; url && page < 20; page++) {
    const res = await graphRequest(userId, {
      method: 'GET',
      url,
      ...(page === 0 ? { query: { $select: 'id' } } : {}),
    });
    const body = TodoLists.parse(res.body);
    ids.push(...body.value.map((l) => l.id));
    url = body['@odata.nextLink'];
  }
  return ids;
}

/**
 * The subscriptions the connection should have: mail (Inbox: created, updated), calendar events
 * (created, updated, deleted), the drive root (updated: the only change type it supports, §6.1),
 * contacts, To Do tasks per list, and Teams chat messages only when
 * TEAMS_CHAT_SUBSCRIPTIONS_ENABLED is set (a protected, metered API, §6.8).
 */
export async function desiredSubscriptions(
  userId: string,
  connection: Connection,
): Promise<DesiredSubscription[]> {
  const features = new Set(grantedFeatures(connection.scopes.split(' ')));
  const out: DesiredSubscription[] = [];
  const add = (key: string, service: WebhookService, resource: string, changeType: string) =>
    out.push({ key, service, resource, changeType, lifetimeMinutes: lifetime(service) });
  if (features.has('mail')) add('mail:inbox', 'mail', "me/mailFolders('Inbox')/messages", 'created,updated');
  if (features.has('calendar')) add('calendar', 'calendar', 'me/events', 'created,updated,deleted');
  if (features.has('files')) add('files', 'files', 'me/drive/root', 'updated');
  if (features.has('contacts')) add('contacts', 'contacts', 'me/contacts', 'created,updated,deleted');
  if (features.has('todo')) {
    for (const listId of await todoListIds(userId)) {
      add(
        `todo:${listId}`,
        'todo',
        `me/todo/lists/${encodeURIComponent(listId)}/tasks`,
        'created,updated,deleted',
      );
    }
  }
  if (features.has('sharepoint')) {
    // The libraries and lists the user chose to sync: `updated` on the library's root or the
    // list, without resource data; the sync runs delta (driveitem and list subscriptions, §6.1).
    for (const { state, chosen } of await chosenSyncs(userId)) {
      if (chosen.kind === 'library')
        add(state.resource, 'sharepoint', `drives/${encodeURIComponent(chosen.driveId)}/root`, 'updated');
      if (chosen.kind === 'list') {
        const list = `sites/${encodeURIComponent(chosen.siteId)}/lists/${encodeURIComponent(chosen.listId)}`;
        add(state.resource, 'sharepoint', list, 'updated');
      }
    }
  }
  const work = connection.accountType === 'work';
  if (features.has('teams') && work && getConfig().TEAMS_CHAT_SUBSCRIPTIONS_ENABLED) {
    // The user's own chats (delegated Chat.Read, ≤ 10 per user): users/{id}/chats/getAllMessages.
    const oid = connection.homeAccountId.split('.')[0] ?? '';
    add(
      'teams:chats',
      'teams',
      `users/${encodeURIComponent(oid)}/chats/getAllMessages`,
      'created,updated,deleted',
    );
  }
  if (features.has('teams') && features.has('teams-history') && work) {
    // Channels the user follows: one subscription per channel (delegated ChannelMessage.Read.All,
    // one per app per channel, §6.7); the notification runs the channel's delta.
    for (const { state, teamId, channelId } of await followedChannels(userId)) {
      add(
        state.resource,
        'teams',
        `teams/${encodeURIComponent(teamId)}/channels/${encodeURIComponent(channelId)}/messages`,
        'created,updated,deleted',
      );
    }
  }
  return out;
}

/** The URLs Graph calls (anonymous functions, self-validating). */
export function notificationUrls(): { notificationUrl: string; lifecycleNotificationUrl: string } {
  const base = getConfig().PUBLIC_BASE_URL.replace(/\/+$/, '');
  return {
    notificationUrl: `${base}/api/webhooks/graph`,
    lifecycleNotificationUrl: `${base}/api/webhooks/graph/lifecycle`,
  };
}
