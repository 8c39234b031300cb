/**
 * Graph calendar endpoints (reference §8.2, §4, §5; see sandbox/README.md, "Adding a Graph
 * service"): calendars, events with recurrence, calendarView (and its delta), meeting responses
 * and cancellation, getSchedule and findMeetingTimes.
 *
 * Store collections (per user), stable for change notifications:
 * - `events`: single instances, series masters and exceptions, each with `calendarId`
 *   (model in events.ts; occurrences are computed, never stored).
 * - `calendars`: the user's calendars (the default one is created on first use).
 *
 * Times: every dateTimeTimeZone is read in its own zone (Windows or IANA name) and rendered in the
 * `Prefer: outlook.timezone` zone, default UTC (time.ts).
 */
import type { Sandbox } from '../../context';
import { empty, json } from '../../http';
import type { SandboxUser } from '../../state';
import {
  applyEventBody,
  attendeeCopy,
  attendeeUsers,
  calendarEntity,
  calendarsRef,
  cancelForAttendees,
  defaultCalendar,
  eventsRef,
  findCalendar,
  findEvent,
  instancesInWindow,
  listCalendars,
  newEvent,
  occurrenceId,
  occurrenceOn,
  parseOccurrenceId,
  renderEvent,
  sendInvitations,
  str,
  type EventView,
} from './events';
import { processRoomRequests, releaseRooms } from './rooms';
import {
  canReadShared,
  canWriteShared,
  installCalendarSharing,
  redactFor,
  roleOf,
  SHOWS_EVENTS,
} from './sharing';
import { findMeetingTimes, getSchedule } from './schedule';
import { parseWindowParam } from './time';
import {
  entityResponse,
  graphRoute,
  graphState,
  odataContext,
  type GraphCtx,
  type GraphHandler,
  type GraphRouteOptions,
} from '../core';
import { deltaResponse } from '../delta';
import { badQuery, GraphHttpError } from '../errors';
import { collection } from '../paging';
import { graphTimestamp, type ChangeStore, type Entity } from '../store';

// Least-privileged permissions per the API pages (user-list-events.md, user-post-events.md,
// calendar-getschedule.md, user-findmeetingtimes.md). Another user's calendar needs the .Shared
// variants and, in the sandbox, delegated mailbox rights.
const READ: GraphRouteOptions = {
  scopes: { anyOf: ['Calendars.ReadBasic', 'Calendars.Read'], other: ['Calendars.Read.Shared'] },
};
const WRITE: GraphRouteOptions = {
  scopes: { anyOf: ['Calendars.ReadWrite'], other: ['Calendars.ReadWrite.Shared'] },
};

function viewOf(ctx: GraphCtx): EventView {
  // Responses use the Prefer: outlook.timezone zone, default UTC (reference §8.2).
  const iana = ctx.prefs.timeZoneIana;
  return {
    zone: iana ?? 'UTC',
    name: iana ? (ctx.prefs.timeZone ?? iana) : 'UTC',
    ...(ctx.prefs.bodyContentType ? { bodyType: ctx.prefs.bodyContentType } : {}),
    ...sharedView(ctx),
  };
}

/** Someone else's calendar, seen through a sharing role rather than full mailbox access. */
function sharedView(ctx: GraphCtx): Pick<EventView, 'redact' | 'readable'> {
  const caller = ctx.caller;
  const owner = ctx.user;
  if (!caller || !owner || caller.id === owner.id || caller.mailboxRights[owner.id]?.fullAccess) return {};
  const role = (ev: Record<string, unknown>) => roleOf(ctx.graph.store, owner, String(ev.calendarId), caller);
  return {
    redact: (ev) => redactFor(role(ev), ev),
    readable: (ev) => SHOWS_EVENTS.includes(role(ev)),
  };
}

/** Both reading and sharing rules for another user's calendar (sharing.ts). */
const SHARED_READ: GraphRouteOptions = { ...READ, otherUsers: canReadShared };
const SHARED_WRITE: GraphRouteOptions = { ...WRITE, otherUsers: canWriteShared };

function queryParam(query: URLSearchParams, name: string): string | undefined {
  for (const [k, v] of query) if (k.toLowerCase() === name.toLowerCase()) return v;
  return undefined;
}

