/**
 * Shared calendars in the sandbox through the real @microsoft/microsoft-graph-client
 * (outlook-share-or-delegate-calendar.md, outlook-get-shared-events-calendars.md,
 * calendar-post-calendarpermissions.md): another user's events need Calendars.Read.Shared and a
 * role on that calendar; a calendar not shared answers 403 ErrorAccessDenied; roles decide what
 * shows; only the owner manages the permissions.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Sandbox } from '../../sandbox';
import { graphClientFor, graphFailure, mintToken, startTestSandbox } from '../support/sandbox';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ADELE = 'adele.vance@contoso.test';
const MEGAN = 'megan.bowen@contoso.test';
let sandbox: Sandbox;
let adele: Client;
let megan: Client;
let privateId: string;

beforeAll(async () => {
  sandbox = await startTestSandbox({ seed: true });
  adele = graphClientFor(
    sandbox,
    await mintToken(sandbox, ADELE, [
      'Calendars.ReadWrite',
      'Calendars.Read.Shared',
      'Calendars.ReadWrite.Shared',
    ]),
  );
  megan = graphClientFor(sandbox, await mintToken(sandbox, MEGAN, ['Calendars.ReadWrite']));
  await megan.api('/me/events').post({
    subject: 'Budget review',
    body: { contentType: 'text', content: 'Numbers for Q3.' },
    start: { dateTime: '2027-06-01T09:00:00', timeZone: 'UTC' },
    end: { dateTime: '2027-06-01T10:00:00', timeZone: 'UTC' },
    attendees: [{ type: 'required', emailAddress: { address: 'lee.gu@contoso.test' } }],
  });
  privateId = String(
    (
      (await megan.api('/me/events').post({
        subject: 'Doctor',
        start: { dateTime: '2027-06-01T14:00:00', timeZone: 'UTC' },
        end: { dateTime: '2027-06-01T15:00:00', timeZone: 'UTC' },
        sensitivity: 'private',
      })) as Json
    ).id,
  );
});
afterAll(async () => await sandbox.stop());

const eventsOfMegan = async () =>
  ((await adele.api(`/users/${MEGAN}/calendar/events`).top(50).get()) as Json).value as Json[];

test('a calendar not shared answers 403 ErrorAccessDenied; free/busy still works', async () => {
  const err = await graphFailure(adele.api(`/users/${MEGAN}/calendar/events`).get());
  expect(err.statusCode).toBe(403);
  expect(err.code).toBe('ErrorAccessDenied');
  expect(err.message).toBe('Access is denied. Check credentials and try again.');
  const calendarView = await graphFailure(
    adele
      .api(`/users/${MEGAN}/calendarView`)
      .query({ startDateTime: '2027-06-01T00:00:00Z', endDateTime: '2027-06-02T00:00:00Z' })
      .get(),
  );
  expect(calendarView.statusCode).toBe(403);
  // The organisation's default is free/busy (My Organization: freeBusyRead).
  const schedule = (await adele.api('/me/calendar/getSchedule').post({
    schedules: [MEGAN],
    startTime: { dateTime: '2027-06-01T09:00:00', timeZone: 'UTC' },
    endTime: { dateTime: '2027-06-01T10:00:00', timeZone: 'UTC' },
    availabilityViewInterval: 60,
  })) as Json;
  expect(schedule.value[0].availabilityView).toBe('2');
});

test('the owner shares with a role; the sharee reads events, private ones without their details', async () => {
  const created = (await megan.api('/me/calendar/calendarPermissions').post({
    emailAddress: { name: 'Adele Vance', address: ADELE },
    isInsideOrganization: true,
    isRemovable: true,
    role: 'read',
  })) as Json;
  expect(created).toMatchObject({ role: 'read', isRemovable: true, isInsideOrganization: true });
  expect(created.allowedRoles).toEqual(
    expect.arrayContaining([
      'freeBusyRead',
      'limitedRead',
      'read',
      'write',
      'delegateWithPrivateEventAccess',
    ]),
  );
  const perms = ((await megan.api('/me/calendar/calendarPermissions').get()) as Json).value as Json[];
  expect(perms.map((p) => String((p.emailAddress as Json).name))).toEqual(['My Organization', 'Adele Vance']);

  const events = await eventsOfMegan();
  const budget = events.find((e) => e.subject === 'Budget review')!;
  expect(budget.body.content).toContain('Numbers for Q3.');
  expect(budget.attendees).toHaveLength(1);
  const hidden = events.find((e) => e.id === privateId)!;
  expect(hidden).toMatchObject({ subject: '', sensitivity: 'private' });
  expect(hidden.body).toBeUndefined();
  expect(((await adele.api(`/users/${MEGAN}/events/${privateId}`).get()) as Json).subject).toBe('');

  // Without Calendars.Read.Shared the token cannot reach another user's calendar at all.
  const plain = graphClientFor(sandbox, await mintToken(sandbox, ADELE, ['Calendars.ReadWrite']));
  expect((await graphFailure(plain.api(`/users/${MEGAN}/calendar/events`).get())).statusCode).toBe(403);
});

test('roles: limitedRead shows subjects only, read cannot write, write can; only role changes', async () => {
  const perms = ((await megan.api('/me/calendar/calendarPermissions').get()) as Json).value as Json[];
  const mine = perms.find((p) => (p.emailAddress as Json).address === ADELE)!;
  const path = `/me/calendar/calendarPermissions/${encodeURIComponent(String(mine.id))}`;

  await megan.api(path).patch({ role: 'limitedRead' });
  const limited = (await eventsOfMegan()).find((e) => e.subject === 'Budget review')!;
  expect(limited.body).toBeUndefined();
  expect(limited.attendees).toBeUndefined();

  const event = {
    subject: 'Added by Adele',
    start: { dateTime: '2027-06-02T09:00:00', timeZone: 'UTC' },
    end: { dateTime: '2027-06-02T10:00:00', timeZone: 'UTC' },
  };
  expect((await graphFailure(adele.api(`/users/${MEGAN}/calendar/events`).post(event))).statusCode).toBe(403);
  await megan.api(path).patch({ role: 'write' });
  expect(((await adele.api(`/users/${MEGAN}/calendar/events`).post(event)) as Json).subject).toBe(
    'Added by Adele',
  );

  // "Aside from the role property, you cannot update other properties of an existing sharee."
  expect((await graphFailure(megan.api(path).patch({ isRemovable: false }))).statusCode).toBe(400);
  expect((await graphFailure(megan.api(path).patch({ role: 'owner' }))).statusCode).toBe(400);
  // Only the owner manages sharing; My Organization cannot be removed.
  expect(
    (await graphFailure(adele.api(`/users/${MEGAN}/calendar/calendarPermissions`).get())).statusCode,
  ).toBe(403);
  const organization = perms.find((p) => p.isRemovable === false)!;
  expect(
    (
      await graphFailure(
        megan.api(`/me/calendar/calendarPermissions/${encodeURIComponent(String(organization.id))}`).delete(),
      )
    ).statusCode,
  ).toBe(400);

  await megan.api(path).delete();
  expect((await graphFailure(adele.api(`/users/${MEGAN}/calendar/events`).get())).statusCode).toBe(403);
});
