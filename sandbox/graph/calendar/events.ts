/**
 * The sandbox's event model (reference §8.2, https://learn.microsoft.com/graph/api/resources/event):
 * normalising request bodies into stored events, expanding series into occurrences for a window,
 * rendering events in the requested zone, and the meeting flows between organizer and attendees.
 *
 * Stored in the change-tracking store, per user:
 * - `events`: single instances, series masters and exceptions (edited occurrences, stored under
 *   the occurrence's id). Each carries `calendarId`. Internal fields start with `_` and are never
 *   rendered: `_cancelledOccurrences` (dates of deleted occurrences, on a master),
 *   `_overridden` (properties an exception changed), `_organizerUserId`/`_organizerEventId` (on
 *   an attendee's copy of a meeting).
 * - `calendars`: the user's calendars; the default one is created on first use.
 */
import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import type { SandboxUser, Directory } from '../../state';
import { GraphHttpError, notFound } from '../errors';
import { normaliseRecurrence, occurrenceDates, type PatternedRecurrence } from './recurrence';
import {
  formatLocal,
  midnight,
  parseDateTimeTimeZone,
  resolveZone,
  toDateTimeTimeZone,
  type DateTimeTimeZone,
} from './time';
import { graphTimestamp, outlookId, type ChangeStore, type CollectionRef, type Entity } from '../store';

/** A string property, or the fallback for anything else (Graph bodies are untrusted JSON). */
export function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export const EVENTS = 'events';
export const CALENDARS = 'calendars';
const NEVER = '0001-01-01T00:00:00Z';
const DAY = 24 * 3600 * 1000;

export const SHOW_AS = ['free', 'tentative', 'busy', 'oof', 'workingElsewhere', 'unknown'];
const SENSITIVITY = ['normal', 'personal', 'private', 'confidential'];
const IMPORTANCE = ['low', 'normal', 'high'];
const ATTENDEE_TYPES = ['required', 'optional', 'resource'];

/** How events are rendered: the `Prefer: outlook.timezone` zone (default UTC) and body type. */
export interface EventView {
  zone: string;
  name: string;
  bodyType?: 'text' | 'html';
  /** Another user's calendar (sharing.ts): what the caller's role on the event's calendar shows. */
  redact?: (ev: Record<string, unknown>) => Record<string, unknown>;
  /** Another user's calendar: whether the caller may see events of the event's calendar at all. */
  readable?: (ev: Record<string, unknown>) => boolean;
}

export function eventsRef(store: ChangeStore, userId: string): CollectionRef {
  return store.collection(userId, EVENTS);
}

export function calendarsRef(store: ChangeStore, userId: string): CollectionRef {
  return store.collection(userId, CALENDARS);
}

// ---------------------------------------------------------------- calendars

/** The user's calendars; the default calendar ("Calendar") exists from the first look. */
export function listCalendars(store: ChangeStore, user: SandboxUser): Entity[] {
  const ref = calendarsRef(store, user.id);
  if (store.list(ref).length === 0) store.insert(ref, calendarEntity(user, 'Calendar', true));
  return store.list(ref);
}

export function defaultCalendar(store: ChangeStore, user: SandboxUser): Entity {
  const all = listCalendars(store, user);
  return all.find((c) => c.isDefaultCalendar === true) ?? (all[0] as Entity);
}

export function findCalendar(store: ChangeStore, user: SandboxUser, id: string): Entity {
  const found = listCalendars(store, user).find((c) => c.id === id);
  if (!found) throw notFound('outlook');
  return found;
}

export function calendarEntity(user: SandboxUser, name: string, isDefault: boolean): Record<string, unknown> {
  return {
    id: outlookId('AAMkAGCal'),
    name,
    color: 'auto',
    hexColor: '',
    isDefaultCalendar: isDefault,
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    isRemovable: !isDefault,
    isTallyingResponses: true,
    allowedOnlineMeetingProviders: user.accountType === 'work' ? ['teamsForBusiness'] : [],
    defaultOnlineMeetingProvider: user.accountType === 'work' ? 'teamsForBusiness' : 'none',
    owner: { name: user.displayName, address: user.mail },
  };
}

// ---------------------------------------------------------------- normalising request bodies

function badEnum(value: unknown, type: string): GraphHttpError {
  // OData deserialisation failures answer RequestBodyRead (observed for enum literals).
  return new GraphHttpError(
    400,
    'RequestBodyRead',
    `Cannot convert the literal '${String(value)}' to the expected type 'microsoft.graph.${type}'.`,
  );
}