/**
 * calendarView's required window: 400 ErrorInvalidParameter with the observed wording when
 * missing (https://github.com/microsoftgraph/microsoft-graph-docs/issues/57).
 */
function windowOf(query: URLSearchParams): { from: number; to: number } {
  const start = queryParam(query, 'startDateTime');
  const end = queryParam(query, 'endDateTime');
  if (!start || !end) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidParameter',
      'This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.',
    );
  }
  const from = parseWindowParam(start);
  const to = parseWindowParam(end);
  if (from === undefined || to === undefined) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidParameter',
      'StartDateTime and EndDateTime must be ISO 8601 date-times.',
    );
  }
  if (to < from)
    throw new GraphHttpError(400, 'ErrorInvalidParameter', 'EndDateTime must not be before StartDateTime.');
  return { from, to };
}

async function bodyOf(ctx: GraphCtx): Promise<Record<string, unknown>> {
  const body = await ctx.json<unknown>();
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new GraphHttpError(400, 'ErrorInvalidRequest', 'The request body must be a JSON object.');
  }
  return body as Record<string, unknown>;
}

function userOf(ctx: GraphCtx): SandboxUser {
  return ctx.user as SandboxUser;
}

// ---------------------------------------------------------------- handlers

/** A calendar as v1.0 has it (calendar.md): a changeKey but no created/modified timestamps. */
function renderCalendar(c: Entity): Entity {
  const { createdDateTime: _c, lastModifiedDateTime: _m, ...rest } = c;
  return rest;
}

function listCalendarsHandler(ctx: GraphCtx) {
  return collection(ctx, listCalendars(ctx.graph.store, userOf(ctx)).map(renderCalendar), {
    kind: 'outlook',
  });
}

async function createCalendar(ctx: GraphCtx) {
  const body = await bodyOf(ctx);
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (!name) throw new GraphHttpError(400, 'ErrorInvalidRequest', 'A calendar needs a name.');
  const user = userOf(ctx);
  const store = ctx.graph.store;
  if (listCalendars(store, user).some((c) => String(c.name).toLowerCase() === name.toLowerCase())) {
    // Exchange's folder-exists code (reference §8.1 mailFolders note).
    throw new GraphHttpError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  }
  const created = store.insert(calendarsRef(store, user.id), calendarEntity(user, name, false));
  return entityResponse(ctx, renderCalendar(created), {
    status: 201,
    context: `users('${user.id}')/calendars/$entity`,
  });
}

function eventsOf(store: ChangeStore, user: SandboxUser, calendarId?: string): Entity[] {
  const all = store.list(eventsRef(store, user.id));
  return calendarId ? all.filter((e) => e.calendarId === calendarId) : all;
}

function calendarView(ctx: GraphCtx, calendarId?: string) {
  const { from, to } = windowOf(ctx.query);
  const user = userOf(ctx);
  const view = viewOf(ctx);
  const instances = instancesInWindow(
    eventsOf(ctx.graph.store, user, calendarId).filter(view.readable ?? (() => true)),
    from,
    to,
    ctx.prefs.timeZoneIana,
  );
  // Outlook pages calendarView with $skip, default 10 (reference §4.1).
  return collection(
    ctx,
    instances.map((i) => renderEvent(i.event, view)),
    { kind: 'outlook', defaultTop: 10, maxTop: 1000, context: `users('${user.id}')/calendarView` },
  );
}

function listEvents(ctx: GraphCtx, calendarId?: string) {
  const user = userOf(ctx);
  const view = viewOf(ctx);
  // /events lists single instances and series masters, not occurrences (user-list-events.md).
  const items = eventsOf(ctx.graph.store, user, calendarId).filter(
    (e) => e.type !== 'exception' && (view.readable?.(e) ?? true),
  );
  return collection(
    ctx,
    items.map((e) => renderEvent(e, view)),
    { kind: 'outlook', context: `users('${user.id}')/events` },
  );
}

