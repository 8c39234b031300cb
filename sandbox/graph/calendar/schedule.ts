/**
 * Availability in the sandbox, computed from the users' own events: getSchedule (free/busy per
 * person) and findMeetingTimes (slots free for a set of attendees within working hours).
 * Reference §8.2; https://learn.microsoft.com/graph/api/calendar-getschedule,
 * https://learn.microsoft.com/graph/outlook-get-free-busy-schedule,
 * https://learn.microsoft.com/graph/api/user-findmeetingtimes.
 */
import { DateTime, Duration } from 'luxon';
import type { Directory, SandboxUser } from '../../state';
import { GraphHttpError } from '../errors';
import { eventsRef, instancesInWindow, str, type EventView } from './events';
import { weekdayNumber } from './recurrence';
import { parseDateTimeTimeZone, toDateTimeTimeZone } from './time';
import type { ChangeStore } from '../store';
import { findRoom, roomMailbox, type ScheduleMailbox } from '../places/model';
import { toWindowsZone } from '../timezones';

const DAY = 24 * 3600 * 1000;

export interface BusyBlock {
  startMs: number;
  endMs: number;
  status: string;
  subject: string;
  location: string;
  isPrivate: boolean;
}

/**
 * What occupies a user's time in a window: events that are not cancelled, not declined and not
 * shown as free. All-day events take the user's own mailbox zone.
 */
export function busyBlocks(
  store: ChangeStore,
  user: Pick<SandboxUser, 'id' | 'timeZone'>,
  fromMs: number,
  toMs: number,
  exceptId?: string,
): BusyBlock[] {
  const events = store.list(eventsRef(store, user.id)).filter((e) => e.id !== exceptId);
  return instancesInWindow(events, fromMs, toMs, user.timeZone)
    .filter(({ event }) => {
      const response = (event.responseStatus as { response?: string } | undefined)?.response;
      return event.isCancelled !== true && response !== 'declined' && event.showAs !== 'free';
    })
    .map(({ event, startMs, endMs }) => ({
      startMs,
      endMs,
      status: typeof event.showAs === 'string' ? event.showAs : 'busy',
      subject: str(event.subject),
      location: String((event.location as { displayName?: string } | undefined)?.displayName ?? ''),
      isPrivate: event.sensitivity === 'private',
    }));
}

/** availabilityView digits (scheduleInformation): 0 free, 1 tentative, 2 busy, 3 oof, 4 elsewhere. */
const DIGIT: Record<string, string> = {
  free: '0',
  tentative: '1',
  busy: '2',
  oof: '3',
  workingElsewhere: '4',
};
/** Which status wins when several overlap a slot. */
const RANK: Record<string, number> = {
  free: 0,
  workingElsewhere: 1,
  tentative: 2,
  busy: 3,
  oof: 4,
  unknown: 3,
};

function strongest(blocks: BusyBlock[]): string {
  let best = 'free';
  for (const b of blocks) if ((RANK[b.status] ?? 3) > (RANK[best] ?? 0)) best = b.status;
  return best;
}

export function workingHours(user: Pick<SandboxUser, 'timeZone' | 'workingHours'>): Record<string, unknown> {
  return {
    daysOfWeek: user.workingHours.daysOfWeek,
    startTime: user.workingHours.startTime,
    endTime: user.workingHours.endTime,
    timeZone: { name: toWindowsZone(user.timeZone) },
  };
}

function invalidParameter(message: string): GraphHttpError {
  return new GraphHttpError(400, 'ErrorInvalidParameter', message);
}

