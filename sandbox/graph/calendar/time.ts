/**
 * Time-zone math for the sandbox calendar (reference §8.2). Graph's `dateTimeTimeZone` is a local
 * wall-clock time plus a zone name (Windows or IANA) with no offset; we resolve the name to an
 * IANA zone and let luxon apply the IANA rules (DST included). Nothing here uses the server's
 * local zone: every conversion names its zone.
 * https://learn.microsoft.com/graph/api/resources/datetimetimezone
 */
import { DateTime, IANAZone } from 'luxon';
import { GraphHttpError } from '../errors';
import { toIanaZone } from '../timezones';

export interface DateTimeTimeZone {
  dateTime: string;
  timeZone: string;
}

/**
 * The IANA zone for a Windows or IANA name, or Graph's 400 `TimeZoneNotSupportedException`
 * (wording as observed in https://github.com/microsoftgraph/microsoft-graph-docs/issues/4758).
 */
export function resolveZone(name: unknown): string {
  const text = typeof name === 'string' ? name : '';
  const iana = text ? toIanaZone(text) : undefined;
  if (!iana || !IANAZone.isValidZone(iana)) {
    throw new GraphHttpError(
      400,
      'TimeZoneNotSupportedException',
      `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${text}'.`,
    );
  }
  return iana;
}

/** Graph's local date-time text: no offset, 7 fractional digits. */
export function formatLocal(dt: DateTime): string {
  return `${dt.toFormat("yyyy-MM-dd'T'HH:mm:ss")}.0000000`;
}

const LOCAL_RE = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads a `dateTimeTimeZone` as an instant. The dateTime is local to its zone; an explicit offset
 * or `Z` (clients send them although Graph documents none) is honoured as that instant.
 */
export function parseDateTimeTimeZone(
  value: unknown,
  field: string,
): { ms: number; zone: string; local: DateTime } {
  const v = (value ?? {}) as Partial<DateTimeTimeZone>;
  if (typeof v.dateTime !== 'string' || !LOCAL_RE.test(v.dateTime.trim())) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      `The ${field} property must be a dateTimeTimeZone with a dateTime such as 2024-03-31T09:00:00.`,
    );
  }
  const zone = resolveZone(v.timeZone);
  const local = parseLocalIn(v.dateTime.trim(), zone);
  if (!local) {
    throw new GraphHttpError(
      400,
      'ErrorInvalidRequest',
      `The ${field} dateTime '${v.dateTime}' is not valid.`,
    );
  }
  return { ms: local.toMillis(), zone, local };
}

/** A local date-time text (optionally with an offset) as a DateTime in `zone`. */
export function parseLocalIn(text: string, zone: string): DateTime | undefined {
  const m = LOCAL_RE.exec(text);
  if (!m) return undefined;
  const [, date, hh = '00', mm = '00', ss = '00', frac = '', offset] = m;
  const ms = frac ? Number(`0.${frac}`) * 1000 : 0;
  const iso = `${date}T${hh}:${mm}:${ss}.${String(Math.floor(ms)).padStart(3, '0')}`;
  const dt = offset
    ? DateTime.fromISO(`${iso}${offset.toUpperCase() === 'Z' ? 'Z' : offset}`, { setZone: true }).setZone(
        zone,
      )
    : DateTime.fromISO(iso, { zone });
  return dt.isValid ? dt : undefined;
}

/** An instant as Graph writes it for a zone: `{dateTime, timeZone}` with the name as requested. */
export function toDateTimeTimeZone(ms: number, zone: string, name: string): DateTimeTimeZone {
  return { dateTime: formatLocal(DateTime.fromMillis(ms, { zone })), timeZone: name };
}

/**
 * calendarView's startDateTime/endDateTime: "interpreted using the timezone offset specified in
 * the value and are not impacted by the value of the Prefer: outlook.timezone header ... If no
 * timezone offset is included in the value, it is interpreted as UTC" (user-list-calendarview.md,
 * reference §8.2).
 */
export function parseWindowParam(text: string): number | undefined {
  const dt = parseLocalIn(text.trim().replace(' ', '+'), 'UTC');
  return dt?.toMillis();
}

/** The `yyyy-MM-dd` of a DateTime. */
export function isoDate(dt: DateTime): string {
  return dt.toFormat('yyyy-MM-dd');
}

/** Midnight of a calendar date in a zone, as epoch ms. */
export function midnight(date: string, zone: string): number {
  return DateTime.fromISO(date, { zone }).startOf('day').toMillis();
}