function pickEnum(value: unknown, allowed: string[], type: string): string {
  const match = allowed.find((a) => a.toLowerCase() === String(value).toLowerCase());
  if (!match) throw badEnum(value, type);
  return match;
}

function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/p>|<\/div>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\n/g, '<br>');
}

function location(value: unknown): Record<string, unknown> {
  const v = (value ?? {}) as Record<string, unknown>;
  const displayName = typeof v.displayName === 'string' ? v.displayName : '';
  return {
    displayName,
    locationType: typeof v.locationType === 'string' ? v.locationType : 'default',
    ...(displayName ? { uniqueId: displayName, uniqueIdType: 'private' } : { uniqueIdType: 'unknown' }),
    ...(v.address ? { address: v.address } : {}),
  };
}

function attendees(value: unknown, directory: Directory): Array<Record<string, unknown>> {
  if (!Array.isArray(value))
    throw new GraphHttpError(400, 'ErrorInvalidRequest', 'attendees must be an array.');
  return value.map((a: Record<string, unknown>) => {
    const email = (a?.emailAddress ?? {}) as Record<string, unknown>;
    const address = typeof email.address === 'string' ? email.address.trim() : '';
    if (!/^[^@\s]+@[^@\s]+$/.test(address)) {
      throw new GraphHttpError(400, 'ErrorInvalidRecipients', `'${address}' is not a valid email address.`);
    }
    const known = directory.findUser(address);
    const status = (a.status ?? {}) as Record<string, unknown>;
    return {
      type: a.type === undefined ? 'required' : pickEnum(a.type, ATTENDEE_TYPES, 'attendeeType'),
      status: { response: typeof status.response === 'string' ? status.response : 'none', time: NEVER },
      emailAddress: {
        name: typeof email.name === 'string' && email.name ? email.name : (known?.displayName ?? address),
        address,
      },
    };
  });
}

/** The stored form of start/end: local time in the zone the client named (kept as named). */
function storedTime(value: unknown, field: string): DateTimeTimeZone {
  const parsed = parseDateTimeTimeZone(value, field);
  const name = String((value as DateTimeTimeZone).timeZone);
  return { dateTime: formatLocal(parsed.local), timeZone: name };
}

/**
 * Applies a create/PATCH body to an event (only the known writable properties; read-only ones
 * are ignored as Graph does). Validates times and zones, all-day rules and recurrence.
 */