/** POST /me/calendar/getSchedule: one scheduleInformation per requested address. */
export function getSchedule(
  store: ChangeStore,
  directory: Directory,
  caller: SandboxUser | undefined,
  body: Record<string, unknown>,
  view: EventView,
): Array<Record<string, unknown>> {
  const schedules = body.schedules;
  if (!Array.isArray(schedules) || schedules.length === 0 || schedules.some((s) => typeof s !== 'string')) {
    throw invalidParameter('schedules must list at least one SMTP address.');
  }
  // "Up to 20 entities; the period must be under 62 days" (reference §8.2).
  if (schedules.length > 20)
    throw invalidParameter('The number of schedules requested exceeds the limit of 20.');
  const from = parseDateTimeTimeZone(body.startTime, 'StartTime').ms;
  const to = parseDateTimeTimeZone(body.endTime, 'EndTime').ms;
  if (to <= from) throw invalidParameter('EndTime must be after StartTime.');
  if (to - from >= 62 * DAY)
    throw invalidParameter('The requested time window must be shorter than 62 days.');
  const interval = body.availabilityViewInterval === undefined ? 30 : Number(body.availabilityViewInterval);
  if (!Number.isInteger(interval) || interval < 5 || interval > 1440) {
    throw invalidParameter('availabilityViewInterval must be between 5 and 1440 minutes.');
  }
  return (schedules as string[]).map((scheduleId) => {
    // Rooms are mailboxes too (room mailboxes): their free/busy comes from their bookings.
    const room = findRoom(store, scheduleId);
    const user: ScheduleMailbox | undefined = directory.findUser(scheduleId) ?? (room && roomMailbox(room));
    if (!user) {
      // An unknown address is reported in its own entry; the call still succeeds (§8.2).
      return {
        scheduleId,
        availabilityView: '',
        scheduleItems: [],
        error: {
          message: `The mailbox for '${scheduleId}' could not be found.`,
          responseCode: 'ErrorMailRecipientNotFound',
        },
      };
    }
    const blocks = busyBlocks(store, user, from, to);
    let view0 = '';
    for (let t = from; t < to; t += interval * 60_000) {
      const slotEnd = Math.min(t + interval * 60_000, to);
      view0 += DIGIT[strongest(blocks.filter((b) => b.startMs < slotEnd && b.endMs > t))] ?? '2';
    }
    // Others' subjects and locations depend on their sharing; the default organisation sharing
    // is free/busy only, so only the caller's own schedule shows them (outlook-get-free-busy-schedule.md).
    const own = caller?.id === user.id;
    return {
      scheduleId,
      availabilityView: view0,
      scheduleItems: blocks.map((b) => ({
        isPrivate: b.isPrivate,
        status: b.status,
        ...(own && !b.isPrivate ? { subject: b.subject, location: b.location } : {}),
        start: toDateTimeTimeZone(b.startMs, view.zone, view.name),
        end: toDateTimeTimeZone(b.endMs, view.zone, view.name),
      })),
      workingHours: workingHours(user),
    };
  });
}

// ---------------------------------------------------------------- findMeetingTimes

interface Participant {
  type: string;
  address: string;
  name: string;
  user?: ScheduleMailbox;
}

const STEP = 30 * 60_000;

/** Whether [s, e) lies inside the user's working hours on one of their working days. */
function inWorkingHours(user: Pick<SandboxUser, 'timeZone' | 'workingHours'>, s: number, e: number): boolean {
  const local = DateTime.fromMillis(s, { zone: user.timeZone });
  const days = user.workingHours.daysOfWeek.map(weekdayNumber);
  if (!days.includes(local.weekday)) return false;
  const day = local.toISODate() as string;
  const at = (t: string) => DateTime.fromISO(`${day}T${t.slice(0, 8)}`, { zone: user.timeZone }).toMillis();
  return s >= at(user.workingHours.startTime) && e <= at(user.workingHours.endTime);
}

function availability(store: ChangeStore, p: Participant, s: number, e: number): string {
  if (!p.user) return 'unknown';
  const blocks = busyBlocks(store, p.user, s, e);
  return blocks.length === 0 ? 'free' : strongest(blocks);
}

/** Chance of attendance: free 100, unknown 49, otherwise 0 (user-findmeetingtimes.md). */
function chance(status: string): number {
  if (status === 'free' || status === 'workingElsewhere') return 100;
  if (status === 'unknown') return 49;
  return 0;
}

