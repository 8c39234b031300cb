/**
 * What each synced resource is in Graph terms: the delta request that starts a full sync, how a
 * removal looks, which property versions an item, and the small summary a change-feed entry
 * carries. Reference: graph-behaviour.md §5.2 (per-resource delta rules).
 */
import { htmlToText } from '../content/text';
import { decodeOrRaw } from '../http/url';
import type { Feature } from '../config';
import { seg, type GraphCall } from '../graph/client';
import type { ResourceKey } from './jobs';
import { parseChosenKey } from './sharepoint';
import { chatKey, parseChannelKey, parseChatKey } from './teams';

/**
 * A catch-up round asks for changes after the newest it saw less this overlap: a change stamped a
 * little earlier that Graph had not listed yet is not missed (the items index drops repeats).
 */
export const CATCH_UP_OVERLAP_MS = 60_000;

export type Service =
  'mail' | 'calendar' | 'files' | 'contacts' | 'todo' | 'sharepoint' | 'teams' | 'planner';
export type Item = Record<string, unknown> & { id: string };
export type Summary = Record<string, unknown>;

export interface ResourceDef {
  service: Service;
  feature: Feature;
  /** The first request of a full sync (later rounds follow the saved deltaLink verbatim). */
  initial(window?: CalendarWindow): GraphCall;
  /**
   * For a resource Graph has no delta for (Teams chat messages, §5.2): the request for what changed
   * after an instant. The engine keeps that instant (the newest lastModifiedDateTime it saw, less
   * an overlap) where a deltaLink would be, and the items index drops what it has already seen.
   */
  catchUp?(after: string): GraphCall;
  /** `@removed` (Outlook, To Do) or the `deleted` facet (drive), reference §5.1 item 5 and §5.2. */
  isRemoved(item: Item): boolean;
  /** The item's version: changeKey / @odata.etag / eTag. A different value means "updated". */
  version(item: Item): string;
  /** `me`: the user's object id (Teams summaries say whether the user is mentioned). */
  summary(item: Item, me?: string): Summary;
  /**
   * When the item came into being (ISO), if the delta page says: a baseline reports items newer
   * than the connection as created (they arrived after the user connected, see engine.ts).
   */
  createdAt(item: Item): string;
  /**
   * Every round lists every item (no delta in Graph: Planner): what the index holds and a round
   * did not list is deleted, and unchanged items are reported as nothing.
   */
  enumerates?: boolean;
  /** Items that are not part of the feed (the drive root). */
  skip?(item: Item): boolean;
  /** True when no entries are emitted for this resource (the To Do list of lists). */
  silent?: boolean;
  /**
   * For a resource that finds other resources (the user's chats): the resource to sync for a new
   * or changed item, if it may hold news. `since` (ms) is set in a baseline: what started following.
   */
  discovers?(item: Item, since: number | undefined): ResourceKey | undefined;
  /** The resource that finds this one: a first round reports what came since that one is followed. */
  foundBy?: ResourceKey;
}

export interface CalendarWindow {
  start: string;
  end: string;
}

const MAX_TEXT = 300;
/** A scalar as text ('' for anything else). */
export const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
const text = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, MAX_TEXT) : null);
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};

function outlookRemoved(item: Item): boolean {
  return item['@removed'] !== undefined;
}

/** changeKey when Outlook sends one, else the entity's etag; never empty. */
function outlookVersion(item: Item): string {
  return str(item.changeKey) || str(item['@odata.etag']) || str(item.lastModifiedDateTime) || 'unversioned';
}

/** `{dateTime, timeZone: "UTC"}` → an ISO instant; other zones keep the wall time and zone. */
function when(v: unknown): string | null {
  const t = obj(v);
  if (typeof t.dateTime !== 'string') return null;
  if ((str(t.timeZone) || 'UTC').toUpperCase() === 'UTC') {
    const base = t.dateTime.replace(/(\.\d{3})\d*$/, '$1');
    return /Z$|[+-]\d\d:\d\d$/.test(base) ? base : `${base}Z`;
  }
  return `${t.dateTime} (${str(t.timeZone)})`;
}

const createdDateTime = (item: Item): string => str(item.createdDateTime);

const address = (r: unknown): string | null => text(obj(obj(r).emailAddress).address);

/** Who changed a drive or list item last: their address, else their name (identitySet.user). */
function modifiedBy(item: Item): string | null {
  const user = obj(obj(item.lastModifiedBy).user);
  return text(user.email) ?? text(user.displayName);
}

