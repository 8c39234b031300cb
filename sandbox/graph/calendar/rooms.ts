/**
 * Rooms answer meeting requests themselves, as Exchange's Calendar Attendant does for a room
 * mailbox with its defaults (AutomateProcessing AutoAccept, AllowConflicts false, a 180-day
 * booking window: https://learn.microsoft.com/powershell/module/exchange/set-calendarprocessing):
 * a request for a free time is accepted and the room's calendar shows the meeting busy; one that
 * overlaps another booking is declined and leaves the room's calendar alone. The answer shows on
 * the organizer's event as the room attendee's `status`. Graph answers the POST before the room
 * has processed the request, so the created event still shows the room as `none`; a later read
 * shows the answer (here the room answers right after the POST, in the same request).
 */
import type { SandboxUser } from '../../state';
import { findRoom, placesOf, roomMailbox } from '../places/model';
import { graphTimestamp, outlookId, type ChangeStore, type Entity } from '../store';
import { eventsRef, instancesInWindow, shared } from './events';
import { busyBlocks } from './schedule';
import { parseDateTimeTimeZone } from './time';

const BOOKING_WINDOW_MS = 180 * 24 * 3600 * 1000;

interface AttendeeEntry {
  type?: string;
  emailAddress?: { address?: string; name?: string };
  status?: { response: string; time: string };
}

function roomCopy(store: ChangeStore, roomId: string, organizerEventId: string): Entity | undefined {
  return store.list(eventsRef(store, roomId)).find((e) => e._organizerEventId === organizerEventId);
}

/** Books, re-books or declines every room among the organizer's event's attendees. */
export function processRoomRequests(
  store: ChangeStore,
  organizer: SandboxUser,
  ev: Entity,
  now: number,
): void {
  const attendees = (ev.attendees as AttendeeEntry[] | undefined) ?? [];
  const answers = new Map<string, string>();
  const invited = new Set(attendees.map((a) => String(a.emailAddress?.address ?? '').toLowerCase()));
  // A room taken off the attendee list gives its time back.
  for (const room of placesOf(store, organizer.tenantId, 'room')) {
    const copy = invited.has(String(room.emailAddress).toLowerCase())
      ? undefined
      : roomCopy(store, room.id, ev.id);
    if (copy) store.remove(eventsRef(store, room.id), copy.id);
  }
  const startMs = ev.start ? parseDateTimeTimeZone(ev.start, 'Start').ms : now;
  for (const a of attendees) {
    const room = findRoom(store, a.emailAddress?.address ?? '');
    if (!room) continue;
    const ref = eventsRef(store, room.id);
    const existing = roomCopy(store, room.id, ev.id);
    const ours = instancesInWindow([ev], startMs - 2 * 24 * 3600 * 1000, startMs + BOOKING_WINDOW_MS);
    const others = busyBlocks(
      store,
      roomMailbox(room),
      startMs - 2 * 24 * 3600 * 1000,
      startMs + BOOKING_WINDOW_MS + 2 * 24 * 3600 * 1000,
      existing?.id,
    );
    const conflict = ours.some((o) => others.some((b) => b.startMs < o.endMs && b.endMs > o.startMs));
    if (conflict || ev.isCancelled === true) {
      if (existing) store.remove(ref, existing.id);
      answers.set(String(room.emailAddress).toLowerCase(), 'declined');
      continue;
    }
    const fields = {
      ...shared(ev),
      // The room's copy is a busy block; what the meeting is about stays with the people.
      body: { contentType: 'html', content: '' },
      attendees: [],
      showAs: 'busy',
      isCancelled: false,
      responseStatus: { response: 'accepted', time: graphTimestamp(now) },
      organizer: { emailAddress: { name: organizer.displayName, address: organizer.mail } },
      _organizerUserId: organizer.id,
      _organizerEventId: ev.id,
    };
    if (existing) store.update(ref, existing.id, fields);
    else
      store.insert(ref, {
        id: outlookId(),
        calendarId: `${room.id}-calendar`,
        type: ev.type === 'seriesMaster' ? 'seriesMaster' : 'singleInstance',
        isOrganizer: false,
        sensitivity: 'normal',
        ...fields,
      });
    answers.set(String(room.emailAddress).toLowerCase(), 'accepted');
  }
  if (answers.size === 0) return;
  const time = graphTimestamp(now);
  const next = attendees.map((a) => {
    const answer = answers.get(String(a.emailAddress?.address ?? '').toLowerCase());
    return answer && a.status?.response !== answer ? { ...a, status: { response: answer, time } } : a;
  });
  if (next.some((a, i) => a !== attendees[i]))
    store.update(eventsRef(store, organizer.id), ev.id, { attendees: next });
}

/** The organizer's meeting went (deleted or cancelled): rooms drop their bookings. */
export function releaseRooms(store: ChangeStore, ev: Entity): void {
  for (const a of (ev.attendees as AttendeeEntry[] | undefined) ?? []) {
    const room = findRoom(store, a.emailAddress?.address ?? '');
    const copy = room && roomCopy(store, room.id, ev.id);
    if (room && copy) store.remove(eventsRef(store, room.id), copy.id);
  }
}
