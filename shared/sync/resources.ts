/**
 * What each synced resource is in Graph terms: the delta request that starts a full sync, how a
 * removal looks, which property versions an item, and the small summary a change-feed entry
 * carries. Reference: graph-behaviour.md §5.2 (per-resource delta rules).
 */
import { decodeOrRaw } from '../http/url';
import type { Feature } from '../config';
import { seg, type GraphCall } from '../graph/client';
import type { ResourceKey } from './jobs';
import { parseChosenKey } from './sharepoint';

export type Service = 'mail' | 'calendar' | 'files' | 'contacts' | 'todo' | 'sharepoint';
export type Item = Record<string, unknown> & { id: string };
export type Summary = Record<string, unknown>;

export interface ResourceDef {
  service: Service;
  feature: Feature;
  /** The first request of a full sync (later rounds follow the saved deltaLink verbatim). */
  initial(window?: CalendarWindow): GraphCall;
  /** `@removed` (Outlook, To Do) or the `deleted` facet (drive), reference §5.1 item 5 and §5.2. */
  isRemoved(item: Item): boolean;
  /** The item's version: changeKey / @odata.etag / eTag. A different value means "updated". */
  version(item: Item): string;
  summary(item: Item): Summary;
  /**
   * When the item came into being (ISO), if the delta page says: a baseline reports items newer
   * than the connection as created (they arrived after the user connected, see engine.ts).
   */
  createdAt(item: Item): string;
  /** Items that are not part of the feed (the drive root). */
  skip?(item: Item): boolean;
  /** True when no entries are emitted for this resource (the To Do list of lists). */
  silent?: boolean;
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

export function resourceDef(resource: ResourceKey): ResourceDef {
  if (resource === 'calendar') return calendar;
  if (resource === 'files') return files;
  if (resource === 'contacts') return contacts;
  if (resource === 'todo') return todoLists;
  if (resource.startsWith('mail:')) return mail(resource.slice('mail:'.length));
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
