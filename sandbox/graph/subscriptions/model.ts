/**
 * Change-notification subscriptions in the sandbox: what a subscription is, which resources can
 * be subscribed, their maximum lifetimes, and which store changes a subscription hears about.
 * Faithful to graph-behaviour.md §6 (https://learn.microsoft.com/graph/change-notifications-overview,
 * https://learn.microsoft.com/graph/api/resources/subscription).
 *
 * Resources and the store collections they watch (collection names from the service modules):
 *
 * | resource                                          | kind        | watches (owner / collection)            |
 * |---------------------------------------------------|-------------|-----------------------------------------|
 * | `me/mailFolders('Inbox')/messages` (or /{id}/)    | message     | user / `messages:{folderId}` (mirror)   |
 * | `me/messages`                                     | message     | user / `messages`                        |
 * | `me/events`                                       | event       | user / `events`                          |
 * | `me/contacts`                                     | contact     | user / `contacts`                        |
 * | `me/drive/root`                                   | driveItem   | user / `driveItems` (always `updated`)   |
 * | `me/todo/lists/{listId}/tasks`                    | todoTask    | user / `todoTasks:{listId}`              |
 * | `chats/{id}/messages`                             | chatMessage | chat id / `chatMessages`                 |
 * | `me/chats/getAllMessages`                         | chatMessage | every chat of the user / `chatMessages`  |
 * | `teams/{id}/channels/{id}/messages`               | chatMessage | team id / `channelMessages:{channelId}`  |
 *
 * (`users/{id | upn}/...` works wherever `me/...` does.) A folder subscription watches the
 * per-folder mirror that mail/model.ts keeps, because that mirror already has Outlook's folder
 * semantics: a message moved in shows up as created there, one moved out as deleted
 * (outlook-change-notifications-overview.md, "a message entering the filter set → created").
 */
import { safeDecode } from '../../http';
import { randomUUID } from 'node:crypto';
import type { Sandbox } from '../../context';
import { persisted } from '../../persist';
import { DEFAULT_SETTINGS, type ResourceKind, type SubscriptionSettings } from './settings';

export { DEFAULT_SETTINGS, type ResourceKind, type SubscriptionSettings } from './settings';
import type { SandboxUser } from '../../state';
import { graphState } from '../core';
import { GraphHttpError } from '../errors';
import { ensureMailbox, folderDeltaCollection, refs as mailRefs, wellKnownFolderId } from '../mail/model';
import type { Change, Entity } from '../store';
import { ownerOfDrive } from '../files/state';
import { itemsCollection, listsRef, sitesRef, SP_OWNER } from '../sharepoint/model';
import { isMember, teamRefs, TEAMS_COLLECTIONS } from '../teams/model';

export type ChangeType = 'created' | 'updated' | 'deleted';
export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface SandboxSubscription {
  id: string;
  resource: string;
  changeTypes: ChangeType[];
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expiresAt: number;
  applicationId: string;
  creatorId: string;
  tenantId: string;
  includeResourceData: boolean;
  latestSupportedTlsVersion: string;
  /** Set by a reauthorizationRequired event; cleared by reauthorize or renew. */
  needsReauthorization: boolean;
  target: ParsedResource;
}

/** What a subscription's resource path means. */
export interface ParsedResource {
  kind: ResourceKind;
  /** The user whose data it is (the mailbox for the per-mailbox quota); undefined for chats/channels. */
  userId?: string;
  /** Decides whether a store change belongs to the subscription and how it is reported. */
  match(
    change: Change,
  ): { changeType: ChangeType; resource: string; resourceData?: Record<string, unknown> } | undefined;
}

export interface DeliveryRecord {
  at: string;
  url: string;
  kind: 'notification' | 'lifecycle' | 'validation';
  notifications: number;
  attempt: number;
  status: number;
  durationMs: number;
  outcome: 'ok' | 'failed' | 'timeout' | 'dropped';
}

