/**
 * Graph places: rooms and room lists (place-list.md, place-get.md).
 * - `GET /places/microsoft.graph.room`: every room of the tenant; `.../microsoft.graph.roomlist`:
 *   every room list; `GET /places/{room-list-emailaddress}/microsoft.graph.roomlist/rooms`: the
 *   rooms of one list, which "you must specify by its emailAddress property, not by its id"
 *   (an id there is 404). 100 places per page by default; `$filter`, `$select`, `$top`, `$skip`,
 *   `$count`.
 * - `GET /places/{id | emailAddress}`: one place, typed with `@odata.type`.
 * The type casts arrive without their namespace (request-forms.ts canonical paths).
 * Permission: Place.Read.All (delegated, work accounts; admin consent in the sandbox's list, as the
 * permissions reference marks it). Rooms hidden from the address list are not modelled.
 */
import type { Sandbox } from '../../context';
import { SANDBOX_TENANT_ID } from '../../state';
import { entityResponse, graphRoute, graphState, odataContext, type GraphCtx } from '../core';
import { notFound } from '../errors';
import { collection } from '../paging';
import { addRoomList, findPlace, isRoom, placesOf, placesRef, renderPlace } from './model';

const READ = { scopes: { anyOf: ['Place.Read.All'], app: ['Place.Read.All'] }, throttle: 'none' as const };

function tenantOf(ctx: GraphCtx): string {
  return ctx.auth.tenantId;
}

function listPlaces(ctx: GraphCtx, items: Record<string, unknown>[], context: string) {
  return collection(ctx, items, {
    kind: 'outlook',
    defaultTop: 100,
    context,
    render: (p) => renderPlace(p as never),
  });
}

export function installPlaces(sandbox: Sandbox): void {
  graphRoute(sandbox, 'GET', /^\/places\/(?:microsoft\.graph\.)?room$/, READ, (ctx) =>
    listPlaces(ctx, placesOf(ctx.graph.store, tenantOf(ctx), 'room'), 'places/microsoft.graph.room'),
  );
  graphRoute(sandbox, 'GET', /^\/places\/(?:microsoft\.graph\.)?roomlist$/, READ, (ctx) =>
    listPlaces(ctx, placesOf(ctx.graph.store, tenantOf(ctx), 'roomList'), 'places/microsoft.graph.roomList'),
  );
  graphRoute(
    sandbox,
    'GET',
    /^\/places\/(?<list>[^/]+)\/(?:microsoft\.graph\.)?roomlist\/rooms$/,
    READ,
    (ctx) => {
      const email = decodeURIComponent(ctx.params.list ?? '').toLowerCase();
      const list = placesOf(ctx.graph.store, tenantOf(ctx), 'roomList').find(
        (p) => String(p.emailAddress).toLowerCase() === email,
      );
      if (!list) throw notFound('outlook');
      const rooms = placesOf(ctx.graph.store, tenantOf(ctx), 'room').filter((r) =>
        (r._lists as string[]).includes(email),
      );
      return listPlaces(
        ctx,
        rooms,
        `places('${encodeURIComponent(String(list.emailAddress))}')/microsoft.graph.roomList/rooms`,
      );
    },
  );
  graphRoute(sandbox, 'GET', /^\/places\/(?<id>[^/]+)$/, READ, (ctx) => {
    const place = findPlace(ctx.graph.store, decodeURIComponent(ctx.params.id ?? ''));
    if (!place || place._tenantId !== tenantOf(ctx)) throw notFound('outlook');
    return entityResponse(ctx, renderPlace(place), {
      context: `${odataContext(ctx, isRoom(place) ? 'places/microsoft.graph.room' : 'places/microsoft.graph.roomList')}/$entity`,
    });
  });
}

/**
 * Two offices of the seeded tenant, in Europe/Berlin and America/New_York, with rooms of several
 * sizes (the e2e books one for 8 people on a Thursday morning in Berlin).
 */
export function seedPlaces(sandbox: Sandbox): void {
  const store = graphState(sandbox).store;
  if (store.list(placesRef(store)).length > 0) return;
  addRoomList(
    store,
    SANDBOX_TENANT_ID,
    {
      displayName: 'Berlin office',
      emailAddress: 'rooms-berlin@contoso.test',
      city: 'Berlin',
      timeZone: 'Europe/Berlin',
    },
    [
      {
        displayName: 'Spree',
        emailAddress: 'spree@contoso.test',
        capacity: 4,
        building: 'Berlin',
        floorNumber: 2,
      },
      {
        displayName: 'Tiergarten',
        emailAddress: 'tiergarten@contoso.test',
        capacity: 10,
        building: 'Berlin',
        floorNumber: 3,
        videoDeviceName: 'Teams Room',
        tags: ['whiteboard'],
      },
      {
        displayName: 'Museumsinsel',
        emailAddress: 'museumsinsel@contoso.test',
        capacity: 16,
        building: 'Berlin',
        floorNumber: 3,
        videoDeviceName: 'Teams Room',
      },
    ],
  );
  addRoomList(
    store,
    SANDBOX_TENANT_ID,
    {
      displayName: 'New York office',
      emailAddress: 'rooms-newyork@contoso.test',
      city: 'New York',
      timeZone: 'America/New_York',
    },
    [
      {
        displayName: 'Hudson',
        emailAddress: 'hudson@contoso.test',
        capacity: 8,
        building: 'Midtown',
        floorNumber: 12,
      },
    ],
  );
}