async function createEvent(ctx: GraphCtx, calendarId?: string) {
  const body = await bodyOf(ctx);
  const user = userOf(ctx);
  const store = ctx.graph.store;
  const ref = eventsRef(store, user.id);
  const calendar = calendarId ? findCalendar(store, user, calendarId) : defaultCalendar(store, user);
  // transactionId lets a retried POST find the event it already made (event resource page).
  if (typeof body.transactionId === 'string' && body.transactionId) {
    const existing = store.list(ref).find((e) => e.transactionId === body.transactionId);
    if (existing) {
      return entityResponse(ctx, renderEvent(existing, viewOf(ctx)), {
        status: 201,
        context: `users('${user.id}')/events/$entity`,
      });
    }
  }
  const event = store.insert(ref, newEvent(body, user, String(calendar.id), ctx.sandbox.directory));
  sendInvitations(store, ctx.sandbox.directory, user, event);
  const answer = entityResponse(ctx, renderEvent(event, viewOf(ctx)), {
    status: 201,
    context: `users('${user.id}')/events/$entity`,
  });
  // Rooms answer after the POST has been answered (rooms.ts).
  processRoomRequests(store, user, event, ctx.sandbox.now());
  return answer;
}

function getEvent(ctx: GraphCtx) {
  const { event } = findEvent(ctx.graph.store, userOf(ctx).id, ctx.params.id ?? '');
  return entityResponse(ctx, renderEvent(event, viewOf(ctx)), {
    context: `users('${userOf(ctx).id}')/events/$entity`,
  });
}

const TIME_KEYS = new Set(['start', 'end', 'isAllDay', 'recurrence']);

async function updateEvent(ctx: GraphCtx) {
  const body = await bodyOf(ctx);
  const user = userOf(ctx);
  const store = ctx.graph.store;
  const directory = ctx.sandbox.directory;
  const ref = eventsRef(store, user.id);
  const id = ctx.params.id ?? '';
  const { event, stored } = findEvent(store, user.id, id);
  let result: Entity;
  if (!stored) {
    // Editing one occurrence makes it an exception; the rest of the series is untouched
    // (https://learn.microsoft.com/graph/api/resources/event, type "exception").
    const master = store.get(ref, String(event.seriesMasterId)) as Entity;
    const exception = applyEventBody(
      { ...event, type: 'exception', recurrence: null, calendarId: master.calendarId, _overridden: [] },
      body,
      directory,
    );
    result = store.insert(ref, exception);
    if (master.isOrganizer === true) propagateOccurrence(ctx, user, master, id, body);
  } else {
    const next = applyEventBody(event, body, directory);
    const changed = Object.keys(body);
    const previousAttendees = attendeeUsers(event, directory, user.id);
    result = store.update(ref, id, () => next) as Entity;
    if (event.type === 'seriesMaster') syncExceptions(store, user, result, changed);
    if (result.isOrganizer === true) {
      sendInvitations(store, directory, user, result);
      processRoomRequests(store, user, result, ctx.sandbox.now());
      const now = attendeeUsers(result, directory, user.id).map((u) => u.id);
      const removed = previousAttendees.filter((u) => !now.includes(u.id));
      for (const u of removed) {
        const copy = attendeeCopy(store, u, result.id);
        if (copy)
          store.update(eventsRef(store, u.id), copy.id, {
            isCancelled: true,
            subject: `Canceled: ${String(copy.subject)}`,
          });
      }
    }
  }
  return entityResponse(ctx, renderEvent(result, viewOf(ctx)), {
    context: `users('${user.id}')/events/$entity`,
  });
}

/**
 * A series' exceptions after its master changed: a new time pattern drops them (Outlook rebuilds
 * the series); other changes flow into each exception unless it overrode that property.
 */
function syncExceptions(store: ChangeStore, user: SandboxUser, master: Entity, changed: string[]): void {
  const ref = eventsRef(store, user.id);
  const exceptions = store.list(ref).filter((e) => e.type === 'exception' && e.seriesMasterId === master.id);
  const retimed = changed.some((k) => TIME_KEYS.has(k));
  for (const ex of exceptions) {
    if (retimed) {
      store.remove(ref, ex.id);
      continue;
    }
    const overridden = new Set((ex._overridden as string[] | undefined) ?? []);
    const patch: Record<string, unknown> = {};
    for (const k of changed) if (!overridden.has(k) && k in master) patch[k] = master[k];
    if (Object.keys(patch).length > 0) store.update(ref, ex.id, patch);
  }
  if (retimed) store.update(ref, master.id, { _cancelledOccurrences: undefined });
}

