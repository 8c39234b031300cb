/** Sync settings: all in the app's one config schema (shared/config.ts), failing closed there. */
import { getConfig, type AppConfig } from '../config';

export type SyncSettings = Pick<
  AppConfig,
  | 'SYNC_MAIL_FOLDERS'
  | 'SYNC_CALENDAR_DAYS_BACK'
  | 'SYNC_CALENDAR_DAYS_AHEAD'
  | 'SYNC_PAGE_SIZE'
  | 'SYNC_INTERVAL_MINUTES'
  | 'SYNC_SAFETY_NET_MINUTES'
  | 'TIMER_SPREAD_MINUTES'
  | 'CHANGE_RETENTION_DAYS'
>;

export function syncSettings(): SyncSettings {
  const c = getConfig();
  return {
    SYNC_MAIL_FOLDERS: c.SYNC_MAIL_FOLDERS,
    SYNC_CALENDAR_DAYS_BACK: c.SYNC_CALENDAR_DAYS_BACK,
    SYNC_CALENDAR_DAYS_AHEAD: c.SYNC_CALENDAR_DAYS_AHEAD,
    SYNC_PAGE_SIZE: c.SYNC_PAGE_SIZE,
    SYNC_INTERVAL_MINUTES: c.SYNC_INTERVAL_MINUTES,
    SYNC_SAFETY_NET_MINUTES: c.SYNC_SAFETY_NET_MINUTES,
    TIMER_SPREAD_MINUTES: c.TIMER_SPREAD_MINUTES,
    CHANGE_RETENTION_DAYS: c.CHANGE_RETENTION_DAYS,
  };
}

/**
 * NCRONTAB (6 fields) for "every N minutes". Read from the environment at registration time, as
 * the Functions host fixes schedules when it indexes functions.
 */
export function syncSchedule(env: Record<string, string | undefined> = process.env): string {
  const raw = Number(env.SYNC_INTERVAL_MINUTES ?? 15);
  const minutes = Number.isInteger(raw) && raw > 0 ? raw : 15;
  if (minutes < 60) return `0 */${minutes} * * * *`;
  const hours = Math.max(1, Math.round(minutes / 60));
  return hours >= 24 ? '0 0 0 * * *' : `0 0 */${hours} * * *`;
}
