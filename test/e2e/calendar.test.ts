/**
 * Calendar actions end to end against the sandbox: times in and out with their zones (DST, all-day),
 * recurring series and single occurrences, invitations, responses and cancellation, getSchedule
 * and findMeetingTimes, and the error paths. Each [EMU]-backed expectation cites
 * ../shared/reference/graph-behaviour.md §8.2 and the Microsoft page.
 */
import { startTestApp, type TestApp } from '../support/app';

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let t: TestApp;
let adele: string;
let megan: string;

interface Time {
  dateTime: string;
  timeZone: string;
  utc: string;
}
interface Event {
  id: string;
  type: string;
  seriesMasterId: string | null;
  subject: string;
  start: Time & { date?: string };
  end: Time & { date?: string };
  isAllDay: boolean;
  isCancelled: boolean;
  isOrganizer: boolean;
  myResponse: string;
  onlineMeetingUrl: string | null;
  attendees: Array<{ email: string; response: string }>;
}

async function call<T = unknown>(
  user: string,
  action: string,
  input: unknown,
  headers?: Record<string, string>,
): Promise<{ status: number; body: T }> {
  const res = await t.call(user, 'POST', `/calendar/${action}`, input, headers);
  return { status: res.status, body: (await res.json()) as T };
}

async function ok<T>(
  user: string,
  action: string,
  input: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  const res = await call<T>(user, action, input, headers);
  if (res.status >= 300) throw new Error(`${action} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  t = await startTestApp();
  for (const name of ['alice', 'bob', 'carol']) {
    t.sandbox.directory.addUser({
      userPrincipalName: `${name}@contoso.test`,
      displayName: `${name} e2e`,
      timeZone: 'Europe/Berlin',
    });
  }
  adele = await t.connect(ADELE, { features: ['calendar'] });
  megan = await t.connect(MEGAN, { features: ['calendar'] });
});
afterAll(async () => await t.stop());

describe('time zones', () => {
  test('09:00 Berlin the day after the DST switch reads back as 09:00 Berlin and the right UTC instant', async () => {
    const created = await ok<Event>(adele, 'createEvent', {
      subject: 'After DST',
      start: { dateTime: '2025-03-31T09:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-31T10:00:00', timeZone: 'Europe/Berlin' },
      timeZone: 'Europe/Berlin',
    });
    expect(created.start).toEqual({
      dateTime: '2025-03-31T09:00:00',
      timeZone: 'Europe/Berlin',
      utc: '2025-03-31T07:00:00Z',
    });
    // The request's zone (X-Timezone) applies when the input names none; default UTC, never server-local.
    const ny = await ok<Event>(
      adele,
      'getEvent',
      { eventId: created.id },
      { 'x-timezone': 'America/New_York' },
    );
    expect(ny.start).toEqual({
      dateTime: '2025-03-31T03:00:00',
      timeZone: 'America/New_York',
      utc: '2025-03-31T07:00:00Z',
    });
    const utc = await ok<Event>(adele, 'getEvent', { eventId: created.id });
    expect(utc.start).toEqual({
      dateTime: '2025-03-31T07:00:00',
      timeZone: 'UTC',
      utc: '2025-03-31T07:00:00Z',
    });
    // Windows zone names are accepted on input too.
    const windows = await ok<Event>(adele, 'createEvent', {
      subject: 'Windows zone',
      start: { dateTime: '2025-03-29T09:00:00', timeZone: 'W. Europe Standard Time' },
      end: { dateTime: '2025-03-29T09:30:00', timeZone: 'W. Europe Standard Time' },
    });
    expect(windows.start.utc).toBe('2025-03-29T08:00:00Z');
  });

  test('an all-day event stays on its date in any requested zone', async () => {
    const created = await ok<Event>(adele, 'createEvent', {
      subject: 'Offsite',
      start: { date: '2025-04-10' },
      end: { date: '2025-04-11' },
      showAs: 'oof',
    });
    expect(created.isAllDay).toBe(true);
    expect(created.start).toEqual({ date: '2025-04-10' });
    for (const zone of ['Pacific/Auckland', 'America/Los_Angeles']) {
      const page = await ok<{ items: Event[] }>(adele, 'listEvents', {
        start: { date: '2025-04-10' },
        end: { date: '2025-04-11' },
        timeZone: zone,
      });
      const found = page.items.find((e) => e.id === created.id);
      expect(found?.start).toEqual({ date: '2025-04-10' });
      expect(found?.end).toEqual({ date: '2025-04-11' });
    }
  });

  test('times without a zone or offset, unknown zones and inverted windows are invalid_input naming the field', async () => {
    const noOffset = await call<{ code: string; errors: Array<{ field: string }> }>(adele, 'createEvent', {
      subject: 'x',
      start: '2025-03-31T09:00:00',
      end: '2025-03-31T10:00:00Z',
    });
    expect(noOffset.status).toBe(400);
    expect(noOffset.body.errors.map((e) => e.field)).toContain('start');
    const badZone = await call<{ errors: Array<{ field: string }> }>(adele, 'createEvent', {
      subject: 'x',
      start: { dateTime: '2025-03-31T09:00:00', timeZone: 'Mars/Base' },
      end: { dateTime: '2025-03-31T10:00:00', timeZone: 'Europe/Berlin' },
    });
    expect(badZone.status).toBe(400);
    expect(badZone.body.errors.map((e) => e.field).join()).toContain('start');
    const inverted = await call<{ errors: Array<{ field: string }> }>(adele, 'listEvents', {
      start: '2025-04-02T00:00:00Z',
      end: '2025-04-01T00:00:00Z',
    });
    expect(inverted.status).toBe(400);
    expect(inverted.body.errors[0]!.field).toBe('end');
    const missing = await call<{ errors: Array<{ field: string }> }>(adele, 'listEvents', {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['start', 'end']));
  });
});

describe('series and occurrences', () => {
  test('a weekly series appears expanded in listEvents; editing one occurrence leaves the others', async () => {
    const master = await ok<Event>(adele, 'createEvent', {
      subject: 'Weekly 1:1',
      start: { dateTime: '2025-03-17T10:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-17T10:30:00', timeZone: 'Europe/Berlin' },
      recurrence: { pattern: 'weekly', daysOfWeek: ['monday'], range: { type: 'numbered', occurrences: 4 } },
      teamsMeeting: true,
      reminderMinutesBeforeStart: 10,
      sensitivity: 'private',
    });
    expect(master.type).toBe('seriesMaster');
    expect(master.onlineMeetingUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);
    const window = { start: '2025-03-10T00:00:00Z', end: '2025-04-30T00:00:00Z', timeZone: 'Europe/Berlin' };
    const read = async () =>
      (await ok<{ items: Event[] }>(adele, 'listEvents', { ...window, pageSize: 100 })).items.filter(
        (e) => e.seriesMasterId === master.id,
      );
    const occurrences = await read();
    expect(occurrences.map((e) => e.start.dateTime)).toEqual([
      '2025-03-17T10:00:00',
      '2025-03-24T10:00:00',
      '2025-03-31T10:00:00',
      '2025-04-07T10:00:00',
    ]);
    // The same local time is a different UTC instant after DST (30 March 2025).
    expect(occurrences.map((e) => e.start.utc.slice(11, 16))).toEqual(['09:00', '09:00', '08:00', '08:00']);

    const moved = await ok<Event>(adele, 'updateEvent', {
      eventId: occurrences[1]!.id,
      subject: 'Weekly 1:1 (moved)',
      start: { dateTime: '2025-03-25T15:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-25T15:30:00', timeZone: 'Europe/Berlin' },
      timeZone: 'Europe/Berlin',
    });
    expect(moved.type).toBe('exception');
    await ok(adele, 'deleteEvent', { eventId: occurrences[3]!.id });
    const after = await read();
    expect(after.map((e) => [e.subject, e.start.dateTime])).toEqual([
      ['Weekly 1:1', '2025-03-17T10:00:00'],
      ['Weekly 1:1 (moved)', '2025-03-25T15:00:00'],
      ['Weekly 1:1', '2025-03-31T10:00:00'],
    ]);
    const instances = await ok<{ items: Event[] }>(adele, 'listEventInstances', {
      eventId: master.id,
      ...window,
    });
    expect(instances.items).toHaveLength(3);
  });

  test('listEvents pages with a cursor', async () => {
    const carol = await t.connect('carol@contoso.test', { features: ['calendar'] });
    for (let i = 1; i <= 3; i++) {
      await ok(carol, 'createEvent', {
        subject: `Page ${i}`,
        start: `2025-06-0${i}T12:00:00Z`,
        end: `2025-06-0${i}T13:00:00Z`,
      });
    }
    const first = await ok<{ items: Event[]; nextCursor?: string }>(carol, 'listEvents', {
      start: '2025-06-01T00:00:00Z',
      end: '2025-06-30T00:00:00Z',
      pageSize: 2,
    });
    expect(first.items.map((e) => e.subject)).toEqual(['Page 1', 'Page 2']);
    expect(first.nextCursor).toBeDefined();
    const second = await ok<{ items: Event[]; nextCursor?: string }>(carol, 'listEvents', {
      cursor: first.nextCursor,
    });
    expect(second.items.map((e) => e.subject)).toEqual(['Page 3']);
    expect(second.nextCursor).toBeUndefined();
  });

  test('an Idempotency-Key replays the first create instead of making a second event', async () => {
    const input = {
      subject: 'Once',
      start: '2025-08-01T09:00:00Z',
      end: '2025-08-01T09:30:00Z',
    };
    const a = await t.call(adele, 'POST', '/calendar/createEvent', input, {
      'idempotency-key': 'cal-once-1',
    });
    const b = await t.call(adele, 'POST', '/calendar/createEvent', input, {
      'idempotency-key': 'cal-once-1',
    });
    expect(a.status).toBe(201);
    expect(((await b.json()) as Event).id).toBe(((await a.json()) as Event).id);
  });
});

describe('meetings', () => {
  test('invite, respond with a comment, and cancel as organizer with a message', async () => {
    const meeting = await ok<Event>(adele, 'createEvent', {
      subject: 'Roadmap review',
      start: { dateTime: '2025-10-06T15:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-10-06T16:00:00', timeZone: 'Europe/Berlin' },
      attendees: [{ email: MEGAN, type: 'required' }],
      location: 'Room 1',
    });
    const inbox = await ok<{ items: Event[] }>(megan, 'listEvents', {
      start: { date: '2025-10-06' },
      end: { date: '2025-10-07' },
      timeZone: 'America/New_York',
    });
    const copy = inbox.items.find((e) => e.subject === 'Roadmap review')!;
    expect(copy.isOrganizer).toBe(false);
    expect(copy.myResponse).toBe('notResponded');
    expect(copy.start.dateTime).toBe('2025-10-06T09:00:00');

    expect(
      await ok(megan, 'respondToEvent', { eventId: copy.id, response: 'accept', comment: 'See you' }),
    ).toEqual({
      eventId: copy.id,
      response: 'accepted',
    });
    const organizerView = await ok<Event>(adele, 'getEvent', { eventId: meeting.id });
    expect(organizerView.attendees).toEqual([
      expect.objectContaining({ email: MEGAN, response: 'accepted' }),
    ]);

    // Organizers cannot respond to their own meeting; attendees cannot cancel it (Graph answers 400).
    const own = await call<{ code: string }>(adele, 'respondToEvent', {
      eventId: meeting.id,
      response: 'decline',
    });
    expect(own.status).toBe(400);
    const notOrganizer = await call<{ code: string }>(megan, 'cancelEvent', {
      eventId: copy.id,
      comment: 'no',
    });
    expect(notOrganizer.status).toBe(400);
    expect(notOrganizer.body.code).toBe('invalid_input');

    await ok(adele, 'cancelEvent', { eventId: meeting.id, comment: 'Moved to next quarter' });
    const gone = await call<{ code: string }>(adele, 'getEvent', { eventId: meeting.id });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('not_found');
    const cancelled = await ok<Event>(megan, 'getEvent', { eventId: copy.id });
    expect(cancelled.isCancelled).toBe(true);
  });
});

describe('availability', () => {
  test('getSchedule shows merged busy blocks of events created through the API and keeps per-person errors', async () => {
    const alice = await t.connect('alice@contoso.test', { features: ['calendar'] });
    const mk = async (subject: string, from: string, to: string, showAs = 'busy') =>
      await ok(alice, 'createEvent', {
        subject,
        showAs,
        start: { dateTime: `2025-11-03T${from}:00`, timeZone: 'Europe/Berlin' },
        end: { dateTime: `2025-11-03T${to}:00`, timeZone: 'Europe/Berlin' },
      });
    await mk('Dentist', '10:00', '11:00');
    await mk('Overlap', '10:30', '11:30', 'tentative');
    await mk('Later', '14:00', '15:00', 'oof');
    const res = await ok<{
      people: Array<{
        email: string;
        availabilityView: string;
        busy: Array<{ start: Time; end: Time; status: string }>;
        workingHours: { timeZone: string } | null;
        error: { code: string } | null;
      }>;
    }>(adele, 'getSchedule', {
      people: ['alice@contoso.test', 'nobody@contoso.test'],
      start: { dateTime: '2025-11-03T09:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-11-03T17:00:00', timeZone: 'Europe/Berlin' },
      intervalMinutes: 60,
      timeZone: 'Europe/Berlin',
    });
    const [a, nobody] = res.people;
    expect(a!.busy.map((b) => [b.start.dateTime, b.end.dateTime, b.status])).toEqual([
      ['2025-11-03T10:00:00', '2025-11-03T11:30:00', 'busy'],
      ['2025-11-03T14:00:00', '2025-11-03T15:00:00', 'oof'],
    ]);
    expect(a!.busy[0]!.start.utc).toBe('2025-11-03T09:00:00Z');
    // One digit per hour 09–17: busy 10–11, tentative overlap into 11–12, oof 14–15.
    expect(a!.availabilityView).toBe('02100300');
    expect(a!.workingHours?.timeZone).toBe('Europe/Berlin');
    expect(a!.error).toBeNull();
    expect(nobody!.error?.code).toBeTruthy();

    const tooLong = await call<{ errors: Array<{ field: string }> }>(adele, 'getSchedule', {
      people: ['alice@contoso.test'],
      start: '2025-01-01T00:00:00Z',
      end: '2025-04-01T00:00:00Z',
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0]!.field).toBe('end');
  });

  test('findMeetingTimes returns the one slot free for three attendees, with the reason when nothing fits', async () => {
    const bob = await t.connect('bob@contoso.test', { features: ['calendar'] });
    const carol = await t.connect('carol@contoso.test', { features: ['calendar'] });
    const alice = await t.connect('alice@contoso.test', { features: ['calendar'] });
    const busy = async (user: string, from: string, to: string) =>
      await ok(user, 'createEvent', {
        subject: 'Busy',
        start: { dateTime: `2025-11-05T${from}:00`, timeZone: 'Europe/Berlin' },
        end: { dateTime: `2025-11-05T${to}:00`, timeZone: 'Europe/Berlin' },
      });
    await busy(alice, '09:00', '10:00');
    await busy(bob, '11:00', '12:00');
    await busy(carol, '08:00', '09:30');
    const input = (end: string) => ({
      attendees: ['alice', 'bob', 'carol'].map((n) => ({ email: `${n}@contoso.test` })),
      durationMinutes: 60,
      start: { dateTime: '2025-11-05T09:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: `2025-11-05T${end}:00`, timeZone: 'Europe/Berlin' },
      timeZone: 'Europe/Berlin',
    });
    const found = await ok<{
      suggestions: Array<{ start: Time; end: Time; attendees: Array<{ availability: string }> }>;
      emptyReason: string | null;
    }>(adele, 'findMeetingTimes', input('12:00'));
    expect(found.emptyReason).toBeNull();
    expect(found.suggestions).toHaveLength(1);
    expect(found.suggestions[0]!.start).toEqual({
      dateTime: '2025-11-05T10:00:00',
      timeZone: 'Europe/Berlin',
      utc: '2025-11-05T09:00:00Z',
    });
    expect(found.suggestions[0]!.attendees.every((a) => a.availability === 'free')).toBe(true);

    const none = await ok<{ suggestions: unknown[]; emptyReason: string; explanation: string }>(
      adele,
      'findMeetingTimes',
      input('10:30'),
    );
    expect(none.suggestions).toEqual([]);
    expect(none.emptyReason).toBe('attendeesUnavailable');
    expect(none.explanation).toContain('busy');
  });
});

describe('errors and rights', () => {
  test('unknown events are not_found; a connection without the calendar feature is feature_not_granted', async () => {
    const missing = await call<{ code: string }>(adele, 'getEvent', { eventId: 'AAMkAGdoesnotexist' });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('not_found');
    const lee = await t.connect('lee.gu@contoso.test', { features: ['mail'] });
    const denied = await call<{ code: string }>(lee, 'listCalendars', {});
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('feature_not_granted');
  });

  test('listCalendars shows the default calendar', async () => {
    const page = await ok<{ items: Array<{ id: string; name: string; isDefault: boolean }> }>(
      adele,
      'listCalendars',
      {},
    );
    expect(page.items.find((c) => c.isDefault)?.name).toBe('Calendar');
  });
});