export interface DeliveryStats {
  /** Notification POSTs answered 2xx and the notifications they carried. */
  posts: number;
  delivered: number;
  /** Attempts that failed (non-2xx, timeout, connection error); each is retried per retryDelaysMs. */
  failedAttempts: number;
  retries: number;
  /** Notifications given up on after the last retry. */
  dropped: number;
  /** Answers slower than slowThresholdMs (timeouts included): Graph throttles such endpoints. */
  slow: number;
  lifecycleSent: number;
  validations: number;
  validationFailures: number;
}

export interface SubscriptionsModule {
  subs: Map<string, SandboxSubscription>;
  settings: SubscriptionSettings;
  stats: DeliveryStats;
  deliveries: DeliveryRecord[];
  listening: boolean;
  /** Deliveries waiting for the next flush, per notification URL. */
  pending: Map<string, Array<{ subId: string; notification: Record<string, unknown> }>>;
  flushScheduled: boolean;
  timers: Set<NodeJS.Timeout>;
  /** POSTs on their way to an endpoint (a test waits for none before it changes the rules). */
  inFlight: number;
  /**
   * Subscriptions gone quiet (a fault for tests): their notifications are silently not sent, no
   * retry, no lifecycle event, as when Graph stops delivering without a word. New ones are not.
   */
  silenced: Set<string>;
}

export function emptyStats(): DeliveryStats {
  return {
    posts: 0,
    delivered: 0,
    failedAttempts: 0,
    retries: 0,
    dropped: 0,
    slow: 0,
    lifecycleSent: 0,
    validations: 0,
    validationFailures: 0,
  };
}

export function subscriptionsState(sandbox: Sandbox): SubscriptionsModule {
  let state = sandbox.modules.subscriptions as SubscriptionsModule | undefined;
  if (!state) {
    const o = sandbox.options.subscriptions ?? {};
    state = {
      subs: new Map(),
      settings: {
        ...DEFAULT_SETTINGS,
        ...o,
        maxMinutes: { ...DEFAULT_SETTINGS.maxMinutes, ...(o.maxMinutes ?? {}) },
      },
      stats: emptyStats(),
      deliveries: [],
      listening: false,
      pending: new Map(),
      flushScheduled: false,
      timers: new Set(),
      inFlight: 0,
      silenced: new Set(),
    };
    sandbox.modules.subscriptions = state;
    // Queued deliveries and statistics are in-flight work: not kept across restarts.
    // The matcher is code: subscriptions are saved without it and their resource parsed again.
    const s = state;
    const saved = persisted(sandbox, 'subscriptions', () => ({
      subs: [...s.subs.values()].map(({ target: _matcher, ...sub }) => sub),
      settings: s.settings,
    }));
    if (saved) {
      state.settings = saved.settings;
      for (const sub of saved.subs) {
        try {
          const target = parseResource(sandbox, sub.resource, sandbox.directory.users.get(sub.creatorId));
          state.subs.set(sub.id, { ...sub, target });
        } catch {
          // Its resource is gone (a deleted chat or folder): Graph would have removed it too.
        }
      }
    }
  }
  return state;
}

/** Subscriptions past their expirationDateTime are gone, as Graph deletes them (§6.5). */
export function sweepExpired(sandbox: Sandbox): void {
  const state = subscriptionsState(sandbox);
  const now = sandbox.now();
  for (const [id, sub] of state.subs) if (sub.expiresAt <= now) state.subs.delete(id);
}

export function newSubscriptionId(): string {
  return randomUUID();
}

// ---------------------------------------------------------------- resources

const invalid = (message: string) => new GraphHttpError(400, 'InvalidRequest', message);

const typeName: Record<
  Exclude<ResourceKind, 'driveItem' | 'list'>,
  { segment: string; odataType: string }