/** POST /me/findMeetingTimes (delegated only): suggestions or the reason there are none. */
export function findMeetingTimes(
  store: ChangeStore,
  directory: Directory,
  organizer: SandboxUser,
  body: Record<string, unknown>,
  view: EventView,
  now: number,
): Record<string, unknown> {
  const duration =
    body.meetingDuration === undefined
      ? Duration.fromObject({ minutes: 30 })
      : Duration.fromISO(str(body.meetingDuration));
  if (!duration.isValid || duration.as('milliseconds') <= 0)
    throw invalidParameter('meetingDuration must be an ISO 8601 duration such as PT1H.');
  const length = duration.as('milliseconds');
  const rawAttendees = Array.isArray(body.attendees)
    ? (body.attendees as Array<Record<string, unknown>>)
    : [];
  const participants: Participant[] = rawAttendees.map((a) => {
    const email = (a.emailAddress ?? {}) as { address?: string; name?: string };
    const address = String(email.address ?? '');
    const room = findRoom(store, address);
    const user: ScheduleMailbox | undefined = directory.findUser(address) ?? (room && roomMailbox(room));
    return {
      type: str(a.type, 'required').toLowerCase(),
      address,
      name: email.name ?? user?.displayName ?? address,
      ...(user ? { user } : {}),
    };
  });
  const constraint = (body.timeConstraint ?? {}) as {
    activityDomain?: string;
    timeSlots?: unknown[];
    timeslots?: unknown[];
  };
  const domain = String(constraint.activityDomain ?? 'work').toLowerCase();
  const rawSlots = constraint.timeSlots ?? constraint.timeslots;
  const slots =
    Array.isArray(rawSlots) && rawSlots.length > 0
      ? rawSlots.map((slot) => {
          const s = slot as { start?: unknown; end?: unknown };
          return {
            from: parseDateTimeTimeZone(s.start, 'Start').ms,
            to: parseDateTimeTimeZone(s.end, 'End').ms,
          };
        })
      : [{ from: now, to: now + 2 * DAY }];
  const minimum = body.minimumAttendeePercentage === undefined ? 50 : Number(body.minimumAttendeePercentage);
  const maxCandidates = body.maxCandidates === undefined ? 5 : Math.max(0, Number(body.maxCandidates));
  const organizerOptional = body.isOrganizerOptional === true;
  const returnReasons = body.returnSuggestionReasons === true;
  const organizerP: Participant = {
    type: 'required',
    address: organizer.mail,
    name: organizer.displayName,
    user: organizer,
  };
  // "work" keeps to the working hours of the organizer and every known required attendee.
  const hoursOf = [
    organizer,
    ...participants.filter((p) => p.type === 'required' && p.user).map((p) => p.user as ScheduleMailbox),
  ];

  const suggestions: Array<{
    s: number;
    e: number;
    confidence: number;
    organizer: string;
    attendees: Array<{ p: Participant; availability: string }>;
  }> = [];
  let candidates = 0;
  let organizerBusy = 0;
  for (const slot of slots) {
    for (let s = Math.ceil(slot.from / STEP) * STEP; s + length <= slot.to; s += STEP) {
      const e = s + length;
      if (domain === 'work' && !hoursOf.every((u) => inWorkingHours(u, s, e))) continue;
      candidates += 1;
      const organizerAvailability = availability(store, organizerP, s, e);
      if (!organizerOptional && chance(organizerAvailability) < 100) {
        organizerBusy += 1;
        continue;
      }
      const attendees = participants.map((p) => ({ p, availability: availability(store, p, s, e) }));
      const counted = attendees.filter((a) => a.p.type !== 'resource');
      const confidence =
        counted.length === 0
          ? 100
          : counted.reduce((sum, a) => sum + chance(a.availability), 0) / counted.length;
      if (confidence < minimum || confidence === 0) continue;
      suggestions.push({ s, e, confidence, organizer: organizerAvailability, attendees });
    }
  }
  // "ordered by confidence, then time" (reference §8.2).
  suggestions.sort((a, b) => b.confidence - a.confidence || a.s - b.s);
  const chosen = suggestions.slice(0, maxCandidates);
  let reason = '';
  if (chosen.length === 0) {
    if (candidates > 0 && organizerBusy === candidates) reason = 'organizerUnavailable';
    else if (participants.some((p) => !p.user)) reason = 'attendeesUnavailableOrUnknown';
    else if (candidates === 0) reason = 'unknown';
    else reason = 'attendeesUnavailable';
  }
  return {
    emptySuggestionsReason: reason,
    meetingTimeSuggestions: chosen.map((c, i) => ({
      confidence: c.confidence,
      order: i + 1,
      organizerAvailability: c.organizer,
      suggestionReason: !returnReasons
        ? ''
        : c.confidence === 100
          ? 'Suggested because it is one of the nearest times when all attendees are available.'
          : 'Suggested because it is one of the nearest times when most attendees are available.',
      attendeeAvailability: c.attendees.map((a) => ({
        attendee: { type: a.p.type, emailAddress: { name: a.p.name, address: a.p.address } },
        availability: a.availability,
      })),
      locations: [],
      meetingTimeSlot: {
        start: toDateTimeTimeZone(c.s, view.zone, view.name),
        end: toDateTimeTimeZone(c.e, view.zone, view.name),
      },
    })),
  };
}
