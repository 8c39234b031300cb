/**
 * To Do request bodies and the shapes Graph answers with (reference §8.6,
 * https://learn.microsoft.com/graph/api/resources/todotask): validation of todoTask, checklistItem
 * and linkedResource bodies, and the date rules: `dueDateTime` (and `startDateTime`) are date-only,
 * `reminderDateTime` is an instant, everything comes back as `dateTimeTimeZone` in UTC.
 */
import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { badRequest, GraphHttpError } from '../errors';
import { graphTimestamp, type Entity } from '../store';
import { toIanaZone } from '../timezones';

export const TASK_STATUSES = [
  'notStarted',
  'inProgress',
  'completed',
  'waitingOnOthers',
  'deferred',
] as const;
export const TASK_IMPORTANCE = ['low', 'normal', 'high'] as const;
const RECURRENCE_PATTERNS = [
  'daily',
  'weekly',
  'absoluteMonthly',
  'relativeMonthly',
  'absoluteYearly',
  'relativeYearly',
] as const;

export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

/** OData deserialisation failures answer 400 `RequestBodyRead` (observed Graph gateway behaviour). */
export function bodyError(message: string): GraphHttpError {
  return new GraphHttpError(400, 'RequestBodyRead', message);
}

function unknownProperty(key: string, type: string): GraphHttpError {
  return bodyError(
    `The property '${key}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type or mark the type as open type.`,
  );
}

function enumValue<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw bodyError(`Cannot convert the literal '${String(value)}' to the expected type for '${key}'.`);
}

function stringValue(key: string, value: unknown): string {
  if (typeof value !== 'string') throw bodyError(`Cannot convert the value of '${key}' to Edm.String.`);
  return value;
}

/** Parses a `dateTimeTimeZone` into a UTC luxon DateTime (Windows or IANA zone names). */
function parseDateTimeTimeZone(key: string, value: unknown): DateTime {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw bodyError(`Property '${key}' must be a microsoft.graph.dateTimeTimeZone.`);
  }
  const v = value as { dateTime?: unknown; timeZone?: unknown };
  if (typeof v.dateTime !== 'string') throw bodyError(`'${key}.dateTime' is required.`);
  const zoneName = typeof v.timeZone === 'string' && v.timeZone ? v.timeZone : 'UTC';
  const zone = toIanaZone(zoneName);
  if (!zone) throw badRequest('outlook', `Time zone '${zoneName}' is not supported.`);
  // Graph sends 7 fractional digits; luxon keeps milliseconds.
  const text = v.dateTime.replace(/(\.\d{3})\d+/, '$1').replace(/Z$/i, '');
  const parsed = DateTime.fromISO(text, { zone });
  if (!parsed.isValid) throw badRequest('outlook', `'${v.dateTime}' is not a valid ${key}.dateTime.`);
  return parsed.toUTC();
}

/** `2027-03-01T09:30:00.0000000`: Graph's dateTime text (7 fractional digits, no zone). */
export function graphDateTime(dt: DateTime): string {
  return `${dt.toUTC().toFormat("yyyy-MM-dd'T'HH:mm:ss.SSS")}0000`;
}

/**
 * dueDateTime is date-only: the time is dropped and the value returns as `T00:00:00.0000000` with
 * timeZone "UTC" (reference §8.6; https://github.com/microsoftgraph/microsoft-graph-docs-contrib/issues/2136,
 * https://github.com/microsoftgraph/microsoft-graph-docs/issues/16991). The sandbox first converts the
 * value to UTC and then drops the time, so a client that sends local midnight of a zone east of UTC
 * (`2027-03-01T00:00:00` in Pacific/Auckland) sees the day shift to 2027-02-28, as users of
 * To Do report (https://github.com/RogerSelwyn/MS365-ToDo/issues/29). Send the calendar date at
 * midnight UTC to keep it.
 */
export function dateOnly(key: string, value: unknown): DateTimeTimeZone {
  const utc = parseDateTimeTimeZone(key, value);
  return { dateTime: `${utc.toFormat('yyyy-MM-dd')}T00:00:00.0000000`, timeZone: 'UTC' };
}

/** An instant (reminderDateTime, completedDateTime): kept, returned in UTC. */
export function instant(key: string, value: unknown): DateTimeTimeZone {
  return { dateTime: graphDateTime(parseDateTimeTimeZone(key, value)), timeZone: 'UTC' };
}