/** The organizer edited one occurrence: each attendee's copy of the series gets the same exception. */
function propagateOccurrence(
  ctx: GraphCtx,
  organizer: SandboxUser,
  master: Entity,
  occurrence: string,
  body: Record<string, unknown>,
): void {
  const store = ctx.graph.store;
  const date = parseOccurrenceId(occurrence)?.date;
  if (!date) return;
  for (const u of attendeeUsers(master, ctx.sandbox.directory, organizer.id)) {
    const copy = attendeeCopy(store, u, master.id);
    if (!copy) continue;
    const ref = eventsRef(store, u.id);
    const copyOccurrence = occurrenceId(copy.id, date);
    const current = store.get(ref, copyOccurrence);
    if (current) {
      store.update(ref, copyOccurrence, () => applyEventBody(current, body, ctx.sandbox.directory));
    } else {
      const occ = occurrenceOn(copy, date).event;
      store.insert(
        ref,
        applyEventBody(
          { ...occ, type: 'exception', recurrence: null, calendarId: copy.calendarId, _overridden: [] },
          body,
          ctx.sandbox.directory,
        ),
      );
    }
  }
}

/** Deletes an event, an exception or one occurrence; an organizer's meeting is cancelled for attendees. */
function removeEvent(ctx: GraphCtx, user: SandboxUser, id: string): void {
  const store = ctx.graph.store;
  const ref = eventsRef(store, user.id);
  const { event, stored } = findEvent(store, user.id, id);
  const occurrence = parseOccurrenceId(id);
  if (!stored || event.type === 'exception') {
    // One occurrence goes; the series stays (event-delete.md on an occurrence id).
    if (stored) store.remove(ref, id);
    const masterId = str(event.seriesMasterId, occurrence?.masterId ?? '');
    const master = store.get(ref, masterId);
    if (master && occurrence) {
      cancelOccurrence(store, user.id, master, occurrence.date);
      if (master.isOrganizer === true) {
        for (const u of attendeeUsers(master, ctx.sandbox.directory, user.id)) {
          const copy = attendeeCopy(store, u, master.id);
          if (!copy) continue;
          const copyRef = eventsRef(store, u.id);
          if (store.get(copyRef, occurrenceId(copy.id, occurrence.date)))
            store.remove(copyRef, occurrenceId(copy.id, occurrence.date));
          cancelOccurrence(store, u.id, copy, occurrence.date);
        }
      }
    }
    return;
  }
  store.remove(ref, id);
  if (event.type === 'seriesMaster') {
    for (const ex of store.list(ref))
      if (ex.type === 'exception' && ex.seriesMasterId === id) store.remove(ref, ex.id);
  }
  // "Deleting the event on the organizer's calendar sends a cancellation message to the meeting
  // attendees" (event-delete.md).
  if (event.isOrganizer === true) {
    cancelForAttendees(store, ctx.sandbox.directory, user, event);
    releaseRooms(store, event);
  }
}

function cancelOccurrence(store: ChangeStore, userId: string, master: Entity, date: string): void {
  const cancelled = new Set((master._cancelledOccurrences as string[] | undefined) ?? []);
  cancelled.add(date);
  store.update(eventsRef(store, userId), master.id, { _cancelledOccurrences: [...cancelled].sort() });
}

function deleteEvent(ctx: GraphCtx) {
  removeEvent(ctx, userOf(ctx), ctx.params.id ?? '');
  return empty(204);
}

const RESPONSES: Record<string, string> = {
  accept: 'accepted',
  tentativelyaccept: 'tentativelyAccepted',
  decline: 'declined',
};

/**
 * accept / tentativelyAccept / decline (event-accept.md, event-tentativelyaccept.md,
 * event-decline.md): 202 with no body. The attendee's copy records the response; with
 * sendResponse (default true) the organizer's attendee list shows it too.
 */
