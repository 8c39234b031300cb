/**
 * Sync settings. SYNC_INTERVAL_MINUTES and CHANGE_RETENTION_DAYS live in the app's config schema
 * (shared/config.ts); the finer knobs below are optional and read here, failing closed with the
 * setting's name when a value is wrong.
 */
import { z } from 'zod';
import { getConfig } from '../config';

const WELL_KNOWN_OR_ID = /^[A-Za-z0-9=_+/-]{1,200}$/;

const schema = z.object({
  /** Mail folders to track besides the Inbox: well-known names (archive, sentitems) or folder ids. */
  SYNC_MAIL_FOLDERS: z
    .string()
    .default('inbox')
    .transform((v, ctx) => {
      const list = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const bad = list.filter((f) => !WELL_KNOWN_OR_ID.test(f));
      if (bad.length) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of folder names or ids' });
        return z.NEVER;
      }
      // The Inbox is always tracked (issue 11: "Inbox and configured folders").
      return [...new Set(['inbox', ...list.map((f) => (/^[a-z]+$/i.test(f) ? f.toLowerCase() : f))])];
    }),
  SYNC_CALENDAR_DAYS_BACK: z.coerce.number().int().min(0).max(3650).default(30),
  SYNC_CALENDAR_DAYS_AHEAD: z.coerce.number().int().min(1).max(3650).default(365),
  /** `Prefer: odata.maxpagesize` for delta pages (Outlook accepts up to 1000, reference §4.1). */
  SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
});

export type SyncSettings = z.infer<typeof schema> & {
  SYNC_INTERVAL_MINUTES: number;
  CHANGE_RETENTION_DAYS: number;
};

export function syncSettings(env: Record<string, string | undefined> = process.env): SyncSettings {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${String(issue?.path[0] ?? 'sync setting')} ${issue?.message ?? 'is invalid'}`);
  }
  const config = getConfig();
  return {
    ...parsed.data,
    SYNC_INTERVAL_MINUTES: config.SYNC_INTERVAL_MINUTES,
    CHANGE_RETENTION_DAYS: config.CHANGE_RETENTION_DAYS,
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