function recurrenceValue(value: unknown): Record<string, unknown> {
  const r = value as { pattern?: { type?: unknown }; range?: { type?: unknown } } | null;
  if (!r || typeof r !== 'object' || !r.pattern || typeof r.pattern !== 'object') {
    throw bodyError(`Property 'recurrence' must be a microsoft.graph.patternedRecurrence with a pattern.`);
  }
  enumValue('recurrence.pattern.type', r.pattern.type, RECURRENCE_PATTERNS);
  return {
    pattern: r.pattern,
    range: r.range ?? {
      type: 'noEnd',
      startDate: null,
      endDate: null,
      recurrenceTimeZone: 'UTC',
      numberOfOccurrences: 0,
    },
  };
}

const TASK_READ_ONLY = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'bodyLastModifiedDateTime',
  'hasAttachments',
  'changeKey',
]);

/**
 * Validates a todoTask body (create or update) and returns the stored properties it sets; `null`
 * clears a date or the recurrence. `now` stamps completedDateTime when status becomes completed.
 * `checklistItems` and `linkedResources` can be created inline (todotasklist-post-tasks.md).
 */
export function taskPatch(body: unknown, mode: 'create' | 'update', now: number): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw bodyError('The request body must be a JSON object.');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (TASK_READ_ONLY.has(key) || key.startsWith('@odata.')) continue;
    switch (key) {
      case 'title':
        out.title = stringValue(key, value);
        break;
      case 'body': {
        const b = value as { content?: unknown; contentType?: unknown } | null;
        if (!b || typeof b !== 'object')
          throw bodyError(`Property 'body' must be a microsoft.graph.itemBody.`);
        out.body = {
          content: b.content === undefined ? '' : stringValue('body.content', b.content),
          contentType:
            b.contentType === undefined
              ? 'text'
              : enumValue('body.contentType', b.contentType, ['text', 'html']),
        };
        out.bodyLastModifiedDateTime = graphTimestamp(now);
        break;
      }
      case 'importance':
        out.importance = enumValue(key, value, TASK_IMPORTANCE);
        break;
      case 'status':
        out.status = enumValue(key, value, TASK_STATUSES);
        break;
      case 'isReminderOn':
        if (typeof value !== 'boolean')
          throw bodyError(`Cannot convert the value of 'isReminderOn' to Edm.Boolean.`);
        out.isReminderOn = value;
        break;
      case 'dueDateTime':
      case 'startDateTime':
        out[key] = value === null ? undefined : dateOnly(key, value);
        break;
      case 'reminderDateTime':
      case 'completedDateTime':
        out[key] = value === null ? undefined : instant(key, value);
        break;
      case 'recurrence':
        out.recurrence = value === null ? undefined : recurrenceValue(value);
        break;
      case 'categories':
        if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
          throw bodyError(`Property 'categories' must be a collection of Edm.String.`);
        out.categories = value;
        break;
      case 'checklistItems':
      case 'linkedResources': {
        if (mode !== 'create') throw bodyError(`'${key}' can only be set when the task is created.`);
        if (!Array.isArray(value)) throw bodyError(`Property '${key}' must be a collection.`);
        out[key] = value.map((v) =>
          key === 'checklistItems' ? newChecklistItem(v, now) : newLinkedResource(v),
        );
        break;
      }
      default:
        throw unknownProperty(key, 'todoTask');
    }
  }
  // Setting status completed stamps completedDateTime (reference §8.6, observed); leaving
  // completed clears it.
  if (out.status === 'completed' && !('completedDateTime' in out)) {
    out.completedDateTime = { dateTime: graphDateTime(DateTime.fromMillis(now)), timeZone: 'UTC' };
  } else if (out.status !== undefined && out.status !== 'completed') {
    out.completedDateTime = undefined;
  }
  return out;
}

const CHECKLIST_KEYS = new Set(['displayName', 'isChecked']);

