/**
 * Shared and delegated calendars (https://learn.microsoft.com/graph/outlook-share-or-delegate-calendar,
 * https://learn.microsoft.com/graph/outlook-get-shared-events-calendars):
 * - each calendar has calendarPermissions (calendarpermission.md): the sharees and delegates with
 *   a role; a primary calendar is always shared with "My Organization" (`freeBusyRead` by
 *   default, not removable). Created with POST .../calendarPermissions (200 with the permission,
 *   as calendar-post-calendarpermissions.md shows), role changed with PATCH (only to one of its
 *   allowedRoles), removed with DELETE.
 * - another user's calendar and events (`/users/{id}/calendar/events`, `calendarView`, ...) need
 *   Calendars.Read.Shared and a role that shows events (limitedRead or more) on that calendar, or
 *   full access to the mailbox; otherwise 403 ErrorAccessDenied "Access is denied. Check
 *   credentials and try again." (what Graph answers for a calendar not shared with the caller).
 *   Writing needs Calendars.ReadWrite.Shared and `write` or a delegate role.
 * - only the owner (or a full-access delegate of the mailbox) manages the permissions: graphRoute's
 *   default rule for another user's mailbox.
 * - what a role shows (the roles in the sharing page): limitedRead the subject, location and time
 *   of non-private events; read and write everything of non-private events; private events only
 *   their time and free/busy, unless the delegate may view private events. The sandbox omits the
 *   hidden properties of such events (subject empty, no body, location or attendees).
 */
import { Buffer } from 'node:buffer';
import type { Sandbox } from '../../context';
import { empty, json } from '../../http';
import type { SandboxUser } from '../../state';
import { graphRoute, odataContext, type GraphCtx } from '../core';
import { GraphHttpError, notFound } from '../errors';
import { collection } from '../paging';
import type { ChangeStore, CollectionRef } from '../store';
import { defaultCalendar, eventsRef, findCalendar } from './events';

const PERMISSIONS = 'calendarPermissions';
const ORGANIZATION_ID = Buffer.from('Default').toString('base64');

export type CalendarRole =
  | 'none'
  | 'freeBusyRead'
  | 'limitedRead'
  | 'read'
  | 'write'
  | 'delegateWithoutPrivateEventAccess'
  | 'delegateWithPrivateEventAccess';

export const SHOWS_EVENTS: CalendarRole[] = [
  'limitedRead',
  'read',
  'write',
  'delegateWithoutPrivateEventAccess',
  'delegateWithPrivateEventAccess',
];
const WRITES: CalendarRole[] = [
  'write',
  'delegateWithoutPrivateEventAccess',
  'delegateWithPrivateEventAccess',
];
const SHAREE_ROLES: CalendarRole[] = ['freeBusyRead', 'limitedRead', 'read', 'write'];
const DELEGATE_ROLES: CalendarRole[] = [
  'delegateWithoutPrivateEventAccess',
  'delegateWithPrivateEventAccess',
];