async function respond(ctx: GraphCtx, action: string) {
  const response = RESPONSES[action.toLowerCase()] as string;
  const body = await bodyOf(ctx);
  if (body.comment !== undefined && typeof body.comment !== 'string') {
    throw new GraphHttpError(400, 'ErrorInvalidRequest', 'comment must be a string.');
  }
  const user = userOf(ctx);
  const store = ctx.graph.store;
  const ref = eventsRef(store, user.id);
  const id = ctx.params.id ?? '';
  const { event, stored } = findEvent(store, user.id, id);
  if (event.isOrganizer === true) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      "Your request can't be completed. You can't respond to a meeting you organized.",
    );
  }
  const time = graphTimestamp(ctx.sandbox.now());
  const organizerUser =
    typeof event._organizerUserId === 'string'
      ? ctx.sandbox.directory.users.get(event._organizerUserId)
      : undefined;
  const organizerEvent =
    organizerUser && typeof event._organizerEventId === 'string'
      ? store.get(eventsRef(store, organizerUser.id), event._organizerEventId)
      : undefined;
  const showAs =
    response === 'accepted'
      ? str(organizerEvent?.showAs, 'busy')
      : response === 'tentativelyAccepted'
        ? 'tentative'
        : str(event.showAs, 'busy');
  const patch = { responseStatus: { response, time }, showAs };
  if (stored) store.update(ref, id, patch);
  else {
    const master = store.get(ref, String(event.seriesMasterId)) as Entity;
    store.insert(ref, {
      ...event,
      ...patch,
      type: 'exception',
      calendarId: master.calendarId,
      _overridden: ['responseStatus', 'showAs'],
    });
  }
  if (body.sendResponse !== false && organizerUser && organizerEvent) {
    const address = user.mail.toLowerCase();
    const attendees = ((organizerEvent.attendees as Array<Record<string, unknown>> | undefined) ?? []).map(
      (a) =>
        String((a.emailAddress as { address?: string } | undefined)?.address ?? '').toLowerCase() ===
          address ||
        String((a.emailAddress as { address?: string } | undefined)?.address ?? '').toLowerCase() ===
          user.userPrincipalName.toLowerCase()
          ? { ...a, status: { response, time } }
          : a,
    );
    store.update(eventsRef(store, organizerUser.id), organizerEvent.id, { attendees });
  }
  return empty(202);
}

/**
 * cancel (event-cancel.md): only the organizer may cancel; attendees' copies are marked
 * cancelled and the organizer's event goes. 202 with no body.
 */
async function cancel(ctx: GraphCtx) {
  const body = await bodyOf(ctx);
  if (body.comment !== undefined && typeof body.comment !== 'string') {
    throw new GraphHttpError(400, 'ErrorInvalidRequest', 'comment must be a string.');
  }
  const user = userOf(ctx);
  const { event } = findEvent(ctx.graph.store, user.id, ctx.params.id ?? '');
  if (event.isOrganizer !== true) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      "Your request can't be completed. You need to be an organizer to cancel a meeting.",
    );
  }
  removeEvent(ctx, user, ctx.params.id ?? '');
  return empty(202);
}

function instances(ctx: GraphCtx) {
  const { from, to } = windowOf(ctx.query);
  const user = userOf(ctx);
  const { event } = findEvent(ctx.graph.store, user.id, ctx.params.id ?? '');
  const series = eventsOf(ctx.graph.store, user).filter(
    (e) => e.id === event.id || (e.type === 'exception' && e.seriesMasterId === event.id),
  );
  const view = viewOf(ctx);
  return collection(
    ctx,
    instancesInWindow(series, from, to, ctx.prefs.timeZoneIana).map((i) => renderEvent(i.event, view)),
    { kind: 'outlook', context: `users('${user.id}')/events('${event.id}')/instances` },
  );
}

// ---------------------------------------------------------------- routes