export function checklistPatch(body: unknown, now: number): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw bodyError('The request body must be a JSON object.');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key === 'id' || key === 'createdDateTime' || key === 'checkedDateTime' || key.startsWith('@odata.'))
      continue;
    if (!CHECKLIST_KEYS.has(key)) throw unknownProperty(key, 'checklistItem');
    if (key === 'displayName') out.displayName = stringValue(key, value);
    else {
      if (typeof value !== 'boolean')
        throw bodyError(`Cannot convert the value of 'isChecked' to Edm.Boolean.`);
      out.isChecked = value;
      out.checkedDateTime = value ? graphTimestamp(now) : undefined;
    }
  }
  return out;
}

export function newChecklistItem(body: unknown, now: number): Record<string, unknown> {
  const patch = checklistPatch(body, now);
  if (typeof patch.displayName !== 'string')
    throw badRequest('outlook', 'A checklist item needs a displayName.');
  const item: Record<string, unknown> = {
    displayName: patch.displayName,
    createdDateTime: graphTimestamp(now),
    isChecked: patch.isChecked === true,
    id: randomUUID(),
  };
  if (patch.checkedDateTime) item.checkedDateTime = patch.checkedDateTime;
  return item;
}

const LINK_KEYS = ['webUrl', 'applicationName', 'displayName', 'externalId'] as const;

export function linkedResourcePatch(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw bodyError('The request body must be a JSON object.');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key === 'id' || key.startsWith('@odata.')) continue;
    if (!(LINK_KEYS as readonly string[]).includes(key)) throw unknownProperty(key, 'linkedResource');
    out[key] = value === null ? null : stringValue(key, value);
  }
  return out;
}

export function newLinkedResource(body: unknown): Record<string, unknown> {
  const patch = linkedResourcePatch(body);
  const item: Record<string, unknown> = { id: randomUUID() };
  for (const k of LINK_KEYS) item[k] = patch[k] ?? null;
  return item;
}

/** Which relationships `$expand` asks for (`checklistItems`, `linkedResources`). */
export function expansions(query: URLSearchParams): Set<string> {
  let raw = '';
  for (const [k, v] of query) if (k.toLowerCase() === '$expand') raw = v;
  const out = new Set<string>();
  for (const part of raw.split(',')) {
    const name = part.trim().replace(/\(.*$/, '').toLowerCase();
    if (!name) continue;
    if (name === 'checklistitems') out.add('checklistItems');
    else if (name === 'linkedresources') out.add('linkedResources');
    else if (name !== 'attachments' && name !== 'extensions') {
      throw new GraphHttpError(
        400,
        'BadRequest',
        `Could not find a property named '${part.trim()}' on type 'microsoft.graph.todoTask'.`,
      );
    }
  }
  return out;
}

/**
 * A stored task as Graph answers it: no changeKey (todoTask has only `@odata.etag`), the
 * relationships only when expanded, unset dates omitted (the created example in todotask.md).
 */
export function renderTask(task: Entity, expand: Set<string> = new Set()): Record<string, unknown> {
  const {
    changeKey: _changeKey,
    checklistItems,
    linkedResources,
    ...rest
  } = task as Entity & { checklistItems?: unknown[]; linkedResources?: unknown[] };
  const out: Record<string, unknown> = {
    '@odata.etag': rest['@odata.etag'],
    importance: rest.importance,
    isReminderOn: rest.isReminderOn,
    status: rest.status,
    title: rest.title,
    createdDateTime: rest.createdDateTime,
    lastModifiedDateTime: rest.lastModifiedDateTime,
    hasAttachments: false,
    categories: rest.categories ?? [],
    id: rest.id,
    body: rest.body,
  };
  for (const k of [
    'bodyLastModifiedDateTime',
    'completedDateTime',
    'dueDateTime',
    'startDateTime',
    'reminderDateTime',
    'recurrence',
  ]) {
    if (rest[k] !== undefined) out[k] = rest[k];
  }
  if (expand.has('checklistItems')) out.checklistItems = checklistItems ?? [];
  if (expand.has('linkedResources')) out.linkedResources = linkedResources ?? [];
  return out;
}

/** todoTaskList: no changeKey or timestamps (todotasklist resource). */
export function renderList(list: Entity): Record<string, unknown> {
  return {
    '@odata.etag': list['@odata.etag'],
    displayName: list.displayName,
    isOwner: list.isOwner ?? true,
    isShared: list.isShared ?? false,
    wellknownListName: list.wellknownListName ?? 'none',
    id: list.id,
  };
}