function permissionsRef(store: ChangeStore, ownerId: string): CollectionRef {
  return store.collection(ownerId, PERMISSIONS);
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function isPrimary(store: ChangeStore, owner: SandboxUser, calendarId: string): boolean {
  return defaultCalendar(store, owner).id === calendarId;
}

/** The "My Organization" entry every primary calendar has, then the stored sharees. */
function permissionsOf(
  store: ChangeStore,
  owner: SandboxUser,
  calendarId: string,
): Record<string, unknown>[] {
  const stored = store
    .list(permissionsRef(store, owner.id))
    .filter((p) => p.calendarId === calendarId)
    .map(
      ({ calendarId: _c, createdDateTime: _cr, lastModifiedDateTime: _m, changeKey: _k, ...rest }) => rest,
    );
  if (!isPrimary(store, owner, calendarId)) return stored;
  const organization = store.get(permissionsRef(store, owner.id), ORGANIZATION_ID);
  return [
    {
      id: ORGANIZATION_ID,
      isRemovable: false,
      isInsideOrganization: true,
      role: str(organization?.role) || 'freeBusyRead',
      allowedRoles: ['none', ...SHAREE_ROLES],
      emailAddress: { name: 'My Organization' },
    },
    ...stored.filter((p) => p.id !== ORGANIZATION_ID),
  ];
}

/** What `caller` may see of `owner`'s calendar: their own entry, else My Organization's. */
export function roleOf(
  store: ChangeStore,
  owner: SandboxUser,
  calendarId: string,
  caller: SandboxUser | undefined,
): CalendarRole {
  if (!caller) return 'none';
  if (caller.id === owner.id) return 'delegateWithPrivateEventAccess';
  const entries = permissionsOf(store, owner, calendarId);
  const addresses = [caller.mail.toLowerCase(), caller.userPrincipalName.toLowerCase()];
  const own = entries.find((p) =>
    addresses.includes(str((p.emailAddress as { address?: string } | undefined)?.address).toLowerCase()),
  );
  if (own) return own.role as CalendarRole;
  const organization = entries.find((p) => p.id === ORGANIZATION_ID);
  return caller.tenantId === owner.tenantId && organization ? (organization.role as CalendarRole) : 'none';
}

/** The calendar a request on another user's mailbox is about: the path's, the event's, or the primary. */
function calendarOfRequest(ctx: GraphCtx, owner: SandboxUser): string {
  if (ctx.params.calendarId) return ctx.params.calendarId;
  const eventId = ctx.params.id;
  const store = ctx.graph.store;
  if (eventId) {
    const master = eventId.replace(/_OCC\d{8}$/, '');
    const ev = store.get(eventsRef(store, owner.id), master);
    if (ev) return str(ev.calendarId);
  }
  return String(defaultCalendar(store, owner).id);
}

/** graphRoute's `otherUsers` check for reading another user's calendar. */
export function canReadShared(ctx: GraphCtx, caller: SandboxUser | undefined, owner: SandboxUser): boolean {
  return SHOWS_EVENTS.includes(roleOf(ctx.graph.store, owner, calendarOfRequest(ctx, owner), caller));
}

/** graphRoute's `otherUsers` check for writing to another user's calendar. */
export function canWriteShared(ctx: GraphCtx, caller: SandboxUser | undefined, owner: SandboxUser): boolean {
  return WRITES.includes(roleOf(ctx.graph.store, owner, calendarOfRequest(ctx, owner), caller));
}

/** What an event shows to someone with `role` on its calendar (see the header). */
export function redactFor(role: CalendarRole, ev: Record<string, unknown>): Record<string, unknown> {
  const isPrivate = ev.sensitivity === 'private' || ev.sensitivity === 'confidential';
  const seesPrivate = role === 'delegateWithPrivateEventAccess';
  if (role !== 'limitedRead' && (!isPrivate || seesPrivate)) return ev;
  const out = { ...ev };
  for (const key of ['body', 'attendees', 'onlineMeeting', 'onlineMeetingUrl']) delete out[key];
  out.bodyPreview = '';
  if (isPrivate && !seesPrivate) {
    out.subject = '';
    delete out.location;
    delete out.locations;
  }
  return out;
}

function ownerOf(ctx: GraphCtx): SandboxUser {
  return ctx.user as SandboxUser;
}

function calendarIdOf(ctx: GraphCtx): string {
  const owner = ownerOf(ctx);
  const store = ctx.graph.store;
  return ctx.params.calendarId
    ? String(findCalendar(store, owner, ctx.params.calendarId).id)
    : String(defaultCalendar(store, owner).id);
}

function allowedRoles(ctx: GraphCtx, calendarId: string, inside: boolean): CalendarRole[] {
  if (!inside) return ['freeBusyRead', 'limitedRead', 'read'];
  return isPrimary(ctx.graph.store, ownerOf(ctx), calendarId)
    ? [...SHAREE_ROLES, ...DELEGATE_ROLES]
    : SHAREE_ROLES;
}

function findPermission(ctx: GraphCtx, calendarId: string): Record<string, unknown> {
  const found = permissionsOf(ctx.graph.store, ownerOf(ctx), calendarId).find(
    (p) => p.id === ctx.params.permissionId,
  );
  if (!found) throw notFound('outlook');
  return found;
}

const READ_SCOPES = { scopes: { anyOf: ['Calendars.Read'] } };
const WRITE_SCOPES = { scopes: { anyOf: ['Calendars.ReadWrite'] } };

export function installCalendarSharing(sandbox: Sandbox): void {
  for (const base of ['/me/calendar', '/me/calendars/:calendarId']) {
    const path = `${base}/calendarPermissions`;
    graphRoute(sandbox, 'GET', path, READ_SCOPES, (ctx) => {
      return collection(ctx, permissionsOf(ctx.graph.store, ownerOf(ctx), calendarIdOf(ctx)), {
        kind: 'outlook',
        supports: { orderby: false },
      });
    });
    // calendar-post-calendarpermissions.md: Calendars.Read suffices; 200 with the permission.
    graphRoute(sandbox, 'POST', path, READ_SCOPES, async (ctx) => {
      const calendarId = calendarIdOf(ctx);
      const body = (await ctx.json<Record<string, unknown>>()) ?? {};
      const email = (body.emailAddress ?? {}) as { address?: unknown; name?: unknown };
      const address = str(email.address).trim();
      if (!address.includes('@'))
        throw new GraphHttpError(
          400,
          'ErrorInvalidParameter',
          'emailAddress.address must be an SMTP address.',
        );
      const sharee = ctx.sandbox.directory.findUser(address);
      const inside = sharee?.tenantId === ownerOf(ctx).tenantId;
      const role = str(body.role) as CalendarRole;
      const allowed = allowedRoles(ctx, calendarId, inside);
      if (!allowed.includes(role)) {
        throw new GraphHttpError(400, 'ErrorInvalidParameter', `role must be one of ${allowed.join(', ')}.`);
      }
      const id = Buffer.from(`ExchangePublishedUser.${address.toLowerCase()}`).toString('base64');
      const ref = permissionsRef(ctx.graph.store, ownerOf(ctx).id);
      if (ctx.graph.store.get(ref, id)) ctx.graph.store.remove(ref, id);
      const entry = ctx.graph.store.insert(ref, {
        id,
        calendarId,
        isRemovable: true,
        isInsideOrganization: inside,
        role,
        allowedRoles: allowed,
        emailAddress: { name: str(email.name) || sharee?.displayName || address, address },
      });
      const { calendarId: _c, createdDateTime: _cr, lastModifiedDateTime: _m, changeKey: _k, ...out } = entry;
      return json(200, {
        '@odata.context': odataContext(
          ctx,
          `users('${ownerOf(ctx).id}')/calendar/calendarPermissions/$entity`,
        ),
        ...out,
      });
    });
    graphRoute(sandbox, 'GET', `${path}/:permissionId`, READ_SCOPES, (ctx) => {
      return json(200, findPermission(ctx, calendarIdOf(ctx)));
    });
    graphRoute(sandbox, 'PATCH', `${path}/:permissionId`, WRITE_SCOPES, async (ctx) => {
      const calendarId = calendarIdOf(ctx);
      const current = findPermission(ctx, calendarId);
      const body = (await ctx.json<Record<string, unknown>>()) ?? {};
      const extra = Object.keys(body).filter((k) => k !== 'role');
      if (extra.length) {
        // "Aside from the role property, you cannot update other properties" (sharing page).
        throw new GraphHttpError(
          400,
          'ErrorInvalidRequest',
          `Only role can be updated, not ${extra.join(', ')}.`,
        );
      }
      const role = str(body.role) as CalendarRole;
      if (!(current.allowedRoles as string[]).includes(role)) {
        throw new GraphHttpError(
          400,
          'ErrorInvalidParameter',
          `role must be one of ${(current.allowedRoles as string[]).join(', ')}.`,
        );
      }
      const ref = permissionsRef(ctx.graph.store, ownerOf(ctx).id);
      if (current.id === ORGANIZATION_ID && !ctx.graph.store.get(ref, ORGANIZATION_ID))
        ctx.graph.store.insert(ref, { id: ORGANIZATION_ID, calendarId, role });
      else ctx.graph.store.update(ref, String(current.id), { role });
      return json(200, { ...current, role });
    });
    graphRoute(sandbox, 'DELETE', `${path}/:permissionId`, WRITE_SCOPES, (ctx) => {
      const current = findPermission(ctx, calendarIdOf(ctx));
      if (current.isRemovable === false)
        throw new GraphHttpError(400, 'ErrorInvalidRequest', 'This permission cannot be removed.');
      ctx.graph.store.remove(permissionsRef(ctx.graph.store, ownerOf(ctx).id), String(current.id));
      return empty(204);
    });
  }
}