export function installCalendar(sandbox: Sandbox): void {
  const on = (method: string, pattern: string, options: GraphRouteOptions, handler: GraphHandler) =>
    graphRoute(sandbox, method, pattern, options, handler);

  installCalendarSharing(sandbox);
  on('GET', '/me/calendars', READ, listCalendarsHandler);
  on('POST', '/me/calendars', WRITE, createCalendar);
  on('GET', '/me/calendar', SHARED_READ, (ctx) =>
    entityResponse(ctx, defaultCalendar(ctx.graph.store, userOf(ctx)), {
      context: `users('${userOf(ctx).id}')/calendar/$entity`,
    }),
  );
  on('GET', '/me/calendar/calendarView', SHARED_READ, (ctx) =>
    calendarView(ctx, String(defaultCalendar(ctx.graph.store, userOf(ctx)).id)),
  );
  on('GET', '/me/calendar/events', SHARED_READ, (ctx) =>
    listEvents(ctx, String(defaultCalendar(ctx.graph.store, userOf(ctx)).id)),
  );
  on('POST', '/me/calendar/events', SHARED_WRITE, (ctx) => createEvent(ctx));
  // getSchedule reads free/busy of anyone in the organisation (calendar-getschedule.md).
  on(
    'POST',
    '/me/calendar/getSchedule',
    { scopes: { anyOf: ['Calendars.ReadBasic', 'Calendars.Read'], other: ['Calendars.Read.Shared'] } },
    async (ctx) => {
      const value = getSchedule(
        ctx.graph.store,
        ctx.sandbox.directory,
        ctx.caller,
        await bodyOf(ctx),
        viewOf(ctx),
      );
      return json(200, {
        '@odata.context': odataContext(ctx, 'Collection(microsoft.graph.scheduleInformation)'),
        value,
      });
    },
  );
  // calendarView delta (event-delta.md, reference §5.2): window required on the first call and
  // carried by the tokens; $select is not supported. A series is reported through its master
  // (the sandbox does not track occurrences as separate delta items).
  on('GET', '/me/calendarView/delta', READ, (ctx) => {
    const user = userOf(ctx);
    const view = viewOf(ctx);
    return deltaResponse(ctx, eventsRef(ctx.graph.store, user.id), {
      style: 'outlook',
      select: false,
      validateInitial: (q) => {
        windowOf(q);
        for (const key of q.keys()) {
          if (['$select', '$expand', '$filter', '$orderby', '$search'].includes(key.toLowerCase())) {
            throw badQuery('outlook', `The query option '${key}' is not supported with calendarView delta.`);
          }
        }
      },
      filter: (item, q) => {
        const { from, to } = windowOf(q);
        return instancesInWindow([item], from, to, ctx.prefs.timeZoneIana).length > 0;
      },
      render: (item) => renderEvent(item, view),
      context: 'Collection(event)',
    });
  });
  on('GET', '/me/calendarView', SHARED_READ, (ctx) => calendarView(ctx));
  on(
    'POST',
    '/me/findMeetingTimes',
    { scopes: { anyOf: ['Calendars.Read.Shared', 'Calendars.ReadWrite.Shared'] }, delegatedOnly: true },
    async (ctx) => {
      const result = findMeetingTimes(
        ctx.graph.store,
        ctx.sandbox.directory,
        userOf(ctx),
        await bodyOf(ctx),
        viewOf(ctx),
        ctx.sandbox.now(),
      );
      return json(200, {
        '@odata.context': odataContext(ctx, 'microsoft.graph.meetingTimeSuggestionsResult'),
        ...result,
      });
    },
  );
  on('GET', '/me/events', SHARED_READ, (ctx) => listEvents(ctx));
  on('POST', '/me/events', WRITE, (ctx) => createEvent(ctx));
  on('GET', '/me/calendars/:calendarId', SHARED_READ, (ctx) =>
    entityResponse(
      ctx,
      renderCalendar(findCalendar(ctx.graph.store, userOf(ctx), ctx.params.calendarId ?? '')),
      {
        context: `users('${userOf(ctx).id}')/calendars/$entity`,
      },
    ),
  );
  on('GET', '/me/calendars/:calendarId/events', SHARED_READ, (ctx) => {
    findCalendar(ctx.graph.store, userOf(ctx), ctx.params.calendarId ?? '');
    return listEvents(ctx, ctx.params.calendarId);
  });
  on('POST', '/me/calendars/:calendarId/events', SHARED_WRITE, (ctx) =>
    createEvent(ctx, ctx.params.calendarId),
  );
  on('GET', '/me/calendars/:calendarId/calendarView', SHARED_READ, (ctx) => {
    findCalendar(ctx.graph.store, userOf(ctx), ctx.params.calendarId ?? '');
    return calendarView(ctx, ctx.params.calendarId);
  });
  on('GET', '/me/events/:id/instances', SHARED_READ, instances);
  for (const action of ['accept', 'tentativelyAccept', 'decline']) {
    on('POST', `/me/events/:id/${action}`, WRITE, (ctx) => respond(ctx, action));
  }
  on('POST', '/me/events/:id/cancel', WRITE, cancel);
  on('GET', '/me/events/:id', SHARED_READ, getEvent);
  on('PATCH', '/me/events/:id', SHARED_WRITE, updateEvent);
  on('DELETE', '/me/events/:id', SHARED_WRITE, deleteEvent);
}

