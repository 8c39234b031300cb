/**
 * Windows ↔ IANA time-zone names. Graph speaks Windows names in mailboxSettings and
 * dateTimeTimeZone values but also accepts IANA names (reference §8.2 "timeZone accepts Windows
 * names or IANA names").
 */
import { findIana, findWindows } from 'windows-iana';

/** The Windows name for an IANA zone (`Europe/Berlin` → `W. Europe Standard Time`). */
export function toWindowsZone(iana: string): string {
  if (iana === 'UTC' || iana === 'Etc/UTC') return 'UTC';
  return findWindows(iana)[0] ?? 'UTC';
}

/** The IANA zone for a Windows or IANA name, or undefined when neither knows it. */
export function toIanaZone(name: string): string | undefined {
  const trimmed = name.trim();
  if (/^(utc|etc\/utc|gmt)$/i.test(trimmed)) return 'UTC';
  const fromWindows = findIana(trimmed)[0];
  if (fromWindows) return fromWindows;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