function drivePath(item: Item): string | null {
  const parent = text(obj(item.parentReference).path);
  const name = text(item.name);
  if (!name) return null;
  const dir = parent ? parent.replace(/^\/drive\/root:?/i, '').replace(/^\/drives\/[^/]+\/root:?/i, '') : '';
  // parentReference.path is percent-encoded (itemReference.md): the feed shows the real names.
  return `${decodeOrRaw(dir)}/${name}`;
}

const mail = (folder: string): ResourceDef => ({
  service: 'mail',
  feature: 'mail',
  // Per folder only (delta-query-messages.md). $select keeps pages small; `id` always comes.
  initial: () => ({
    method: 'GET',
    url: `/me/mailFolders/${seg(folder)}/messages/delta`,
    query: { $select: 'changeKey,subject,from,receivedDateTime,isRead,hasAttachments,parentFolderId' },
  }),
  isRemoved: outlookRemoved,
  version: outlookVersion,
  summary: (m) => ({
    from: address(m.from),
    subject: text(m.subject),
    receivedAt: text(m.receivedDateTime),
    isRead: typeof m.isRead === 'boolean' ? m.isRead : null,
    hasAttachments: typeof m.hasAttachments === 'boolean' ? m.hasAttachments : null,
  }),
  // A message's arrival is its receivedDateTime (already selected for the summary).
  createdAt: (m) => str(m.receivedDateTime),
});

const calendar: ResourceDef = {
  service: 'calendar',
  feature: 'calendar',
  // calendarView delta: the window is required on the first call and then lives in the token;
  // $select is not supported (event-delta.md, reference §5.2).
  initial: (window) => ({
    method: 'GET',
    url: '/me/calendarView/delta',
    query: { startDateTime: window?.start, endDateTime: window?.end },
    timezone: 'UTC',
  }),
  isRemoved: outlookRemoved,
  version: outlookVersion,
  summary: (e) => ({
    subject: text(e.subject),
    start: when(e.start),
    end: when(e.end),
    organizer: address(e.organizer),
  }),
  createdAt: createdDateTime,
};

/** Drive items: the user's OneDrive (`files`) or a SharePoint library (drive delta on its id). */
const driveItems = (service: 'files' | 'sharepoint', url: string): ResourceDef => ({
  service,
  feature: service === 'files' ? 'files' : 'sharepoint',
  initial: () => ({ method: 'GET', url }),
  // Deleted drive items carry the `deleted` facet, not @removed (driveitem-delta.md).
  isRemoved: (i) => i.deleted !== undefined || i['@removed'] !== undefined,
  // A folder's eTag changes with every change below it (its ancestors show in delta): only its
  // own name and place make it "updated". Files version by eTag.
  version: (i) =>
    i.folder !== undefined
      ? `folder:${str(i.name)}:${str(obj(i.parentReference).path) || str(obj(i.parentReference).id)}`
      : str(i.eTag) || str(i.cTag) || str(i.lastModifiedDateTime),
  summary: (i) => ({
    name: text(i.name),
    path: drivePath(i),
    size: typeof i.size === 'number' ? i.size : null,
    lastModifiedBy: modifiedBy(i),
    ...(i.folder !== undefined ? { folder: true } : {}),
  }),
  createdAt: createdDateTime,
  skip: (i) => i.root !== undefined,
});

const files = driveItems('files', '/me/drive/root/delta');

/**
 * A SharePoint list's items (listitem-delta.md): drive-style, deleted items carry the `deleted`
 * facet; `fields` expanded for the title (the expansion lives on in the delta token).
 */
const listItems = (siteId: string, listId: string): ResourceDef => ({
  service: 'sharepoint',
  feature: 'sharepoint',
  initial: () => ({
    method: 'GET',
    url: `/sites/${seg(siteId)}/lists/${seg(listId)}/items/delta`,
    query: { $expand: 'fields($select=Title)' },
  }),
  isRemoved: (i) => i.deleted !== undefined || i['@removed'] !== undefined,
  version: (i) => str(i.eTag) || str(i['@odata.etag']) || str(i.lastModifiedDateTime),
  summary: (i) => ({
    title: text(obj(i.fields).Title),
    listId,
    lastModifiedBy: modifiedBy(i),
  }),
  createdAt: createdDateTime,
});