// ---------------------------------------------------------------- seed

/**
 * Demo data for the seeded users (npm start): a weekly team sync Adele organizes with Megan and
 * Lee (invitations included), a focus block, and an all-day offsite. Times are fixed local times
 * in each user's zone relative to the current week, so the calendar always has something to show.
 */
export function seedCalendar(sandbox: Sandbox): void {
  const store = graphStore(sandbox);
  const directory = sandbox.directory;
  const adele = directory.findUser('adele.vance@contoso.test');
  const megan = directory.findUser('megan.bowen@contoso.test');
  const lee = directory.findUser('lee.gu@contoso.test');
  if (!adele || !megan || !lee) return;
  if (store.list(eventsRef(store, adele.id)).length > 0) return;
  const monday = mondayOf(sandbox.now());
  const day = (offset: number) => addDays(monday, offset);
  const create = (user: SandboxUser, body: Record<string, unknown>) => {
    const ev = store.insert(
      eventsRef(store, user.id),
      newEvent(body, user, String(defaultCalendar(store, user).id), directory),
    );
    sendInvitations(store, directory, user, ev);
    return ev;
  };
  create(adele, {
    subject: 'Weekly product sync',
    body: { contentType: 'text', content: 'Status, blockers, next steps.' },
    start: { dateTime: `${day(1)}T16:00:00`, timeZone: 'W. Europe Standard Time' },
    end: { dateTime: `${day(1)}T16:30:00`, timeZone: 'W. Europe Standard Time' },
    location: { displayName: 'Teams' },
    isOnlineMeeting: true,
    onlineMeetingProvider: 'teamsForBusiness',
    attendees: [
      { type: 'required', emailAddress: { address: megan.mail } },
      { type: 'optional', emailAddress: { address: lee.mail } },
    ],
    recurrence: {
      pattern: { type: 'weekly', interval: 1, daysOfWeek: ['tuesday'] },
      range: { type: 'noEnd', startDate: day(1) },
    },
  });
  create(adele, {
    subject: 'Focus time',
    start: { dateTime: `${day(2)}T09:00:00`, timeZone: 'Europe/Berlin' },
    end: { dateTime: `${day(2)}T11:00:00`, timeZone: 'Europe/Berlin' },
    showAs: 'busy',
    sensitivity: 'private',
  });
  create(megan, {
    subject: 'Marketing offsite',
    isAllDay: true,
    start: { dateTime: `${day(3)}T00:00:00`, timeZone: 'Eastern Standard Time' },
    end: { dateTime: `${day(4)}T00:00:00`, timeZone: 'Eastern Standard Time' },
    showAs: 'oof',
  });
  create(lee, {
    subject: 'Code review',
    start: { dateTime: `${day(0)}T10:00:00`, timeZone: 'Tokyo Standard Time' },
    end: { dateTime: `${day(0)}T11:00:00`, timeZone: 'Tokyo Standard Time' },
  });
}

function graphStore(sandbox: Sandbox): ChangeStore {
  return graphState(sandbox).store;
}

function mondayOf(ms: number): string {
  const d = new Date(ms);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - back))
    .toISOString()
    .slice(0, 10);
}

function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
