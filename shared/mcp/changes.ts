/**
 * The `m365://changes` resource: the user's change feed (what the delta sync saw happen in mail,
 * calendar, files, contacts and To Do), so an assistant can catch up. Entries are DESIGN.md's
 * `{ seq, service, id, type, at, summary }`, oldest first; `m365://changes?after=<cursor>`
 * continues after a page.
 *
 * The feed itself belongs to the sync engine (shared/sync, `GET /api/changes`); this module only
 * needs the small reader interface below, which the sync module provides through
 * `setChangeFeedReader` (see shared/mcp/feed.ts for the wiring).
 */
import type { Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';

export const CHANGES_URI = 'm365://changes';
export const CHANGES_PAGE_SIZE = 100;

export interface ChangeEntry {
  seq: string | number;
  service: string;
  id: string;
  type: 'created' | 'updated' | 'deleted';
  at: string;
  summary?: unknown;
}

export interface ChangeFeedPage {
  items: ChangeEntry[];
  /** Opaque cursor: entries after the last one returned (absent when nothing is left). */
  nextCursor?: string;
}

/** Reads one page of a user's change feed, entries after `after` (from the oldest kept when absent). */
export type ChangeFeedReader = (
  userId: string,
  options: { after?: string; limit: number },
) => Promise<ChangeFeedPage>;

let reader: ChangeFeedReader | undefined;

export function setChangeFeedReader(next: ChangeFeedReader | undefined): void {
  reader = next;
}

export function changeFeedReader(): ChangeFeedReader | undefined {
  return reader;
}

export const changesResource: Resource = {
  uri: CHANGES_URI,
  name: 'changes',
  title: 'Microsoft 365 change feed',
  description:
    'What changed in the user\'s Microsoft 365 (mail, calendar, files, contacts, To Do) as seen by the background sync, oldest first: {items: [{seq, service, id, type: created|updated|deleted, at, summary}], nextCursor, next}. Read "next" (m365://changes?after=<nextCursor>) to continue; keep the last nextCursor to catch up later. Use the ids with the matching get tool for details.',
  mimeType: 'application/json',
};

export const changesAfterTemplate: ResourceTemplate = {
  uriTemplate: `${CHANGES_URI}{?after}`,
  name: 'changes-after',
  title: 'Microsoft 365 changes after a cursor',
  description: 'The change feed after a cursor (nextCursor of an earlier page).',
  mimeType: 'application/json',
};

/** The cursor of a changes URI, null when the URI is not the change feed. */
export function parseChangesUri(uri: string): { after?: string } | null {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return null;
  }
  if (url.protocol !== 'm365:' || `${url.host}${url.pathname}` !== 'changes') return null;
  const after = url.searchParams.get('after');
  return after ? { after } : {};
}

export function changesUri(after?: string): string {
  return after ? `${CHANGES_URI}?after=${encodeURIComponent(after)}` : CHANGES_URI;
}