const contacts: ResourceDef = {
  service: 'contacts',
  feature: 'contacts',
  // Delta is per contact folder (contact-delta.md); `contacts` addresses the default folder.
  initial: () => ({
    method: 'GET',
    url: '/me/contactFolders/contacts/contacts/delta',
    query: { $select: 'changeKey,displayName,emailAddresses,parentFolderId,createdDateTime' },
  }),
  isRemoved: outlookRemoved,
  version: outlookVersion,
  summary: (c) => ({
    displayName: text(c.displayName),
    emails: Array.isArray(c.emailAddresses)
      ? (c.emailAddresses as unknown[]).map((e) => text(obj(e).address)).filter(Boolean)
      : [],
  }),
  createdAt: createdDateTime,
};

const todoTasks = (listId: string): ResourceDef => ({
  service: 'todo',
  feature: 'todo',
  initial: () => ({ method: 'GET', url: `/me/todo/lists/${seg(listId)}/tasks/delta` }),
  isRemoved: outlookRemoved,
  version: outlookVersion,
  summary: (t) => ({
    title: text(t.title),
    status: text(t.status),
    due: when(t.dueDateTime),
  }),
  createdAt: createdDateTime,
});

const todoLists: ResourceDef = {
  service: 'todo',
  feature: 'todo',
  initial: () => ({ method: 'GET', url: '/me/todo/lists/delta' }),
  isRemoved: outlookRemoved,
  version: outlookVersion,
  summary: (l) => ({ displayName: text(l.displayName) }),
  createdAt: createdDateTime,
  silent: true,
};

const PREVIEW_CHARS = 200;