export function applyEventBody(
  current: Record<string, unknown>,
  body: Record<string, unknown>,
  directory: Directory,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  const changed: string[] = [];
  const set = (key: string, value: unknown) => {
    next[key] = value;
    changed.push(key);
  };
  if ('subject' in body) set('subject', body.subject === null ? '' : str(body.subject));
  if ('body' in body) {
    const b = (body.body ?? {}) as Record<string, unknown>;
    const contentType =
      b.contentType === undefined ? 'html' : pickEnum(b.contentType, ['text', 'html'], 'bodyType');
    const content = typeof b.content === 'string' ? b.content : '';
    set('body', { contentType, content });
    const text = contentType === 'html' ? htmlToText(content) : content;
    set('bodyPreview', text.slice(0, 255));
  }
  if ('start' in body) set('start', storedTime(body.start, 'Start'));
  if ('end' in body) set('end', storedTime(body.end, 'End'));
  if ('isAllDay' in body) set('isAllDay', body.isAllDay === true);
  if ('location' in body) {
    const loc = location(body.location);
    set('location', loc);
    set('locations', loc.displayName ? [loc] : []);
  }
  if ('attendees' in body) set('attendees', attendees(body.attendees, directory));
  if ('showAs' in body) set('showAs', pickEnum(body.showAs, SHOW_AS, 'freeBusyStatus'));
  if ('sensitivity' in body) set('sensitivity', pickEnum(body.sensitivity, SENSITIVITY, 'sensitivity'));
  if ('importance' in body) set('importance', pickEnum(body.importance, IMPORTANCE, 'importance'));
  if ('categories' in body && Array.isArray(body.categories)) set('categories', body.categories.map(String));
  if ('isReminderOn' in body) set('isReminderOn', body.isReminderOn === true);
  if ('reminderMinutesBeforeStart' in body) {
    const m = Number(body.reminderMinutesBeforeStart);
    if (!Number.isInteger(m) || m < 0)
      throw new GraphHttpError(
        400,
        'ErrorInvalidRequest',
        'reminderMinutesBeforeStart must be a whole number of minutes.',
      );
    set('reminderMinutesBeforeStart', m);
  }
  if ('responseRequested' in body) set('responseRequested', body.responseRequested !== false);
  if ('allowNewTimeProposals' in body) set('allowNewTimeProposals', body.allowNewTimeProposals !== false);
  if ('hideAttendees' in body) set('hideAttendees', body.hideAttendees === true);
  if ('transactionId' in body && typeof body.transactionId === 'string')
    set('transactionId', body.transactionId);
  if ('isOnlineMeeting' in body || 'onlineMeetingProvider' in body) {
    const online =
      body.isOnlineMeeting === true || (body.isOnlineMeeting === undefined && next.isOnlineMeeting === true);
    const provider =
      body.onlineMeetingProvider === undefined
        ? 'teamsForBusiness'
        : pickEnum(
            body.onlineMeetingProvider,
            ['teamsForBusiness', 'skypeForBusiness', 'skypeForConsumer', 'unknown'],
            'onlineMeetingProviderType',
          );
    set('isOnlineMeeting', online);
    set('onlineMeetingProvider', online ? provider : 'unknown');
    set(
      'onlineMeeting',
      online
        ? (next.onlineMeeting ?? {
            joinUrl: `https://teams.microsoft.com/l/meetup-join/19%3ameeting_${randomBytes(18).toString('base64url')}%40thread.v2/0`,
          })
        : null,
    );
  }
  if (next.start === undefined || next.end === undefined) {
    throw new GraphHttpError(400, 'ErrorInvalidRequest', 'An event needs both start and end.');
  }
  const start = parseDateTimeTimeZone(next.start, 'Start');
  const end = parseDateTimeTimeZone(next.end, 'End');
  if (next.isAllDay === true) {
    // All-day events span whole days: both ends at midnight, at least one day long
    // (https://learn.microsoft.com/graph/api/resources/event, isAllDay).
    const midnightStart = start.local.toFormat('HH:mm:ss.SSS') === '00:00:00.000';
    const midnightEnd = end.local.toFormat('HH:mm:ss.SSS') === '00:00:00.000';
    if (!midnightStart || !midnightEnd || end.local.toISODate()! <= start.local.toISODate()!) {
      throw new GraphHttpError(
        400,
        'ErrorInvalidRequest',
        'For an all-day event, start and end must be at midnight and the end at least one day after the start.',
      );
    }
  } else if (end.ms < start.ms) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      'The end of the event must not be before its start.',
    );
  }
  next.originalStartTimeZone = (next.start as DateTimeTimeZone).timeZone;
  next.originalEndTimeZone = (next.end as DateTimeTimeZone).timeZone;
  if ('recurrence' in body) {
    set(
      'recurrence',
      body.recurrence === null ? null : normaliseRecurrence(body.recurrence, start.local.toISODate()!),
    );
  }
  if (next.recurrence && typeof next.recurrence === 'object') {
    const rec = next.recurrence as PatternedRecurrence;
    if (rec.range.recurrenceTimeZone) resolveZone(rec.range.recurrenceTimeZone);
    if (next.type !== 'exception') next.type = 'seriesMaster';
  } else if (next.type === 'seriesMaster') next.type = 'singleInstance';
  if (next.type === 'exception') {
    next._overridden = [...new Set([...((next._overridden as string[] | undefined) ?? []), ...changed])];
  }
  return next;
}

/** A new event for `user` from a create body (defaults as Graph fills them). */
export function newEvent(
  body: Record<string, unknown>,
  user: SandboxUser,
  calendarId: string,
  directory: Directory,
): Record<string, unknown> {
  const id = outlookId();
  const base: Record<string, unknown> = {
    id,
    calendarId,
    categories: [],
    transactionId: null,
    originalStartTimeZone: null,
    originalEndTimeZone: null,
    iCalUId: `040000008200E00074C5B7101A82E00800000000${randomBytes(24).toString('hex').toUpperCase()}`,
    reminderMinutesBeforeStart: 15,
    isReminderOn: true,
    hasAttachments: false,
    subject: '',
    bodyPreview: '',
    importance: 'normal',
    sensitivity: 'normal',
    isAllDay: false,
    isCancelled: false,
    isOrganizer: true,
    responseRequested: true,
    seriesMasterId: null,
    showAs: 'busy',
    type: 'singleInstance',
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: true,
    isDraft: false,
    hideAttendees: false,
    responseStatus: { response: 'organizer', time: NEVER },
    body: { contentType: 'html', content: '' },
    location: location({}),
    locations: [],
    recurrence: null,
    attendees: [],
    organizer: { emailAddress: { name: user.displayName, address: user.mail } },
    onlineMeeting: null,
  };
  return applyEventBody(base, body, directory);
}

