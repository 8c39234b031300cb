/**
 * The tenant's rooms and room lists (https://learn.microsoft.com/graph/api/resources/place):
 * one store collection for the whole sandbox, each place carrying its tenant. A room is also a
 * mailbox with a calendar (room mailboxes in Exchange): its events live under the room's id like
 * a user's (calendar/rooms.ts books them), so getSchedule and findMeetingTimes see rooms busy.
 */
import { randomUUID } from 'node:crypto';
import type { SandboxUser } from '../../state';
import type { ChangeStore, CollectionRef, Entity } from '../store';

export const PLACES = 'places';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** What availability needs of a mailbox: its id (events), zone and working hours. */
export type ScheduleMailbox = Pick<SandboxUser, 'id' | 'timeZone' | 'workingHours' | 'mail' | 'displayName'>;

export function placesRef(store: ChangeStore): CollectionRef {
  return store.collection('_tenant', PLACES);
}

export function isRoom(place: Entity): boolean {
  return place._kind === 'room';
}

export function placesOf(store: ChangeStore, tenantId: string, kind: 'room' | 'roomList'): Entity[] {
  return store.list(placesRef(store)).filter((p) => p._tenantId === tenantId && p._kind === kind);
}

/** A room or room list by email address (case-insensitive) or id. */
export function findPlace(store: ChangeStore, key: string): Entity | undefined {
  const k = key.toLowerCase();
  return store
    .list(placesRef(store))
    .find((p) => str(p.emailAddress).toLowerCase() === k || p.id.toLowerCase() === k);
}

export function findRoom(store: ChangeStore, email: string): Entity | undefined {
  const place = findPlace(store, email);
  return place && isRoom(place) ? place : undefined;
}

/** The room's mailbox for availability: its own zone, bookable around the clock on weekdays. */
export function roomMailbox(room: Entity): ScheduleMailbox {
  return {
    id: room.id,
    mail: String(room.emailAddress),
    displayName: String(room.displayName),
    timeZone: str(room._timeZone) || 'UTC',
    workingHours: {
      daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
      startTime: '08:00:00.0000000',
      endTime: '18:00:00.0000000',
    },
  };
}

/** A place as v1.0 has it: hidden fields dropped, the derived type named. */
export function renderPlace(place: Entity): Record<string, unknown> {
  const out: Record<string, unknown> = {
    '@odata.type': isRoom(place) ? '#microsoft.graph.room' : '#microsoft.graph.roomList',
  };
  // The store's bookkeeping (timestamps, changeKey) is not part of a place.
  const hidden = new Set(['createdDateTime', 'lastModifiedDateTime', 'changeKey']);
  for (const [k, v] of Object.entries(place)) if (!k.startsWith('_') && !hidden.has(k)) out[k] = v;
  return out;
}

export interface RoomSeed {
  displayName: string;
  emailAddress: string;
  capacity: number;
  building: string;
  floorNumber: number;
  tags?: string[];
  videoDeviceName?: string;
  isWheelChairAccessible?: boolean;
}

export function addRoomList(
  store: ChangeStore,
  tenantId: string,
  list: { displayName: string; emailAddress: string; city: string; timeZone: string },
  rooms: RoomSeed[],
): void {
  const address = { street: null, city: list.city, state: null, postalCode: null, countryOrRegion: null };
  store.insert(placesRef(store), {
    id: randomUUID(),
    placeId: randomUUID(),
    displayName: list.displayName,
    emailAddress: list.emailAddress,
    address,
    geoCoordinates: null,
    phone: null,
    label: null,
    parentId: null,
    tags: [],
    isWheelChairAccessible: null,
    _kind: 'roomList',
    _tenantId: tenantId,
  });
  for (const room of rooms) {
    store.insert(placesRef(store), {
      id: randomUUID(),
      placeId: randomUUID(),
      displayName: room.displayName,
      emailAddress: room.emailAddress,
      nickname: room.displayName,
      label: null,
      capacity: room.capacity,
      building: room.building,
      floorNumber: room.floorNumber,
      floorLabel: String(room.floorNumber),
      address,
      geoCoordinates: null,
      phone: null,
      parentId: null,
      tags: room.tags ?? [],
      isWheelChairAccessible: room.isWheelChairAccessible ?? true,
      bookingType: 'standard',
      audioDeviceName: room.videoDeviceName ? `${room.videoDeviceName} audio` : null,
      videoDeviceName: room.videoDeviceName ?? null,
      displayDeviceName: room.videoDeviceName ? 'Wall screen' : null,
      teamsEnabledState: room.videoDeviceName ? 'enabled' : 'disabled',
      _kind: 'room',
      _tenantId: tenantId,
      _lists: [list.emailAddress.toLowerCase()],
      _timeZone: list.timeZone,
    });
  }
}
