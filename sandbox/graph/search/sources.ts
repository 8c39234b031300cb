/**
 * What Microsoft Search finds for the signed-in user, per entity type, over the sandbox's own
 * data: each candidate as a KQL document (kql.ts), its date or relevance, and its `resource` in the
 * shape the Search docs show, which is not the entity's full shape:
 *
 * - message (search-concept-messages): createdDateTime, lastModifiedDateTime, receivedDateTime,
 *   sentDateTime, hasAttachments, subject, bodyPreview, importance, replyTo, sender, from; no id
 *   (the hit's `hitId` is the message id). Newest received first.
 * - event (search-concept-events): start/end in UTC with a `Z`, hasAttachments, iCalUId, isAllDay,
 *   and `sensitivity`/`type` capitalised (`"Normal"`, `"Single"`), as the example shows.
 * - driveItem (search-concept-files): id, name, webUrl, size, dates, createdBy, lastModifiedBy,
 *   parentReference (driveId, id), fileSystemInfo; ranked by relevance; file text is searched.
 * - chatMessage (search-concept-chat-messages): id, createdDateTime, lastModifiedDateTime,
 *   subject, importance, webLink, `from.emailAddress` (not chatMessage's `from.user`),
 *   channelIdentity (`{}` in a chat), etag, chatId; `@odata.type` without the `#`, as documented.
 * - person: the tenant's users, as the People API renders them (people/index.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import type { Sandbox } from '../../context';
import type { SandboxUser } from '../../state';
import { eventsRef } from '../calendar/events';
import { parseDateTimeTimeZone } from '../calendar/time';
import { graphState } from '../core';
import { contentKey, driveRef, driveIdOf, filesState } from '../files/state';
import { htmlToText, refs as mailRefs } from '../mail/model';
import { personResource } from '../people/model';
import { isMember, teamRefs } from '../teams/model';
import type { Entity } from '../store';
import type { SearchDocument } from './kql';

export interface Candidate {
  hitId: string;
  doc: SearchDocument;
  /** Text the summary is cut from. */
  summaryText: string;
  /** Newest first for date-sorted types; higher first for relevance-sorted ones (set later). */
  date: string;
  /** Weighted texts for relevance (name counts more than body). */
  weighted: Array<[string, number]>;
  resource: Record<string, unknown>;
  /** Full entity, for `fields` beyond the default resource. */
  entity: Record<string, unknown>;
}

type Recipient = { emailAddress?: { name?: string; address?: string } };

const addr = (r: unknown): string => {
  const e = (r as Recipient | null)?.emailAddress;
  return e ? `${e.name ?? ''} ${e.address ?? ''}`.trim() : '';
};
const list = (v: unknown): string => ((v ?? []) as unknown[]).map(addr).join(' ');
const bodyText = (b: unknown): string => {
  const body = (b ?? {}) as { contentType?: string; content?: string };
  const content = body.content ?? '';
  return body.contentType === 'html' ? htmlToText(content) : content;
};
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function pick(entity: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => entity[k] !== undefined).map((k) => [k, entity[k]]));
}

export function messageCandidates(sandbox: Sandbox, user: SandboxUser): Candidate[] {
  const store = graphState(sandbox).store;
  return store.list(mailRefs(store, user.id).messages).map((m) => {
    const body = bodyText(m.body);
    const attachments = ((m._attachments ?? []) as Array<{ name?: string }>)
      .map((a) => a.name ?? '')
      .join(' ');
    const from = addr(m.from);
    const recipients = `${list(m.toRecipients)} ${list(m.ccRecipients)} ${list(m.bccRecipients)}`;
    return {
      hitId: m.id,
      doc: {
        text: `${str(m.subject)}\n${from}\n${body}\n${attachments}`,
        props: {
          from,
          to: recipients,
          cc: list(m.ccRecipients),
          participants: `${from} ${recipients}`,
          subject: str(m.subject),
          body,
          attachment: attachments,
          hasattachment: String(m.hasAttachments),
          hasattachments: String(m.hasAttachments),
          isread: String(m.isRead),
          importance: str(m.importance),
          category: ((m.categories ?? []) as string[]).join(' '),
          received: str(m.receivedDateTime),
          sent: str(m.sentDateTime),
        },
      },
      summaryText: `${str(m.subject)} ${body}`,
      date: str(m.receivedDateTime),
      weighted: [],
      resource: {
        '@odata.type': '#microsoft.graph.message',
        ...pick(m, [
          'createdDateTime',
          'lastModifiedDateTime',
          'receivedDateTime',
          'sentDateTime',
          'hasAttachments',
          'subject',
          'bodyPreview',
          'importance',
          'replyTo',
          'sender',
          'from',
        ]),
      },
      entity: m,
    };
  });
}