// ---------------------------------------------------------------- instances in a window

export interface Instance {
  event: Entity;
  startMs: number;
  endMs: number;
}

export const OCCURRENCE_MARK = '_OCC';

export function occurrenceId(masterId: string, date: string): string {
  return `${masterId}${OCCURRENCE_MARK}${date.replace(/-/g, '')}`;
}

/** `{masterId, date}` of an occurrence id, or undefined for other ids. */
export function parseOccurrenceId(id: string): { masterId: string; date: string } | undefined {
  const m = /^(.+)_OCC(\d{4})(\d{2})(\d{2})$/.exec(id);
  return m ? { masterId: m[1]!, date: `${m[2]}-${m[3]}-${m[4]}` } : undefined;
}

function datePart(t: unknown): string {
  return String((t as DateTimeTimeZone).dateTime).slice(0, 10);
}

/**
 * The instant interval of a stored single event or exception. All-day events are floating dates:
 * their midnights are taken in `allDayZone` (the zone the caller reads in) or else the event's zone.
 */
export function eventInterval(
  ev: Record<string, unknown>,
  allDayZone?: string,
): { startMs: number; endMs: number } {
  if (ev.isAllDay === true) {
    const zone = allDayZone ?? resolveZone((ev.start as DateTimeTimeZone).timeZone);
    return { startMs: midnight(datePart(ev.start), zone), endMs: midnight(datePart(ev.end), zone) };
  }
  return {
    startMs: parseDateTimeTimeZone(ev.start, 'Start').ms,
    endMs: parseDateTimeTimeZone(ev.end, 'End').ms,
  };
}

function overlaps(startMs: number, endMs: number, fromMs: number, toMs: number): boolean {
  if (endMs === startMs) return startMs >= fromMs && startMs < toMs;
  return startMs < toMs && endMs > fromMs;
}

/** An occurrence of a series on a local date (in the series' zone), as Graph shows it. */
export function occurrenceOn(master: Entity, date: string, allDayZone?: string): Instance {
  const start = parseDateTimeTimeZone(master.start, 'Start');
  const end = parseDateTimeTimeZone(master.end, 'End');
  const rec = master.recurrence as PatternedRecurrence;
  const zone = rec.range.recurrenceTimeZone ? resolveZone(rec.range.recurrenceTimeZone) : start.zone;
  const startName = (master.start as DateTimeTimeZone).timeZone;
  const endName = (master.end as DateTimeTimeZone).timeZone;
  const event: Entity = {
    ...master,
    id: occurrenceId(master.id, date),
    type: 'occurrence',
    seriesMasterId: master.id,
    recurrence: null,
  };
  for (const k of Object.keys(event)) if (k.startsWith('_')) delete event[k];
  if (master.isAllDay === true) {
    const days = Math.round(
      DateTime.fromISO(datePart(master.end)).diff(DateTime.fromISO(datePart(master.start)), 'days').days,
    );
    const endDate = DateTime.fromISO(date).plus({ days }).toISODate() as string;
    event.start = { dateTime: `${date}T00:00:00.0000000`, timeZone: startName };
    event.end = { dateTime: `${endDate}T00:00:00.0000000`, timeZone: endName };
    const z = allDayZone ?? zone;
    const startMs = midnight(date, z);
    event.originalStart = graphTimestamp(startMs);
    return { event, startMs, endMs: midnight(endDate, z) };
  }
  const localStart = start.local.setZone(zone);
  const occStart = DateTime.fromISO(`${date}T${localStart.toFormat('HH:mm:ss.SSS')}`, { zone });
  const startMs = occStart.toMillis();
  const endMs = startMs + (end.ms - start.ms);
  event.start = {
    dateTime: formatLocal(DateTime.fromMillis(startMs, { zone: start.zone })),
    timeZone: startName,
  };
  event.end = { dateTime: formatLocal(DateTime.fromMillis(endMs, { zone: end.zone })), timeZone: endName };
  event.originalStart = graphTimestamp(startMs);
  return { event, startMs, endMs };
}