/** A message body's first characters as one line of text (HTML read as text). */
function preview(body: unknown): string | null {
  const b = obj(body);
  const content = typeof b.content === 'string' ? b.content : '';
  const plain = str(b.contentType).toLowerCase() === 'html' ? htmlToText(content).text : content;
  const flat = plain.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

/** A Teams message's summary: who, where, its first characters, and whom it mentions. */
function teamsSummary(m: Item, me: string | undefined): Summary {
  const sender = obj(obj(m.from).user);
  const channel = obj(m.channelIdentity);
  const mentioned = Array.isArray(m.mentions)
    ? (m.mentions as unknown[]).map((x) => obj(obj(obj(x).mentioned).user))
    : [];
  return {
    from: text(sender.displayName),
    fromId: text(sender.id),
    fromMe: me !== undefined && str(sender.id) === me,
    ...(str(m.chatId) ? { chatId: str(m.chatId) } : {}),
    ...(str(channel.channelId) ? { teamId: text(channel.teamId), channelId: str(channel.channelId) } : {}),
    ...(str(m.replyToId) ? { replyToId: str(m.replyToId) } : {}),
    preview: m.deletedDateTime ? null : preview(m.body),
    mentions: mentioned.map((u) => text(u.displayName)).filter((n): n is string => n !== null),
    mentionsMe: me !== undefined && mentioned.some((u) => str(u.id) === me),
    sentAt: text(m.createdDateTime),
  };
}

/** Teams messages: deleted ones carry deletedDateTime (soft delete); system events are not news. */
const teamsMessages = {
  service: 'teams' as const,
  isRemoved: (m: Item) => typeof m.deletedDateTime === 'string' && m.deletedDateTime !== '',
  // etag is the message's version number; lastModifiedDateTime also moves with reactions.
  version: (m: Item) => `${str(m.etag)}|${str(m.lastModifiedDateTime)}`,
  summary: teamsSummary,
  createdAt: createdDateTime,
  skip: (m: Item) => m.messageType !== undefined && m.messageType !== 'message',
};

/**
 * One chat's messages. v1.0 has no chat message delta (§5.2): the list ordered by
 * lastModifiedDateTime desc with `$filter=lastModifiedDateTime gt {t}` (chat-list-messages.md:
 * $top ≤ 50, desc only) returns what changed after the last round, edits and deletions included.
 */
const chatMessages = (chatId: string): ResourceDef => {
  const since = (after: string): GraphCall => ({
    method: 'GET',
    url: `/chats/${seg(chatId)}/messages`,
    query: {
      $top: 50,
      $orderby: 'lastModifiedDateTime desc',
      $filter: `lastModifiedDateTime gt ${after}`,
    },
  });
  return {
    ...teamsMessages,
    feature: 'teams',
    foundBy: 'teams:chats',
    initial: () => since(new Date(Date.now() - 24 * 3600_000).toISOString()),
    catchUp: since,
  };
};

/** A channel's top-level messages (chatmessage-delta.md: replies are not in channel delta). */
const channelMessages = (teamId: string, channelId: string): ResourceDef => ({
  ...teamsMessages,
  feature: 'teams-history',
  initial: () => ({
    method: 'GET',
    url: `/teams/${seg(teamId)}/channels/${seg(channelId)}/messages/delta`,
    // Only what is new from when following starts; older posts are history, not news.
    query: { $filter: `lastModifiedDateTime gt ${new Date(Date.now() - 24 * 3600_000).toISOString()}` },
  }),
});

/** The user's chats: which have new messages (a discovery, like the list of To Do lists). */
const chats: ResourceDef = {
  service: 'teams',
  feature: 'teams',
  initial: () => ({
    method: 'GET',
    url: '/me/chats',
    query: { $expand: 'lastMessagePreview', $top: 50 },
  }),
  isRemoved: () => false,
  version: (c) => str(obj(c.lastMessagePreview).createdDateTime) || str(c.lastUpdatedDateTime) || 'none',
  summary: (c) => ({ topic: text(c.topic), chatType: text(c.chatType) }),
  createdAt: createdDateTime,
  silent: true,
  // Listed in full every round (the chat list has no change filter); the index keeps each chat's
  // last message time, so only chats with a newer one are synced.
  catchUp: () => chats.initial(),
  discovers: (c, since) => {
    const last = Date.parse(str(obj(c.lastMessagePreview).createdDateTime));
    if (since !== undefined && !(last >= since - CATCH_UP_OVERLAP_MS)) return undefined;
    return chatKey(c.id);
  },
};

const PLANNER_PRIORITY = (p: unknown): string | null =>
  typeof p !== 'number' ? null : p <= 1 ? 'urgent' : p <= 4 ? 'important' : p <= 7 ? 'medium' : 'low';

/**
 * The Planner tasks assigned to the user (planneruser-list-tasks.md). v1.0 has no Planner delta or
 * change notifications: each round lists them and the items index tells what changed (the etag),
 * what is new and what went (deleted, completed elsewhere and unassigned alike leave the list).
 */
const plannerTasks: ResourceDef = {
  service: 'planner',
  feature: 'planner',
  initial: () => ({ method: 'GET', url: '/me/planner/tasks' }),
  catchUp: () => plannerTasks.initial(),
  enumerates: true,
  isRemoved: () => false,
  version: (t) => str(t['@odata.etag']) || 'unversioned',
  summary: (t) => {
    const percent = typeof t.percentComplete === 'number' ? t.percentComplete : 0;
    return {
      title: text(t.title),
      planId: text(t.planId),
      bucketId: text(t.bucketId),
      progress: percent >= 100 ? 'completed' : percent > 0 ? 'inProgress' : 'notStarted',
      priority: PLANNER_PRIORITY(t.priority),
      dueAt: text(t.dueDateTime),
    };
  },
  createdAt: createdDateTime,
};

export function resourceDef(resource: ResourceKey): ResourceDef {
  if (resource === 'calendar') return calendar;
  if (resource === 'files') return files;
  if (resource === 'contacts') return contacts;
  if (resource === 'todo') return todoLists;
  if (resource.startsWith('mail:')) return mail(resource.slice('mail:'.length));
  if (resource === 'teams:chats') return chats;
  if (resource === 'planner:tasks') return plannerTasks;
  const chat = parseChatKey(resource);
  if (chat) return chatMessages(chat);
  const channel = parseChannelKey(resource);
  if (channel) return channelMessages(channel.teamId, channel.channelId);
  const chosen = parseChosenKey(resource);
  if (chosen?.kind === 'library')
    return driveItems('sharepoint', `/drives/${seg(chosen.driveId)}/root/delta`);
  if (chosen?.kind === 'list') return listItems(chosen.siteId, chosen.listId);
  return todoTasks(resource.slice('todo:'.length));
}

/** The calendar window for a sync started at `now`: days back and ahead (rolling). */
export function calendarWindow(now: number, daysBack: number, daysAhead: number): CalendarWindow {
  const day = 24 * 3600 * 1000;
  const start = new Date(Math.floor((now - daysBack * day) / day) * day);
  const end = new Date(Math.floor((now + daysAhead * day) / day) * day);
  return { start: start.toISOString(), end: end.toISOString() };
}