const capitalise = (s: string): string => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

function utc(value: unknown): { dateTime: string; timeZone: string } | undefined {
  if (!value) return undefined;
  const ms = parseDateTimeTimeZone(value, 'Start').ms;
  return { dateTime: new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'), timeZone: 'UTC' };
}

export function eventCandidates(sandbox: Sandbox, user: SandboxUser): Candidate[] {
  const store = graphState(sandbox).store;
  return store
    .list(eventsRef(store, user.id))
    .filter((e) => e.type !== 'occurrence' && e.type !== 'exception')
    .map((e) => {
      const body = bodyText(e.body);
      const location = str((e.location as { displayName?: string } | undefined)?.displayName);
      const attendees = list(e.attendees);
      const organizer = addr(e.organizer);
      const start = utc(e.start);
      return {
        hitId: e.id,
        doc: {
          text: `${str(e.subject)}\n${body}\n${location}\n${organizer}\n${attendees}`,
          props: {
            subject: str(e.subject),
            body,
            location,
            organizer,
            attendees,
            participants: `${organizer} ${attendees}`,
            start: start?.dateTime,
            category: ((e.categories ?? []) as string[]).join(' '),
          },
        },
        summaryText: `${str(e.subject)} ${body}`,
        date: start?.dateTime ?? '',
        weighted: [],
        resource: {
          '@odata.type': '#microsoft.graph.event',
          end: utc(e.end),
          hasAttachments: e.hasAttachments ?? false,
          iCalUId: e.iCalUId,
          isAllDay: e.isAllDay ?? false,
          sensitivity: capitalise(str(e.sensitivity) || 'normal'),
          start,
          subject: e.subject,
          type: capitalise(str(e.type) || 'singleInstance').replace('SingleInstance', 'Single'),
        },
        entity: e,
      };
    });
}

const TEXT_FILE = /^(text\/|application\/(json|xml))/;
const MAX_INDEXED_BYTES = 512 * 1024;

/** The text of a small text file (what the sandbox's index reads of file content). */
function fileText(sandbox: Sandbox, userId: string, item: Entity): string {
  const mime = str((item.file as { mimeType?: string } | undefined)?.mimeType);
  if (!TEXT_FILE.test(mime)) return '';
  const path = filesState(sandbox).content.get(contentKey(userId, item.id));
  if (!path) return '';
  try {
    if (statSync(path).size > MAX_INDEXED_BYTES) return '';
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function driveItemCandidates(sandbox: Sandbox, user: SandboxUser): Candidate[] {
  const store = graphState(sandbox).store;
  const items = store.list(driveRef(sandbox, user.id)).filter((i) => i.root === undefined);
  return items.map((i) => {
    const name = str(i.name);
    const content = i.file ? fileText(sandbox, user.id, i) : '';
    const author = str((i.createdBy as { user?: { displayName?: string } } | undefined)?.user?.displayName);
    const dot = name.lastIndexOf('.');
    return {
      hitId: i.id,
      doc: {
        text: `${name.replace(/[._-]/g, ' ')}\n${content}`,
        props: {
          filename: name,
          title: dot > 0 ? name.slice(0, dot) : name,
          filetype: dot > 0 ? name.slice(dot + 1) : '',
          fileextension: dot > 0 ? name.slice(dot + 1) : '',
          author,
          createdby: author,
          isdocument: String(Boolean(i.file)),
          lastmodifiedtime: str(i.lastModifiedDateTime),
          created: str(i.createdDateTime),
          size: Number(i.size ?? 0),
        },
      },
      summaryText: content || name,
      date: str(i.lastModifiedDateTime),
      weighted: [
        [name.replace(/[._-]/g, ' '), 3],
        [content, 1],
      ],
      resource: {
        '@odata.type': '#microsoft.graph.driveItem',
        ...pick(i, [
          'id',
          'createdDateTime',
          'lastModifiedDateTime',
          'name',
          'size',
          'createdBy',
          'lastModifiedBy',
          'fileSystemInfo',
        ]),
        webUrl: i.webUrl,
        parentReference: {
          driveId: driveIdOf(user.id),
          id: (i.parentReference as { id?: string } | undefined)?.id,
        },
      },
      entity: i,
    };
  });
}

export function chatMessageCandidates(sandbox: Sandbox, user: SandboxUser): Candidate[] {
  const store = graphState(sandbox).store;
  const refs = teamRefs(store, user.tenantId);
  const out: Candidate[] = [];
  const add = (m: Entity, chatId: string | null, channel: { teamId: string; channelId: string } | null) => {
    if (m.deletedDateTime) return;
    const from = (m.from as { user?: { id?: string; displayName?: string } } | null)?.user;
    const sender = from?.id ? sandbox.directory.users.get(from.id) : undefined;
    const text = bodyText(m.body);
    const name = from?.displayName ?? '';
    out.push({
      hitId: m.id,
      doc: {
        text: `${text}\n${name}`,
        props: {
          from: `${name} ${sender?.mail ?? ''}`,
          hasattachment: String(((m.attachments ?? []) as unknown[]).length > 0),
          ismentioned: String(
            ((m.mentions ?? []) as Array<{ mentioned?: { user?: { id?: string } } }>).some(
              (x) => x.mentioned?.user?.id === user.id,
            ),
          ),
          sent: str(m.createdDateTime),
        },
      },
      summaryText: text,
      date: str(m.createdDateTime),
      weighted: [],
      resource: {
        '@odata.type': 'microsoft.graph.chatMessage',
        id: m.id,
        createdDateTime: m.createdDateTime,
        lastModifiedDateTime: m.lastModifiedDateTime,
        subject: m.subject ?? '',
        importance: m.importance ?? 'normal',
        webLink: m.webUrl,
        from: { emailAddress: { name, address: sender?.mail ?? '' } },
        channelIdentity: channel ?? {},
        etag: m.etag,
        ...(chatId ? { chatId } : {}),
      },
      entity: m,
    });
  };
  for (const chat of store.list(refs.chats).filter((c) => isMember(c, user.id))) {
    for (const m of store.list(refs.chatMessages(chat.id))) add(m, chat.id, null);
  }
  for (const team of store.list(refs.teams).filter((t) => isMember(t, user.id))) {
    for (const channel of store.list(refs.channels(team.id))) {
      for (const m of store.list(refs.channelMessages(team.id, channel.id))) {
        add(m, null, { teamId: team.id, channelId: channel.id });
      }
    }
  }
  return out;
}

export function personCandidates(sandbox: Sandbox, user: SandboxUser): Candidate[] {
  return [...sandbox.directory.users.values()]
    .filter((u) => u.tenantId === user.tenantId && u.id !== user.id)
    .map((u) => {
      const resource = personResource(u, 1);
      const text = `${u.displayName}\n${u.mail}\n${u.jobTitle ?? ''}`;
      return {
        hitId: u.id,
        doc: { text, props: { name: u.displayName, email: u.mail, jobtitle: u.jobTitle ?? '' } },
        summaryText: '',
        date: '',
        weighted: [
          [u.displayName, 3],
          [u.mail, 1],
        ],
        resource: { '@odata.type': '#microsoft.graph.person', ...resource },
        entity: resource,
      };
    });
}
