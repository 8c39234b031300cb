/**
 * The sandbox calendar through the real @microsoft/microsoft-graph-client: events across time
 * zones and DST, all-day events, recurrence expansion and exceptions, calendarView paging and
 * delta, meeting responses and cancellation, getSchedule and findMeetingTimes. Each [EMU] rule
 * cites ../shared/reference/graph-behaviour.md §8.2 and the Microsoft page it comes from.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { startTestSandbox, graphClientFor, graphFailure, mintToken } from '../support/sandbox';

let sandbox: Sandbox;
const RW = ['Calendars.ReadWrite', 'Calendars.Read.Shared'];

const tokenFor = (user: string, scopes: string[] = RW) => mintToken(sandbox, user, scopes);

async function client(user: string, scopes: string[] = RW): Promise<Client> {
  return graphClientFor(sandbox, await tokenFor(user, scopes));
}

interface Ev {
  id: string;
  subject: string;
  type: string;
  seriesMasterId?: string | null;
  isAllDay: boolean;
  isCancelled: boolean;
  start: { dateTime: string; timeZone: string };
  end: { dateTime: string; timeZone: string };
  responseStatus: { response: string };
  attendees: Array<{ emailAddress: { address: string }; status: { response: string } }>;
}

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';

beforeAll(async () => {
  sandbox = await startTestSandbox();
  for (const name of ['alice', 'bob', 'carol']) {
    sandbox.directory.addUser({
      userPrincipalName: `${name}@contoso.test`,
      displayName: `${name[0]!.toUpperCase()}${name.slice(1)} Test`,
      timeZone: 'Europe/Berlin',
    });
  }
});
afterAll(async () => await sandbox.stop());

describe('time zones', () => {
  test('09:00 Berlin the day after the DST switch reads back as 09:00 Berlin and 07:00 UTC', async () => {
    // §8.2 (user-post-events.md): start/end come back in the Prefer: outlook.timezone zone,
    // default UTC. Europe/Berlin moved to CEST (UTC+2) on 2025-03-30.
    const g = await client(ADELE);
    const created = (await g.api('/me/events').post({
      subject: 'After DST',
      start: { dateTime: '2025-03-31T09:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-31T10:00:00', timeZone: 'Europe/Berlin' },
    })) as Ev;
    expect(created.start).toEqual({ dateTime: '2025-03-31T07:00:00.0000000', timeZone: 'UTC' });

    const berlin = (await g
      .api(`/me/events/${created.id}`)
      .header('Prefer', 'outlook.timezone="Europe/Berlin"')
      .get()) as Ev;
    expect(berlin.start).toEqual({ dateTime: '2025-03-31T09:00:00.0000000', timeZone: 'Europe/Berlin' });

    // Windows names work in Prefer too, and Preference-Applied echoes it (§4.2).
    const res = await fetch(`${sandbox.graphBaseUrl}/me/events/${created.id}`, {
      headers: {
        authorization: `Bearer ${await tokenFor(ADELE)}`,
        prefer: 'outlook.timezone="Pacific Standard Time"',
      },
    });
    expect(res.headers.get('preference-applied')).toBe('outlook.timezone="Pacific Standard Time"');
    const pacific = (await res.json()) as Ev;
    expect(pacific.start).toEqual({
      dateTime: '2025-03-31T00:00:00.0000000',
      timeZone: 'Pacific Standard Time',
    });
  });

  test('the day before the switch the same local time is 08:00 UTC', async () => {
    const g = await client(ADELE);
    const created = (await g.api('/me/events').post({
      subject: 'Before DST',
      start: { dateTime: '2025-03-29T09:00:00', timeZone: 'W. Europe Standard Time' },
      end: { dateTime: '2025-03-29T09:30:00', timeZone: 'W. Europe Standard Time' },
    })) as Ev & { originalStartTimeZone: string };
    expect(created.start.dateTime).toBe('2025-03-29T08:00:00.0000000');
    expect(created.originalStartTimeZone).toBe('W. Europe Standard Time');
  });

  test('an unknown zone is 400 TimeZoneNotSupportedException', async () => {
    // Observed: https://github.com/microsoftgraph/microsoft-graph-docs/issues/4758
    const g = await client(ADELE);
    const err = await graphFailure(
      g.api('/me/events').post({
        subject: 'x',
        start: { dateTime: '2025-03-31T09:00:00', timeZone: 'Mars/Olympus_Mons' },
        end: { dateTime: '2025-03-31T10:00:00', timeZone: 'Mars/Olympus_Mons' },
      }),
    );
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('TimeZoneNotSupportedException');
  });

  test('an all-day event stays on its date in any requested zone', async () => {
    const g = await client(ADELE);
    const created = (await g.api('/me/events').post({
      subject: 'Offsite',
      isAllDay: true,
      start: { dateTime: '2025-04-10T00:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-04-11T00:00:00', timeZone: 'Europe/Berlin' },
    })) as Ev;
    for (const zone of ['Pacific/Auckland', 'America/Los_Angeles', 'UTC']) {
      const page = (await g
        .api('/me/calendarView')
        .query({ startDateTime: '2025-04-10T00:00:00', endDateTime: '2025-04-11T00:00:00' })
        .header('Prefer', `outlook.timezone="${zone}"`)
        .top(50)
        .get()) as { value: Ev[] };
      const found = page.value.find((e) => e.id === created.id);
      expect(found?.start).toEqual({ dateTime: '2025-04-10T00:00:00.0000000', timeZone: zone });
      expect(found?.end.dateTime).toBe('2025-04-11T00:00:00.0000000');
    }
    const err = await graphFailure(
      g.api('/me/events').post({
        subject: 'bad all-day',
        isAllDay: true,
        start: { dateTime: '2025-04-10T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2025-04-11T00:00:00', timeZone: 'UTC' },
      }),
    );
    expect(err.statusCode).toBe(400);
  });
});

describe('calendarView and recurrence', () => {
  test('calendarView needs startDateTime and endDateTime', async () => {
    // §8.2; wording observed in https://github.com/microsoftgraph/microsoft-graph-docs/issues/57
    const g = await client(ADELE);
    const err = await graphFailure(g.api('/me/calendarView').get());
    expect(err.statusCode).toBe(400);
    expect(err.code).toBe('ErrorInvalidParameter');
    expect(err.message).toContain('StartDateTime and EndDateTime');
  });

  test('a weekly series is expanded, keeps its local time over DST, and one edited occurrence leaves the others', async () => {
    const g = await client(MEGAN);
    const master = (await g.api('/me/events').post({
      subject: 'Weekly sync',
      start: { dateTime: '2025-03-17T10:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-17T10:30:00', timeZone: 'Europe/Berlin' },
      recurrence: {
        pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] },
        range: { type: 'numbered', startDate: '2025-03-17', numberOfOccurrences: 4 },
      },
    })) as Ev;
    expect(master.type).toBe('seriesMaster');

    const window = { startDateTime: '2025-03-01T00:00:00Z', endDateTime: '2025-05-01T00:00:00Z' };
    const read = async (zone: string) =>
      (
        (await g
          .api('/me/calendarView')
          .query(window)
          .header('Prefer', `outlook.timezone="${zone}"`)
          .top(50)
          .get()) as { value: Ev[] }
      ).value.filter((e) => e.seriesMasterId === master.id);
    const utc = await read('UTC');
    expect(utc.map((e) => e.start.dateTime)).toEqual([
      '2025-03-17T09:00:00.0000000',
      '2025-03-24T09:00:00.0000000',
      '2025-03-31T08:00:00.0000000', // CEST from 30 March
      '2025-04-07T08:00:00.0000000',
    ]);
    expect(utc.every((e) => e.type === 'occurrence')).toBe(true);
    const local = await read('Europe/Berlin');
    expect(local.every((e) => e.start.dateTime.endsWith('T10:00:00.0000000'))).toBe(true);

    // Edit the second occurrence only: it becomes an exception, the others keep their time.
    const second = utc[1]!;
    const edited = (await g.api(`/me/events/${second.id}`).patch({
      subject: 'Weekly sync (moved)',
      start: { dateTime: '2025-03-25T14:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-03-25T14:30:00', timeZone: 'Europe/Berlin' },
    })) as Ev;
    expect(edited.type).toBe('exception');
    // Delete the fourth one.
    await g.api(`/me/events/${utc[3]!.id}`).delete();
    const after = await read('Europe/Berlin');
    expect(after.map((e) => [e.type, e.subject, e.start.dateTime])).toEqual([
      ['occurrence', 'Weekly sync', '2025-03-17T10:00:00.0000000'],
      ['exception', 'Weekly sync (moved)', '2025-03-25T14:00:00.0000000'],
      ['occurrence', 'Weekly sync', '2025-03-31T10:00:00.0000000'],
    ]);
    const deleted = await graphFailure(g.api(`/me/events/${utc[3]!.id}`).get());
    expect(deleted.statusCode).toBe(404);
    expect(deleted.code).toBe('ErrorItemNotFound');

    // A change to the series flows into the exception (it did not override body).
    await g.api(`/me/events/${master.id}`).patch({ body: { contentType: 'text', content: 'agenda' } });
    const exception = (await g
      .api(`/me/events/${second.id}`)
      .header('Prefer', 'outlook.body-content-type="text"')
      .get()) as { body: { content: string }; subject: string };
    expect(exception.body.content).toBe('agenda');
    expect(exception.subject).toBe('Weekly sync (moved)');

    // /instances lists the series in a window.
    const inst = (await g.api(`/me/events/${master.id}/instances`).query(window).get()) as { value: Ev[] };
    expect(inst.value).toHaveLength(3);
  });

  test('monthly and yearly patterns with ranges', async () => {
    const g = await client(MEGAN);
    const monthly = (await g.api('/me/events').post({
      subject: 'Board',
      start: { dateTime: '2025-01-14T15:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2025-01-14T16:00:00', timeZone: 'America/New_York' },
      recurrence: {
        // second Tuesday of each month until June
        pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['tuesday'], index: 'second' },
        range: { type: 'endDate', startDate: '2025-01-14', endDate: '2025-06-30' },
      },
    })) as Ev;
    const yearly = (await g.api('/me/events').post({
      subject: 'Anniversary',
      isAllDay: true,
      start: { dateTime: '2025-02-20T00:00:00', timeZone: 'UTC' },
      end: { dateTime: '2025-02-21T00:00:00', timeZone: 'UTC' },
      recurrence: {
        pattern: { type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 20 },
        range: { type: 'noEnd', startDate: '2025-02-20' },
      },
    })) as Ev;
    const page = (await g
      .api('/me/calendarView')
      .query({ startDateTime: '2025-01-01T00:00:00Z', endDateTime: '2027-01-01T00:00:00Z' })
      .header('Prefer', 'outlook.timezone="America/New_York"')
      .top(100)
      .get()) as { value: Ev[] };
    expect(
      page.value.filter((e) => e.seriesMasterId === monthly.id).map((e) => e.start.dateTime.slice(0, 10)),
    ).toEqual(['2025-01-14', '2025-02-11', '2025-03-11', '2025-04-08', '2025-05-13', '2025-06-10']);
    expect(page.value.filter((e) => e.seriesMasterId === yearly.id).map((e) => e.start.dateTime)).toEqual([
      '2025-02-20T00:00:00.0000000',
      '2026-02-20T00:00:00.0000000',
    ]);
  });

  test('calendarView pages with $skip and keeps the window in the nextLink', async () => {
    // §4.1: Outlook pages with $skip; the nextLink carries every original option.
    const g = await client('bob@contoso.test');
    for (let i = 0; i < 5; i++) {
      await g.api('/me/events').post({
        subject: `Item ${i}`,
        start: { dateTime: `2025-06-0${i + 1}T12:00:00`, timeZone: 'UTC' },
        end: { dateTime: `2025-06-0${i + 1}T13:00:00`, timeZone: 'UTC' },
      });
    }
    const first = (await g
      .api('/me/calendarView')
      .query({ startDateTime: '2025-06-01T00:00:00Z', endDateTime: '2025-06-30T00:00:00Z' })
      .top(2)
      .get()) as { value: Ev[]; '@odata.nextLink': string };
    expect(first.value.map((e) => e.subject)).toEqual(['Item 0', 'Item 1']);
    expect(first['@odata.nextLink']).toContain('$skip=2');
    expect(first['@odata.nextLink']).toContain('startDateTime=');
    const second = (await g.api(first['@odata.nextLink']).get()) as { value: Ev[] };
    expect(second.value.map((e) => e.subject)).toEqual(['Item 2', 'Item 3']);
  });

  test('calendarView delta: initial round in the window, then changes; $select is refused', async () => {
    // §5.2 (event-delta.md): window required first, carried by the token; no $select.
    const g = await client('carol@contoso.test');
    const q = { startDateTime: '2025-07-01T00:00:00Z', endDateTime: '2025-07-31T00:00:00Z' };
    const inWindow = (await g.api('/me/events').post({
      subject: 'July',
      start: { dateTime: '2025-07-02T12:00:00', timeZone: 'UTC' },
      end: { dateTime: '2025-07-02T13:00:00', timeZone: 'UTC' },
    })) as Ev;
    await g.api('/me/events').post({
      subject: 'August',
      start: { dateTime: '2025-08-02T12:00:00', timeZone: 'UTC' },
      end: { dateTime: '2025-08-02T13:00:00', timeZone: 'UTC' },
    });
    const initial = (await g.api('/me/calendarView/delta').query(q).get()) as {
      value: Ev[];
      '@odata.deltaLink': string;
    };
    expect(initial.value.map((e) => e.subject)).toEqual(['July']);
    await g.api(`/me/events/${inWindow.id}`).patch({ subject: 'July (renamed)' });
    const round = (await g.api(initial['@odata.deltaLink']).get()) as { value: Ev[] };
    expect(round.value.map((e) => e.subject)).toEqual(['July (renamed)']);
    const missing = await graphFailure(g.api('/me/calendarView/delta').get());
    expect(missing.statusCode).toBe(400);
    const select = await graphFailure(g.api('/me/calendarView/delta').query(q).select('subject').get());
    expect(select.statusCode).toBe(400);
  });
});

describe('events: errors and permissions', () => {
  test('unknown ids are 404 ErrorItemNotFound; a read-only token cannot create', async () => {
    const g = await client(ADELE);
    const err = await graphFailure(g.api('/me/events/AAMkAGnope').get());
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ErrorItemNotFound');
    const ro = await client(ADELE, ['Calendars.Read']);
    const denied = await graphFailure(
      ro.api('/me/events').post({
        subject: 'x',
        start: { dateTime: '2025-03-31T09:00:00', timeZone: 'UTC' },
        end: { dateTime: '2025-03-31T10:00:00', timeZone: 'UTC' },
      }),
    );
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe('ErrorAccessDenied');
  });

  test('a second calendar takes events of its own; a retried POST with the same transactionId makes one event', async () => {
    const g = await client(ADELE);
    const cal = (await g.api('/me/calendars').post({ name: 'Side projects' })) as { id: string };
    const body = {
      subject: 'Side',
      transactionId: 'tx-1',
      start: { dateTime: '2025-09-01T09:00:00', timeZone: 'UTC' },
      end: { dateTime: '2025-09-01T10:00:00', timeZone: 'UTC' },
    };
    const a = (await g.api(`/me/calendars/${cal.id}/events`).post(body)) as Ev;
    const b = (await g.api(`/me/calendars/${cal.id}/events`).post(body)) as Ev;
    expect(b.id).toBe(a.id);
    const list = (await g.api(`/me/calendars/${cal.id}/events`).get()) as { value: Ev[] };
    expect(list.value.map((e) => e.subject)).toEqual(['Side']);
    const dup = await graphFailure(g.api('/me/calendars').post({ name: 'side projects' }));
    expect(dup.statusCode).toBe(409);
  });
});

describe('meetings', () => {
  test('an invitation lands in the attendee calendar; responses update the organizer; cancel clears it', async () => {
    const adele = await client(ADELE);
    const megan = await client(MEGAN);
    const meeting = (await adele.api('/me/events').post({
      subject: 'Planning',
      start: { dateTime: '2025-10-06T15:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-10-06T16:00:00', timeZone: 'Europe/Berlin' },
      attendees: [{ type: 'required', emailAddress: { address: MEGAN } }],
      isOnlineMeeting: true,
      onlineMeetingProvider: 'teamsForBusiness',
    })) as Ev & { onlineMeeting: { joinUrl: string } };
    expect(meeting.onlineMeeting.joinUrl).toMatch(/^https:\/\/teams\.microsoft\.com\//);

    const view = { startDateTime: '2025-10-06T00:00:00Z', endDateTime: '2025-10-07T00:00:00Z' };
    const meganView = (await megan
      .api('/me/calendarView')
      .query(view)
      .header('Prefer', 'outlook.timezone="America/New_York"')
      .get()) as { value: Array<Ev & { isOrganizer: boolean }> };
    const copy = meganView.value.find((e) => e.subject === 'Planning')!;
    expect(copy.isOrganizer).toBe(false);
    expect(copy.responseStatus.response).toBe('notResponded');
    expect(copy.start.dateTime).toBe('2025-10-06T09:00:00.0000000');

    // Organizers cannot respond to their own meeting.
    const own = await graphFailure(adele.api(`/me/events/${meeting.id}/accept`).post({}));
    expect(own.statusCode).toBe(400);

    await megan.api(`/me/events/${copy.id}/tentativelyAccept`).post({ comment: 'maybe', sendResponse: true });
    let organizerView = (await adele.api(`/me/events/${meeting.id}`).get()) as Ev;
    expect(organizerView.attendees[0]!.status.response).toBe('tentativelyAccepted');

    // sendResponse: false → the organizer is not told.
    await megan.api(`/me/events/${copy.id}/decline`).post({ sendResponse: false });
    organizerView = (await adele.api(`/me/events/${meeting.id}`).get()) as Ev;
    expect(organizerView.attendees[0]!.status.response).toBe('tentativelyAccepted');
    await megan.api(`/me/events/${copy.id}/accept`).post({ comment: 'yes' });
    organizerView = (await adele.api(`/me/events/${meeting.id}`).get()) as Ev;
    expect(organizerView.attendees[0]!.status.response).toBe('accepted');

    // Only the organizer can cancel (event-cancel.md).
    const notMine = await graphFailure(megan.api(`/me/events/${copy.id}/cancel`).post({ comment: 'no' }));
    expect(notMine.statusCode).toBe(400);
    await adele.api(`/me/events/${meeting.id}/cancel`).post({ comment: 'Postponed' });
    const gone = await graphFailure(adele.api(`/me/events/${meeting.id}`).get());
    expect(gone.statusCode).toBe(404);
    const cancelled = (await megan.api(`/me/events/${copy.id}`).get()) as Ev;
    expect(cancelled.isCancelled).toBe(true);
    expect(cancelled.subject).toBe('Canceled: Planning');
  });
});

describe('availability', () => {
  test('getSchedule shows the busy blocks of events created through the API, with per-person errors', async () => {
    // §8.2 (calendar-getschedule.md): availabilityView digits, scheduleItems, unknown → error entry.
    const alice = await client('alice@contoso.test');
    await alice.api('/me/events').post({
      subject: 'Dentist',
      start: { dateTime: '2025-11-03T10:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-11-03T11:00:00', timeZone: 'Europe/Berlin' },
    });
    await alice.api('/me/events').post({
      subject: 'Maybe',
      showAs: 'tentative',
      start: { dateTime: '2025-11-03T11:00:00', timeZone: 'Europe/Berlin' },
      end: { dateTime: '2025-11-03T11:30:00', timeZone: 'Europe/Berlin' },
    });
    const adele = await client(ADELE);
    const res = (await adele
      .api('/me/calendar/getSchedule')
      .header('Prefer', 'outlook.timezone="Europe/Berlin"')
      .post({
        schedules: ['alice@contoso.test', 'nobody@contoso.test'],
        startTime: { dateTime: '2025-11-03T09:00:00', timeZone: 'W. Europe Standard Time' },
        endTime: { dateTime: '2025-11-03T12:00:00', timeZone: 'W. Europe Standard Time' },
        availabilityViewInterval: 30,
      })) as {
      value: Array<{
        scheduleId: string;
        availabilityView: string;
        scheduleItems: Array<{ status: string; subject?: string; start: { dateTime: string } }>;
        workingHours?: { timeZone: { name: string } };
        error?: { responseCode: string };
      }>;
    };
    const [a, nobody] = res.value;
    expect(a!.availabilityView).toBe('002210');
    expect(a!.scheduleItems.map((i) => [i.status, i.start.dateTime])).toEqual([
      ['busy', '2025-11-03T10:00:00.0000000'],
      ['tentative', '2025-11-03T11:00:00.0000000'],
    ]);
    // Another person's subjects stay hidden under the default free/busy sharing.
    expect(a!.scheduleItems[0]!.subject).toBeUndefined();
    expect(a!.workingHours?.timeZone.name).toBe('W. Europe Standard Time');
    expect(nobody!.error?.responseCode).toBeTruthy();

    const tooMany = await graphFailure(
      adele.api('/me/calendar/getSchedule').post({
        schedules: Array.from({ length: 21 }, (_, i) => `u${i}@contoso.test`),
        startTime: { dateTime: '2025-11-03T09:00:00', timeZone: 'UTC' },
        endTime: { dateTime: '2025-11-03T12:00:00', timeZone: 'UTC' },
      }),
    );
    expect(tooMany.statusCode).toBe(400);
  });

  test('findMeetingTimes returns the one slot free for three attendees, and says why when none fits', async () => {
    // §8.2 (user-findmeetingtimes.md). Working hours 09:00–17:00 Berlin for everyone here.
    const mk = async (user: string, subject: string, from: string, to: string): Promise<void> => {
      await (await client(user)).api('/me/events').post({
        subject,
        start: { dateTime: `2025-11-05T${from}:00`, timeZone: 'Europe/Berlin' },
        end: { dateTime: `2025-11-05T${to}:00`, timeZone: 'Europe/Berlin' },
      });
    };
    await mk('alice@contoso.test', 'A', '09:00', '10:00');
    await mk('bob@contoso.test', 'B', '11:00', '12:00');
    await mk('carol@contoso.test', 'C', '08:00', '09:30');
    const body = (slotEnd: string) => ({
      attendees: ['alice', 'bob', 'carol'].map((n) => ({
        type: 'required',
        emailAddress: { address: `${n}@contoso.test` },
      })),
      timeConstraint: {
        activityDomain: 'work',
        timeSlots: [
          {
            start: { dateTime: '2025-11-05T09:00:00', timeZone: 'Europe/Berlin' },
            end: { dateTime: `2025-11-05T${slotEnd}:00`, timeZone: 'Europe/Berlin' },
          },
        ],
      },
      meetingDuration: 'PT1H',
      minimumAttendeePercentage: 100,
    });
    const adele = await client(ADELE);
    const result = (await adele
      .api('/me/findMeetingTimes')
      .header('Prefer', 'outlook.timezone="Europe/Berlin"')
      .post(body('12:00'))) as {
      emptySuggestionsReason: string;
      meetingTimeSuggestions: Array<{
        confidence: number;
        meetingTimeSlot: { start: { dateTime: string; timeZone: string }; end: { dateTime: string } };
        attendeeAvailability: Array<{ availability: string }>;
      }>;
    };
    expect(result.emptySuggestionsReason).toBe('');
    expect(result.meetingTimeSuggestions).toHaveLength(1);
    expect(result.meetingTimeSuggestions[0]!.meetingTimeSlot.start).toEqual({
      dateTime: '2025-11-05T10:00:00.0000000',
      timeZone: 'Europe/Berlin',
    });
    expect(result.meetingTimeSuggestions[0]!.confidence).toBe(100);

    const none = (await adele.api('/me/findMeetingTimes').post(body('10:30'))) as typeof result;
    expect(none.meetingTimeSuggestions).toEqual([]);
    expect(none.emptySuggestionsReason).toBe('attendeesUnavailable');
  });
});
