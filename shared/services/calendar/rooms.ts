/**
 * Meeting rooms (issue 23): the tenant's rooms and room lists from the places API
 * (https://learn.microsoft.com/graph/api/place-list; Place.Read.All, admin consent, work accounts
 * only: feature `rooms`), and rooms free for a window, by capacity, list or building, from their
 * free/busy (getSchedule takes room addresses like people's, 20 per call). A room is booked by
 * inviting it: calendar.createEvent with the room as an attendee of type `resource`; the room
 * answers by itself (accepted when free, declined on a conflict), seen on the event afterwards.
 */
import { z } from 'zod';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { seg, type GraphCall } from '../../graph/client';
import { checkWindow, mapTimeZoneError, ScheduleResponse, timeZone, zoneFor } from './common';
import { TimeOutSchema } from './shape';
import { DateTimeInput, graphZoneName, timeOut, toGraphDateTime } from './time';

const PLACES_PAGES_MAX = 20; // 2,000 rooms at Graph's 100 per page
const SCHEDULES_PER_CALL = 20; // calendar-getschedule.md: up to 20 entities
const SLOT_MINUTES = 15;

const email = z.string().email().max(320);

const RoomOut = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().describe('Invite this address (attendee type resource) to book the room.'),
  capacity: z.number().nullable(),
  building: z.string().nullable(),
  floor: z.number().nullable(),
  accessible: z.boolean().nullable().describe('Wheelchair accessible.'),
  videoDevice: z.string().nullable(),
  tags: z.array(z.string()),
});
type Room = z.infer<typeof RoomOut>;

const RoomListOut = z.object({ id: z.string(), name: z.string(), email: z.string() });

const GraphPlace = z
  .object({
    id: z.string(),
    displayName: z.string().nullable().optional(),
    emailAddress: z.string().nullable().optional(),
    capacity: z.number().nullable().optional(),
    building: z.string().nullable().optional(),
    floorNumber: z.number().nullable().optional(),
    isWheelChairAccessible: z.boolean().nullable().optional(),
    videoDeviceName: z.string().nullable().optional(),
    tags: z.array(z.string()).nullable().optional(),
  })
  .loose();
type Page = { value?: unknown[]; '@odata.nextLink'?: string };

function toRoom(raw: unknown): Room {
  const p = GraphPlace.parse(raw);
  return {
    id: p.id,
    name: p.displayName ?? '',
    email: p.emailAddress ?? '',
    capacity: p.capacity ?? null,
    building: p.building ?? null,
    floor: p.floorNumber ?? null,
    accessible: p.isWheelChairAccessible ?? null,
    videoDevice: p.videoDeviceName ?? null,
    tags: p.tags ?? [],
  };
}

/** Every page of a places collection (Graph pages by 100). */
async function allPlaces(ctx: ActionContext, url: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let next: string | undefined = url;
  for (let page = 0; next && page < PLACES_PAGES_MAX; page++) {
    const res: { body: Page } = await ctx.graph<Page>({ method: 'GET', url: next });
    out.push(...(res.body.value ?? []));
    next = res.body['@odata.nextLink'];
  }
  return out;
}

const RoomFilter = {
  roomList: email
    .optional()
    .describe('Only the rooms of this room list (its email address, from roomLists).'),
  minCapacity: z.number().int().min(1).max(10_000).optional().describe('At least this many seats.'),
  building: z.string().max(256).optional().describe('Only rooms in this building (exact name, any case).'),
};

async function rooms(
  ctx: ActionContext,
  input: { roomList?: string | undefined; minCapacity?: number | undefined; building?: string | undefined },
): Promise<Room[]> {
  // place-list.md: a list's rooms are addressed by the list's email address, not its id.
  const url = input.roomList
    ? `/places/${seg(input.roomList)}/microsoft.graph.roomlist/rooms`
    : '/places/microsoft.graph.room';
  const building = input.building?.toLowerCase();
  return (await allPlaces(ctx, url))
    .map(toRoom)
    .filter(
      (r) =>
        (input.minCapacity === undefined || (r.capacity ?? 0) >= input.minCapacity) &&
        (building === undefined || (r.building ?? '').toLowerCase() === building),
    )
    .sort((a, b) => (a.capacity ?? 0) - (b.capacity ?? 0) || a.name.localeCompare(b.name));
}