/** The dates a series occurs on between two instants (wide enough for long events). */
function seriesDates(master: Entity, fromMs: number, toMs: number): string[] {
  const rec = master.recurrence as PatternedRecurrence;
  const start = parseDateTimeTimeZone(master.start, 'Start');
  const zone = rec.range.recurrenceTimeZone ? resolveZone(rec.range.recurrenceTimeZone) : start.zone;
  const end = parseDateTimeTimeZone(master.end, 'End');
  const span = Math.max(0, end.ms - start.ms) + 2 * DAY;
  const from = DateTime.fromMillis(fromMs - span, { zone }).toISODate() as string;
  const to = DateTime.fromMillis(toMs + 2 * DAY, { zone }).toISODate() as string;
  const cancelled = new Set((master._cancelledOccurrences as string[] | undefined) ?? []);
  return occurrenceDates(rec, from, to).filter((d) => !cancelled.has(d));
}

/**
 * Single instances, occurrences and exceptions overlapping [fromMs, toMs), ordered by start:
 * what calendarView returns (user-list-calendarview.md, reference §8.2).
 */
export function instancesInWindow(
  events: Entity[],
  fromMs: number,
  toMs: number,
  allDayZone?: string,
): Instance[] {
  const ids = new Set(events.map((e) => e.id));
  const out: Instance[] = [];
  for (const ev of events) {
    if (ev.type === 'seriesMaster' && ev.recurrence) {
      for (const date of seriesDates(ev, fromMs, toMs)) {
        if (ids.has(occurrenceId(ev.id, date))) continue; // an exception stands in for it
        const inst = occurrenceOn(ev, date, allDayZone);
        if (overlaps(inst.startMs, inst.endMs, fromMs, toMs)) out.push(inst);
      }
      continue;
    }
    const { startMs, endMs } = eventInterval(ev, allDayZone);
    if (overlaps(startMs, endMs, fromMs, toMs)) out.push({ event: ev, startMs, endMs });
  }
  return out.sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
}

/** Whether a series has an occurrence on `date` (not deleted). */
export function seriesHasDate(master: Entity, date: string): boolean {
  if (master.type !== 'seriesMaster' || !master.recurrence) return false;
  if (((master._cancelledOccurrences as string[] | undefined) ?? []).includes(date)) return false;
  return occurrenceDates(master.recurrence as PatternedRecurrence, date, date).includes(date);
}

// ---------------------------------------------------------------- rendering

/** An event as Graph returns it: times in the view's zone, all-day events as dates. */
export function renderEvent(shown: Record<string, unknown>, view: EventView): Record<string, unknown> {
  const ev = view.redact ? view.redact(shown) : shown;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev)) {
    if (k.startsWith('_') || k === 'calendarId') continue;
    out[k] = v;
  }
  if (ev.isAllDay === true) {
    // All-day events are dates, not instants: the date stays whatever zone is asked for
    // (the DST/all-day shifts of microsoft-graph-docs-contrib#3721 and #5077 are what we avoid).
    out.start = { dateTime: `${datePart(ev.start)}T00:00:00.0000000`, timeZone: view.name };
    out.end = { dateTime: `${datePart(ev.end)}T00:00:00.0000000`, timeZone: view.name };
  } else if (ev.start && ev.end) {
    out.start = toDateTimeTimeZone(parseDateTimeTimeZone(ev.start, 'Start').ms, view.zone, view.name);
    out.end = toDateTimeTimeZone(parseDateTimeTimeZone(ev.end, 'End').ms, view.zone, view.name);
  }
  const body = ev.body as { contentType?: string; content?: string } | undefined;
  if (body) {
    // Event bodies are HTML unless Prefer: outlook.body-content-type="text" (reference §4.2).
    const want = view.bodyType ?? 'html';
    const content = body.content ?? '';
    if (want === 'text' && body.contentType === 'html')
      out.body = { contentType: 'text', content: htmlToText(content) };
    else if (want === 'html' && body.contentType === 'text')
      out.body = { contentType: 'html', content: `<html><body>${escapeHtml(content)}</body></html>` };
  }
  return out;
}

