/**
 * Microsoft Search hits → the shapes the services' own actions return.
 *
 * What Search returns per hit is not the entity (https://learn.microsoft.com/graph/search-concept-messages,
 * -events, -files, -chat-messages): a message resource holds only the properties asked for in
 * `fields`; an event's has start/end/subject/type (capitalised) and little else; a file's lacks
 * the facets; a Teams message's `from` is an email address and it has no body. So:
 * - mail asks Search for exactly the message fields mail.listMessages returns (`fields`, which
 *   Search supports for message) and maps them with mail's own mapper;
 * - events, files and Teams messages are read in full with one Graph `$batch` (≤ 20 GETs per call,
 *   https://learn.microsoft.com/graph/json-batching) and mapped with their services' mappers. An
 *   item gone since it was indexed is left out; a throttled or failed one is read again alone
 *   (through ctx.graph, with its retries).
 */
import type { ActionContext } from '../../actions/types';
import { seg } from '../../graph/client';
import { graphZoneName } from '../calendar/time';
import { mapEvent, type EventOut } from '../calendar/shape';
import { toFileItem, type FileItem } from '../files/map';
import { MESSAGE_FIELDS, toMessage, type MessageField } from '../mail/common';
import { toMessage as toTeamsMessage, type TeamsMessage } from '../teams/shape';

export const KINDS = ['mail', 'event', 'file', 'teams'] as const;
export type Kind = (typeof KINDS)[number];

/** The Graph entity type each kind searches (search-api-overview, "Scope search based on entity types"). */
export const ENTITY_TYPE: Record<Kind, string> = {
  mail: 'message',
  event: 'event',
  file: 'driveItem',
  teams: 'chatMessage',
};

/** The feature whose consent each kind needs (its permission is in that feature's scopes). */
export const KIND_FEATURE = { mail: 'mail', event: 'calendar', file: 'files', teams: 'teams' } as const;

/** Message properties asked of Search: what our message shape is made of. */
export const MAIL_FIELDS = ['id', ...new Set(Object.values(MESSAGE_FIELDS).flat())];

export interface SearchHit {
  hitId: string;
  rank: number;
  summary?: string;
  resource?: Record<string, unknown>;
}

export type Mapped =
  | { kind: 'mail'; message: Record<string, unknown> }
  | { kind: 'event'; event: EventOut }
  | { kind: 'file'; file: FileItem }
  | { kind: 'teams'; teamsMessage: TeamsMessage };

/** Search's highlight markers as plain text for a model: `<c0>x</c0>` → `**x**`, `<ddd/>` → `…`. */
export function snippetOf(summary: string | undefined): string {
  return (summary ?? '')
    .replace(/<\/?c0>/g, '**')
    .replace(/<ddd\/>/g, '…')
    .replace(/<[^>]+>/g, '')
    .trim();
}

function mailOf(hit: SearchHit): Mapped {
  const raw = { ...hit.resource, id: (hit.resource?.id as string | undefined) ?? hit.hitId };
  const present = (Object.keys(MESSAGE_FIELDS) as MessageField[]).filter((f) =>
    MESSAGE_FIELDS[f].some((p) => p in raw),
  );
  return { kind: 'mail', message: toMessage(raw, present) };
}

/** The Graph path that reads a hit's full entity. */
function readPath(kind: Exclude<Kind, 'mail'>, hit: SearchHit): string | undefined {
  const r = hit.resource ?? {};
  if (kind === 'event') return `/me/events/${seg(hit.hitId)}`;
  if (kind === 'file') {
    const driveId = (r.parentReference as { driveId?: string } | undefined)?.driveId;
    const id = (r.id as string | undefined) ?? hit.hitId;
    return driveId ? `/drives/${seg(driveId)}/items/${seg(id)}` : `/me/drive/items/${seg(id)}`;
  }
  const id = (r.id as string | undefined) ?? hit.hitId;
  if (typeof r.chatId === 'string') return `/chats/${seg(r.chatId)}/messages/${seg(id)}`;
  const channel = r.channelIdentity as { teamId?: string; channelId?: string } | undefined;
  if (channel?.teamId && channel.channelId) {
    return `/teams/${seg(channel.teamId)}/channels/${seg(channel.channelId)}/messages/${seg(id)}`;
  }
  return undefined;
}

interface BatchResponse {
  id: string;
  status: number;
  body?: unknown;
}

/** Reads entities in Graph `$batch` calls of 20; returns what was found, by request id. */
async function readAll(
  ctx: ActionContext,
  paths: Map<string, string>,
  headers: Record<string, string>,
): Promise<Map<string, unknown>> {
  const found = new Map<string, unknown>();
  const entries = [...paths];
  for (let i = 0; i < entries.length; i += 20) {
    const chunk = entries.slice(i, i + 20);
    const res = await ctx.graph<{ responses?: BatchResponse[] }>({
      method: 'POST',
      url: '/$batch',
      idempotent: true,
      body: { requests: chunk.map(([id, url]) => ({ id, method: 'GET', url, headers })) },
    });
    const again: Array<[string, string]> = [];
    for (const [id, url] of chunk) {
      const r = res.body.responses?.find((x) => x.id === id);
      if (r && r.status >= 200 && r.status < 300) found.set(id, r.body);
      else if (!r || r.status === 429 || r.status >= 500) again.push([id, url]);
      // 403/404: gone or no longer visible since it was indexed: left out.
    }
    for (const [id, url] of again) {
      try {
        found.set(id, (await ctx.graph({ method: 'GET', url, headers })).body);
      } catch {
        // Still failing after ctx.graph's own retries: left out rather than failing the search.
      }
    }
  }
  return found;
}

/** Maps one kind's hits to our shapes, in the hits' order. */
export async function mapHits(
  ctx: ActionContext,
  kind: Kind,
  hits: SearchHit[],
  zone: string,
): Promise<Array<{ hit: SearchHit; mapped: Mapped }>> {
  if (kind === 'mail') return hits.map((hit) => ({ hit, mapped: mailOf(hit) }));
  const paths = new Map<string, string>();
  hits.forEach((hit, i) => {
    const path = readPath(kind, hit);
    if (path) paths.set(String(i), path);
  });
  const headers: Record<string, string> =
    kind === 'event' ? { Prefer: `outlook.timezone="${graphZoneName(zone)}"` } : {};
  const bodies = paths.size > 0 ? await readAll(ctx, paths, headers) : new Map<string, unknown>();
  const out: Array<{ hit: SearchHit; mapped: Mapped }> = [];
  hits.forEach((hit, i) => {
    const body = bodies.get(String(i));
    if (body === undefined) return;
    if (kind === 'event') out.push({ hit, mapped: { kind, event: mapEvent(body, zone) } });
    else if (kind === 'file') out.push({ hit, mapped: { kind, file: toFileItem(body) } });
    else out.push({ hit, mapped: { kind, teamsMessage: toTeamsMessage(body) } });
  });
  return out;
}