> = {
  message: { segment: 'Messages', odataType: '#Microsoft.Graph.Message' },
  event: { segment: 'Events', odataType: '#Microsoft.Graph.Event' },
  contact: { segment: 'Contacts', odataType: '#Microsoft.Graph.Contact' },
  todoTask: { segment: 'Tasks', odataType: '#Microsoft.Graph.todoTask' },
  chatMessage: { segment: 'messages', odataType: '#Microsoft.Graph.chatMessage' },
};

function etagOf(item: Entity): string | undefined {
  const e = item['@odata.etag'] ?? item.eTag ?? item.etag;
  return typeof e === 'string' ? e : undefined;
}

/** resource + resourceData as Outlook sends them: `Users/{id}/Messages/{id}` (§6.4). */
function outlookShape(
  kind: Exclude<ResourceKind, 'driveItem' | 'list' | 'chatMessage'>,
  userId: string,
  prefix = '',
) {
  return (change: Change) => {
    const t = typeName[kind];
    const path = `Users/${userId}/${prefix}${t.segment}/${change.id}`;
    const etag = etagOf(change.item);
    return {
      resource: path,
      resourceData: {
        '@odata.type': t.odataType,
        '@odata.id': path,
        ...(etag && change.type !== 'deleted' ? { '@odata.etag': etag } : {}),
        id: change.id,
      },
    };
  };
}

function chatShape(path: (change: Change) => string) {
  return (change: Change) => {
    const resource = path(change);
    return {
      resource,
      resourceData: { '@odata.type': typeName.chatMessage.odataType, '@odata.id': resource, id: change.id },
    };
  };
}

/** A mail folder by id or well-known name (`Inbox`, case-insensitive), as the mail module resolves them. */
function resolveFolderIdForUser(sandbox: Sandbox, userId: string, idOrName: string): string | undefined {
  const store = graphState(sandbox).store;
  const { folders } = mailRefs(store, userId);
  const decoded = safeDecode(idOrName);
  if (store.get(folders, decoded)) return decoded;
  const wk = wellKnownFolderId(userId, decoded.toLowerCase());
  return store.get(folders, wk) ? wk : undefined;
}

/** Resolves `me` / `users/{id | upn}` to a directory user (404 like Graph for unknown users). */
function ownerOf(sandbox: Sandbox, who: string, caller: SandboxUser | undefined): SandboxUser {
  if (who.toLowerCase() === 'me') {
    if (!caller)
      throw new GraphHttpError(
        400,
        'BadRequest',
        '/me request is only valid with delegated authentication flow.',
      );
    return caller;
  }
  const user = sandbox.directory.findUser(safeDecode(who));
  if (!user) throw new GraphHttpError(404, 'ResourceNotFound', `The requested user '${who}' is invalid.`);
  return user;
}

const USER = String.raw`(?<who>me|users/[^/]+)`;
const KEY = (name: string) => String.raw`(?:\('(?<${name}>[^']+)'\)|/(?<${name}2>[^/(]+))`;
const group = (m: RegExpExecArray, name: string): string | undefined =>
  m.groups?.[name] ?? m.groups?.[`${name}2`];

/**
 * Parses a subscription resource (without the base URL, §6.1). Returns the kind, the owner and the
 * matcher; throws 400 for paths the sandbox does not support, 404 for unknown users, folders or
 * chats.
 */
