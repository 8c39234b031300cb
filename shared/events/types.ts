/**
 * Outbound event types and filters (docs/events.md). Every change-feed entry is an event named
 * `<service>.<type>`: `mail.created`, `calendar.updated`, `files.deleted`, `connection.reauth_required`.
 * A filter lists types or prefixes ending in `*` (`mail.*`, `connection.*`, `*`).
 */

/** The event types a platform can receive. */
export const EVENT_TYPES = [
  'mail.created',
  'mail.updated',
  'mail.deleted',
  'calendar.created',
  'calendar.updated',
  'calendar.deleted',
  'files.created',
  'files.updated',
  'files.deleted',
  'contacts.created',
  'contacts.updated',
  'contacts.deleted',
  'todo.created',
  'todo.updated',
  'todo.deleted',
  'sharepoint.created',
  'sharepoint.updated',
  'sharepoint.deleted',
  'connection.connected',
  'connection.reauth_required',
  'feed.degraded',
  'feed.recovered',
  'subscription.lost',
  'subscription.recovered',
  'sync.gap_recovered',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const SERVICES = [...new Set(EVENT_TYPES.map((t) => t.split('.')[0]!))];

/** Why a filter entry is not valid, or undefined when it is. */
export function filterProblem(pattern: string): string | undefined {
  if (pattern === '*') return undefined;
  if (pattern.endsWith('.*')) {
    const service = pattern.slice(0, -2);
    return SERVICES.includes(service)
      ? undefined
      : `"${pattern}" names no service; use one of ${SERVICES.map((s) => `${s}.*`).join(', ')}`;
  }
  return (EVENT_TYPES as readonly string[]).includes(pattern)
    ? undefined
    : `"${pattern}" is not an event type; see docs/events.md for the list`;
}

/** Whether an event type passes a filter (an empty filter passes everything). */
export function accepts(filter: readonly string[], type: string): boolean {
  if (filter.length === 0) return true;
  return filter.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))));
}
