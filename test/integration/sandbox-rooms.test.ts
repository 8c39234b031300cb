/**
 * The sandbox's rooms through the real @microsoft/microsoft-graph-client: the places API
 * (place-list.md, place-get.md) and rooms as mailboxes that answer meeting requests (a room
 * mailbox's Calendar Attendant defaults: accept when free, decline a conflict) and show busy in
 * getSchedule (calendar-getschedule.md: "schedules" may name rooms).
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { graphClientFor, graphFailure, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
const TIERGARTEN = 'tiergarten@contoso.test';
let sandbox: Sandbox;
let client: Client;
let megan: Client;

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  client = graphClientFor(
    sandbox,
    await mintToken(sandbox, ADELE, ['Place.Read.All', 'Calendars.ReadWrite']),
  );
  megan = graphClientFor(
    sandbox,
    await mintToken(sandbox, MEGAN, ['Place.Read.All', 'Calendars.ReadWrite', 'Calendars.Read.Shared']),
  );
});
afterAll(async () => await sandbox.stop());

test('rooms, room lists and the rooms of a list, which is named by its email address', async () => {
  const rooms = (await client.api('/places/microsoft.graph.room').get()) as Json;
  expect(rooms['@odata.context']).toMatch(/\$metadata#places\/microsoft\.graph\.room$/);
  const tiergarten = (rooms.value as Json[]).find((r) => r.emailAddress === TIERGARTEN)!;
  expect(tiergarten).toMatchObject({
    '@odata.type': '#microsoft.graph.room',
    displayName: 'Tiergarten',
    capacity: 10,
    building: 'Berlin',
    bookingType: 'standard',
  });
  const lists = (await client.api('/places/microsoft.graph.roomlist').get()) as Json;
  const berlin = (lists.value as Json[]).find((l) => l.displayName === 'Berlin office')!;
  expect(berlin['@odata.type']).toBe('#microsoft.graph.roomList');

  const inList = (await client
    .api(`/places/${encodeURIComponent(berlin.emailAddress as string)}/microsoft.graph.roomlist/rooms`)
    .get()) as Json;
  expect((inList.value as Json[]).map((r) => String(r.displayName)).sort()).toEqual([
    'Museumsinsel',
    'Spree',
    'Tiergarten',
  ]);
  // "you must specify the room list by its emailAddress property, not by its id" (place-list.md).
  const byId = await graphFailure(
    client.api(`/places/${String(berlin.id)}/microsoft.graph.roomlist/rooms`).get(),
  );
  expect(byId.statusCode).toBe(404);

  // $filter and $top work as on other collections; one place by id.
  const big = (await client.api('/places/microsoft.graph.room').filter('capacity ge 10').get()) as Json;
  expect((big.value as Json[]).every((r) => Number(r.capacity) >= 10)).toBe(true);
  expect((await client.api(`/places/${String(tiergarten.id)}`).get()) as Json).toMatchObject({
    emailAddress: TIERGARTEN,
  });
});

test('places need Place.Read.All', async () => {
  const without = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Calendars.ReadWrite']));
  const err = await graphFailure(without.api('/places/microsoft.graph.room').get());
  expect(err.statusCode).toBe(403);
});

const slot = (day: string, from: string, to: string) => ({
  start: { dateTime: `${day}T${from}:00`, timeZone: 'Europe/Berlin' },
  end: { dateTime: `${day}T${to}:00`, timeZone: 'Europe/Berlin' },
});

async function roomSchedule(day: string): Promise<Json> {
  const res = (await client.api('/me/calendar/getSchedule').post({
    schedules: [TIERGARTEN],
    startTime: { dateTime: `${day}T09:00:00`, timeZone: 'Europe/Berlin' },
    endTime: { dateTime: `${day}T12:00:00`, timeZone: 'Europe/Berlin' },
    availabilityViewInterval: 60,
  })) as Json;
  return (res.value as Json[])[0]!;
}

test('a room accepts a request for a free time, shows busy in getSchedule, declines a conflict, and is freed', async () => {
  const day = '2027-05-06';
  expect((await roomSchedule(day)).availabilityView).toBe('000');
  const created = (await client.api('/me/events').post({
    subject: 'Planning',
    ...slot(day, '10:00', '11:00'),
    attendees: [{ type: 'resource', emailAddress: { address: TIERGARTEN, name: 'Tiergarten' } }],
  })) as Json;
  // The POST is answered before the room has processed the request.
  expect((created.attendees as Json[])[0]!.status.response).toBe('none');
  const read = (await client.api(`/me/events/${String(created.id)}`).get()) as Json;
  expect((read.attendees as Json[])[0]!.status.response).toBe('accepted');
  expect((await roomSchedule(day)).availabilityView).toBe('020');

  // Another organizer asks for an overlapping time: the room declines and stays as it was.
  const clash = (await megan.api('/me/events').post({
    subject: 'Clash',
    ...slot(day, '10:30', '11:30'),
    attendees: [{ type: 'resource', emailAddress: { address: TIERGARTEN } }],
  })) as Json;
  const clashRead = (await megan.api(`/me/events/${String(clash.id)}`).get()) as Json;
  expect((clashRead.attendees as Json[])[0]!.status.response).toBe('declined');
  expect((await roomSchedule(day)).availabilityView).toBe('020');

  // Moving the meeting moves the booking; deleting it frees the room.
  await client.api(`/me/events/${String(created.id)}`).patch(slot(day, '09:00', '10:00'));
  expect((await roomSchedule(day)).availabilityView).toBe('200');
  await client.api(`/me/events/${String(created.id)}`).delete();
  expect((await roomSchedule(day)).availabilityView).toBe('000');
});

test('findMeetingTimes knows a room’s availability', async () => {
  const day = '2027-05-13';
  await client.api('/me/events').post({
    subject: 'Booked',
    ...slot(day, '10:00', '11:00'),
    attendees: [{ type: 'resource', emailAddress: { address: TIERGARTEN } }],
  });
  const res = (await megan.api('/me/findMeetingTimes').post({
    attendees: [{ type: 'resource', emailAddress: { address: TIERGARTEN } }],
    timeConstraint: {
      activityDomain: 'unrestricted',
      timeSlots: [slot(day, '10:00', '11:00')],
    },
    meetingDuration: 'PT1H',
    minimumAttendeePercentage: 0,
  })) as Json;
  const suggestion = (res.meetingTimeSuggestions as Json[])[0];
  expect(suggestion?.attendeeAvailability[0].availability).toBe('busy');
});