export function parseResource(
  sandbox: Sandbox,
  raw: string,
  caller: SandboxUser | undefined,
): ParsedResource {
  // `$filter` / `$select` may be appended (outlook-change-notifications-overview.md); the sandbox
  // delivers every change of the resource, as a subscription without a filter does.
  const path = raw.replace(/^\/+/, '').split('?')[0]!.replace(/\/+$/, '');
  const store = graphState(sandbox).store;
  const who = (m: RegExpExecArray) =>
    ownerOf(sandbox, m.groups?.who === 'me' ? 'me' : m.groups!.who!.slice(6), caller);
  const simple = (kind: 'event' | 'contact', collection: string, user: SandboxUser): ParsedResource => {
    const shape = outlookShape(kind, user.id);
    return {
      kind,
      userId: user.id,
      match: (c) =>
        c.userId === user.id && c.collection === collection ? { changeType: c.type, ...shape(c) } : undefined,
    };
  };
  let m: RegExpExecArray | null;

  if ((m = new RegExp(`^${USER}/mailFolders${KEY('folder')}/messages$`, 'i').exec(path))) {
    const user = who(m);
    ensureMailbox(sandbox, user.id);
    const folderId = resolveFolderIdForUser(sandbox, user.id, group(m, 'folder')!);
    if (!folderId)
      throw new GraphHttpError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    const collection = folderDeltaCollection(folderId);
    const shape = outlookShape('message', user.id);
    return {
      kind: 'message',
      userId: user.id,
      match: (c) =>
        c.userId === user.id && c.collection === collection ? { changeType: c.type, ...shape(c) } : undefined,
    };
  }
  if ((m = new RegExp(`^${USER}/messages$`, 'i').exec(path))) {
    const user = who(m);
    const shape = outlookShape('message', user.id);
    return {
      kind: 'message',
      userId: user.id,
      match: (c) =>
        c.userId === user.id && c.collection === 'messages' ? { changeType: c.type, ...shape(c) } : undefined,
    };
  }
  if ((m = new RegExp(`^${USER}/(?:calendar/)?events$`, 'i').exec(path)))
    return simple('event', 'events', who(m));
  if ((m = new RegExp(`^${USER}/contacts$`, 'i').exec(path))) return simple('contact', 'contacts', who(m));
  if ((m = new RegExp(`^${USER}/drive/root$`, 'i').exec(path))) {
    const user = who(m);
    // OneDrive reports any change under the subscribed root as `updated` on the root, without
    // resource data: the app runs delta to find out what changed (driveitem subscriptions,
    // https://learn.microsoft.com/onedrive/developer/rest-api/concepts/using-webhooks).
    return {
      kind: 'driveItem',
      userId: user.id,
      match: (c) =>
        c.userId === user.id && c.collection === 'driveItems'
          ? { changeType: 'updated', resource: path }
          : undefined,
    };
  }
  if ((m = /^drives\/([^/]+)\/root$/i.exec(path))) {
    // A drive by id: a user's OneDrive or a site's document library, reported as /me/drive/root is.
    const owner = ownerOfDrive(sandbox, safeDecode(m[1]!));
    if (!owner) throw new GraphHttpError(404, 'itemNotFound', 'Item not found');
    return {
      kind: 'driveItem',
      userId: owner.id,
      match: (c) =>
        c.userId === owner.id && c.collection === 'driveItems'
          ? { changeType: 'updated', resource: path }
          : undefined,
    };
  }
  if ((m = /^sites\/([^/]+)\/lists\/([^/]+)$/i.exec(path))) {
    // A SharePoint list: `updated` only, no resource data; the app runs list item delta
    // (https://learn.microsoft.com/graph/api/resources/list: "subscriptions", changeType updated).
    const siteId = safeDecode(m[1]!).toLowerCase();
    const listId = safeDecode(m[2]!);
    const site = store.list(sitesRef(store)).find((s) => s.id.toLowerCase() === siteId);
    const list = site ? store.get(listsRef(store, site.id), listId) : undefined;
    if (!list) throw new GraphHttpError(404, 'itemNotFound', 'The specified list was not found');
    const collection = itemsCollection(list.id);
    return {
      kind: 'list',
      match: (c) =>
        c.userId === SP_OWNER && c.collection === collection
          ? { changeType: 'updated', resource: path }
          : undefined,
    };
  }
  if ((m = new RegExp(`^${USER}/todo/lists${KEY('list')}/tasks$`, 'i').exec(path))) {
    const user = who(m);
    const listId = safeDecode(group(m, 'list')!);
    if (!store.get(store.collection(user.id, 'todoLists'), listId)) {
      throw new GraphHttpError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    }
    const collection = `todoTasks:${listId}`;
    const shape = outlookShape('todoTask', user.id, `todo/lists/${listId}/`);
    return {
      kind: 'todoTask',
      userId: user.id,
      match: (c) =>
        c.userId === user.id && c.collection === collection ? { changeType: c.type, ...shape(c) } : undefined,
    };
  }
  if ((m = new RegExp(`^chats${KEY('chat')}/messages$`, 'i').exec(path))) {
    const chatId = safeDecode(group(m, 'chat')!);
    const tenantId = caller?.tenantId ?? sandbox.tenantId;
    const chat = store.get(teamRefs(store, tenantId).chats, chatId);
    if (!chat || (caller && !isMember(chat, caller.id))) {
      throw new GraphHttpError(404, 'NotFound', `Chat '${chatId}' not found.`);
    }
    const shape = chatShape((c) => `chats('${chatId}')/messages('${c.id}')`);
    return {
      kind: 'chatMessage',
      match: (c) =>
        c.userId === chatId && c.collection === TEAMS_COLLECTIONS.chatMessages
          ? { changeType: c.type, ...shape(c) }
          : undefined,
    };
  }
  if ((m = new RegExp(`^${USER}/chats/getAllMessages$`, 'i').exec(path))) {
    const user = who(m);
    const chats = teamRefs(store, user.tenantId).chats;
    const shape = chatShape((c) => `chats('${c.userId}')/messages('${c.id}')`);
    return {
      kind: 'chatMessage',
      userId: user.id,
      match: (c) => {
        if (c.collection !== TEAMS_COLLECTIONS.chatMessages) return undefined;
        const chat = store.get(chats, c.userId);
        return chat && isMember(chat, user.id) ? { changeType: c.type, ...shape(c) } : undefined;
      },
    };
  }
  if ((m = new RegExp(`^teams${KEY('team')}/channels${KEY('channel')}/messages$`, 'i').exec(path))) {
    const teamId = safeDecode(group(m, 'team')!);
    const channelId = safeDecode(group(m, 'channel')!);
    const collection = TEAMS_COLLECTIONS.channelMessages(channelId);
    const shape = chatShape((c) => `teams('${teamId}')/channels('${channelId}')/messages('${c.id}')`);
    return {
      kind: 'chatMessage',
      match: (c) =>
        c.userId === teamId && c.collection === collection ? { changeType: c.type, ...shape(c) } : undefined,
    };
  }
  throw invalid(`Resource '${raw}' is not supported for change notifications in this sandbox.`);
}

/** Delegated permissions that allow subscribing (subscription-post-subscriptions.md; §6.1, §6.8). */
export const DELEGATED_SCOPES: Record<ResourceKind, string[]> = {
  message: ['Mail.ReadBasic', 'Mail.Read'],
  event: ['Calendars.Read'],
  contact: ['Contacts.Read'],
  driveItem: ['Files.ReadWrite', 'Files.ReadWrite.All', 'Sites.ReadWrite.All'],
  list: ['Sites.ReadWrite.All'],
  todoTask: ['Tasks.ReadWrite'],
  chatMessage: ['Chat.Read', 'ChannelMessage.Read.All'],
};
export const APP_ROLES: Record<ResourceKind, string[]> = {
  message: ['Mail.Read'],
  event: ['Calendars.Read'],
  contact: ['Contacts.Read'],
  driveItem: ['Files.ReadWrite.All', 'Sites.ReadWrite.All'],
  list: ['Sites.ReadWrite.All'],
  todoTask: [], // delegated only (subscription-reauthorize.md table)
  chatMessage: ['Chat.Read.All', 'ChannelMessage.Read.All'],
};