// https://learn.microsoft.com/graph/api/place-list
defineAction({
  id: 'calendar.listRooms',
  service: 'calendar',
  summary: 'List meeting rooms and room lists',
  description:
    'Lists the organisation’s meeting rooms (name, email address to invite, capacity, building, floor, accessibility, video device), smallest first, optionally only those of one room list, with at least minCapacity seats or in one building; and the room lists (offices) to choose from. To find rooms free at a time, use findRooms.',
  input: z.object(RoomFilter).strict(),
  output: z.object({ rooms: z.array(RoomOut), roomLists: z.array(RoomListOut) }),
  feature: 'rooms',
  scopes: ['Place.Read.All'],
  kind: 'read',
  idempotent: true,
  cache: { tag: 'rooms' },
  run: async (input, ctx) => {
    const [found, lists] = await Promise.all([
      rooms(ctx, input),
      allPlaces(ctx, '/places/microsoft.graph.roomlist'),
    ]);
    return {
      rooms: found,
      roomLists: lists.map(toRoom).map((l) => ({ id: l.id, name: l.name, email: l.email })),
    };
  },
});

const BusyRoomOut = RoomOut.extend({
  busy: z.array(
    z.object({ start: TimeOutSchema.optional(), end: TimeOutSchema.optional(), status: z.string() }),
  ),
});

// https://learn.microsoft.com/graph/api/calendar-getschedule with room addresses.
defineAction({
  id: 'calendar.findRooms',
  service: 'calendar',
  summary: 'Find meeting rooms free for a time',
  description:
    'Finds the rooms that are free for the whole window from start to end (at most 7 days), optionally with at least minCapacity seats, in one room list or one building. Returns the free rooms smallest first (book one by inviting its email as an attendee of type resource in createEvent; the room accepts when still free) and the busy ones with their bookings in the requested IANA zone.',
  input: z
    .object({
      start: DateTimeInput.describe('Window start.'),
      end: DateTimeInput.describe('Window end (at most 7 days after start).'),
      ...RoomFilter,
      timeZone,
    })
    .strict(),
  output: z.object({
    timeZone: z.string(),
    available: z.array(RoomOut),
    busy: z.array(BusyRoomOut),
    unknown: z.array(RoomOut).describe('Rooms whose calendar could not be read.'),
  }),
  feature: 'rooms',
  requires: () => ['calendar'],
  scopes: ['Place.Read.All', 'Calendars.ReadBasic'],
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const zone = zoneFor(input, ctx);
    checkWindow(input.start, input.end, zone, 7);
    const candidates = await rooms(ctx, input);
    const out = {
      timeZone: zone,
      available: [] as Room[],
      busy: [] as z.infer<typeof BusyRoomOut>[],
      unknown: [] as Room[],
    };
    for (let i = 0; i < candidates.length; i += SCHEDULES_PER_CALL) {
      const chunk = candidates.slice(i, i + SCHEDULES_PER_CALL);
      const call: GraphCall = {
        method: 'POST',
        url: '/me/calendar/getSchedule',
        body: {
          schedules: chunk.map((r) => r.email),
          startTime: toGraphDateTime(input.start, 'start', zone),
          endTime: toGraphDateTime(input.end, 'end', zone),
          availabilityViewInterval: SLOT_MINUTES,
        },
        idempotent: true,
        timezone: graphZoneName(zone),
      };
      const answer = ScheduleResponse.parse((await ctx.graph(call)).body);
      for (const room of chunk) {
        const s = answer.value.find((v) => v.scheduleId.toLowerCase() === room.email.toLowerCase());
        if (!s || s.error) out.unknown.push(room);
        else if (/^0*$/.test(s.availabilityView ?? '')) out.available.push(room);
        else
          out.busy.push({
            ...room,
            busy: (s.scheduleItems ?? [])
              .filter((item) => item.status !== 'free')
              .map((item) => ({
                start: timeOut(item.start, zone),
                end: timeOut(item.end, zone),
                status: item.status ?? 'busy',
              })),
          });
      }
    }
    return out;
  },
  mapError: mapTimeZoneError,
});