// ---------------------------------------------------------------- lookups

/**
 * Finds an event by id in a user's events: a stored one (single, master, exception) or an
 * occurrence of a series. 404 `ErrorItemNotFound` otherwise.
 */
export function findEvent(
  store: ChangeStore,
  userId: string,
  id: string,
): { event: Entity; stored: boolean } {
  const ref = eventsRef(store, userId);
  const stored = store.get(ref, id);
  if (stored) return { event: stored, stored: true };
  const occ = parseOccurrenceId(id);
  if (occ) {
    const master = store.get(ref, occ.masterId);
    if (master && seriesHasDate(master, occ.date))
      return { event: occurrenceOn(master, occ.date).event, stored: false };
  }
  throw notFound('outlook');
}

// ---------------------------------------------------------------- meetings

/** Properties a meeting's attendees see as the organizer set them. */
const SHARED = [
  'subject',
  'body',
  'bodyPreview',
  'start',
  'end',
  'originalStartTimeZone',
  'originalEndTimeZone',
  'isAllDay',
  'location',
  'locations',
  'attendees',
  'recurrence',
  'type',
  'isOnlineMeeting',
  'onlineMeetingProvider',
  'onlineMeeting',
  'iCalUId',
  'sensitivity',
  'importance',
  'organizer',
  'responseRequested',
  'allowNewTimeProposals',
  'hideAttendees',
  'isCancelled',
  'seriesMasterId',
  'originalStart',
] as const;

/** The fields every copy of a meeting shares with the organizer's event. */
export function shared(ev: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SHARED) if (k in ev) out[k] = ev[k];
  return out;
}

/** Sandbox users among the attendees (the organizer excluded). */
export function attendeeUsers(
  ev: Record<string, unknown>,
  directory: Directory,
  organizerId: string,
): SandboxUser[] {
  const out: SandboxUser[] = [];
  for (const a of (ev.attendees as Array<{ emailAddress: { address: string } }> | undefined) ?? []) {
    const u = directory.findUser(a.emailAddress.address);
    if (u && u.id !== organizerId && !out.some((x) => x.id === u.id)) out.push(u);
  }
  return out;
}

/** The attendee's copy of an organizer's event, if any. */
export function attendeeCopy(
  store: ChangeStore,
  attendee: SandboxUser,
  organizerEventId: string,
): Entity | undefined {
  return store.list(eventsRef(store, attendee.id)).find((e) => e._organizerEventId === organizerEventId);
}

/**
 * Sends the meeting to sandbox attendees: "Invitations go to attendees automatically"
 * (user-post-events.md, reference §8.2). Each gets a copy in their default calendar, not yet
 * responded to and shown as tentative, as Outlook places an unanswered request.
 */
export function sendInvitations(
  store: ChangeStore,
  directory: Directory,
  organizer: SandboxUser,
  ev: Entity,
): void {
  for (const user of attendeeUsers(ev, directory, organizer.id)) {
    const existing = attendeeCopy(store, user, ev.id);
    if (existing) {
      store.update(eventsRef(store, user.id), existing.id, { ...shared(ev), isCancelled: false });
      continue;
    }
    const copy = newEvent(
      { start: ev.start, end: ev.end, isAllDay: ev.isAllDay },
      user,
      String(defaultCalendar(store, user).id),
      directory,
    );
    store.insert(eventsRef(store, user.id), {
      ...copy,
      ...shared(ev),
      start: ev.start,
      end: ev.end,
      isOrganizer: false,
      showAs: 'tentative',
      responseStatus: { response: 'notResponded', time: NEVER },
      reminderMinutesBeforeStart: 15,
      isReminderOn: true,
      _organizerUserId: organizer.id,
      _organizerEventId: ev.id,
    });
  }
}

/** Cancels a meeting for its sandbox attendees (organizer deleted or cancelled it). */
export function cancelForAttendees(
  store: ChangeStore,
  directory: Directory,
  organizer: SandboxUser,
  ev: Entity,
): void {
  for (const user of attendeeUsers(ev, directory, organizer.id)) {
    const copy = attendeeCopy(store, user, ev.id);
    if (!copy || copy.isCancelled === true) continue;
    store.update(eventsRef(store, user.id), copy.id, {
      isCancelled: true,
      subject: `Canceled: ${str(copy.subject)}`,
    });
  }
}

export { NEVER as NEVER_RESPONDED };
