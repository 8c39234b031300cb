/**
 * Pure availability logic for the calendar actions: merging a person's schedule items into busy
 * blocks, and explaining why findMeetingTimes found nothing
 * (https://learn.microsoft.com/graph/api/calendar-getschedule,
 * https://learn.microsoft.com/graph/api/user-findmeetingtimes, reference §8.2).
 */

export interface Interval {
  startMs: number;
  endMs: number;
  status: string;
}

/** Which status a merged block shows when several overlap. */
const RANK: Record<string, number> = { workingElsewhere: 1, tentative: 2, busy: 3, unknown: 3, oof: 4 };

/**
 * Merges overlapping or touching intervals (free ones dropped) into blocks, each with the
 * strongest status inside it: oof > busy > tentative > workingElsewhere.
 */
export function mergeBusy(items: Interval[]): Interval[] {
  const sorted = items
    .filter((i) => i.status !== 'free' && i.endMs > i.startMs)
    .sort((a, b) => a.startMs - b.startMs || a.endMs - b.endMs);
  const out: Interval[] = [];
  for (const item of sorted) {
    const last = out[out.length - 1];
    if (last && item.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, item.endMs);
      if ((RANK[item.status] ?? 3) > (RANK[last.status] ?? 3)) last.status = item.status;
    } else out.push({ ...item });
  }
  return out;
}

const REASONS: Record<string, string> = {
  attendeesUnavailable: 'No time in the window fits: the attendees are busy at every candidate time.',
  attendeesUnavailableOrUnknown:
    'No time fits: attendees are busy, or their availability is unknown (e.g. people outside the organisation).',
  locationsUnavailable: 'No time fits: the requested locations are not available.',
  organizerUnavailable: 'No time fits: the organizer is busy at every candidate time.',
  unknown:
    'No candidate time: the window may lie outside everyone’s working hours or be shorter than the meeting.',
};

/** A sentence for Graph's emptySuggestionsReason, or null when there are suggestions. */
export function explainEmpty(reason: string | null | undefined, suggestions: number): string | null {
  if (suggestions > 0) return null;
  return REASONS[reason ?? ''] ?? 'No time in the window fits all constraints.';
}
