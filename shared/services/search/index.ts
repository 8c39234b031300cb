/**
 * search.query: one question across mail, events, files and Teams messages through Microsoft
 * Search (https://learn.microsoft.com/graph/api/search-query, resources/search-api-overview).
 *
 * Search lets message and chatMessage share a request, but events and files each need their own
 * (search-concept-interleaving), and message/event pages are at most 25 hits. So each kind is its
 * own searchRequest, the kinds run side by side, and each pages on its own: the cursor keeps one
 * `from` per kind still having `moreResultsAvailable`. KQL goes through unchanged (it is a JSON
 * body field, not part of a URL). Mail asks for the top results first (`enableTopResults`: "the
 * first three messages ... sorted by relevance; the remaining ... by date/time").
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { grantedFeatures } from '../../auth/scopes';
import { ensureFeature } from '../../auth/token-vault';
import { Problem } from '../../http/problem';
import { EventOutSchema } from '../calendar/shape';
import { callerZone } from '../calendar/time';
import { FileItemSchema } from '../files/map';
import { MessageOut } from '../mail/common';
import { TeamsMessageOut } from '../teams/shape';
import {
  ENTITY_TYPE,
  KIND_FEATURE,
  KINDS,
  MAIL_FIELDS,
  mapHits,
  snippetOf,
  type Kind,
  type SearchHit,
} from './hits';

/** Hits per kind and page: Search's maximum for message and event (search-api-overview). */
const TOP_MAX = 25;

const kindField = z.enum(KINDS);

const searchInput = z
  .object({
    query: z
      .string()
      .trim()
      .min(1)
      .max(1000)
      .describe(
        'What to find, in Keyword Query Language: words ("contoso budget"), a "quoted phrase", AND / OR / NOT, and property restrictions such as from:anna, subject:"Q3 plan", filetype:xlsx, author:anna, received>=2026-05-01, sent:yesterday.',
      ),
    kinds: z
      .array(kindField)
      .min(1)
      .max(KINDS.length)
      .optional()
      .describe(
        'What to search: mail, event, file (OneDrive and SharePoint files), teams (chat and channel messages). Default: every kind the connection has consented to.',
      ),
    top: z
      .number()
      .int()
      .min(1)
      .max(TOP_MAX)
      .optional()
      .describe(`Hits per kind on this page, 1–${TOP_MAX} (default 10).`),
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe('IANA zone for event times (default: the request zone, else UTC).'),
    cursor: z
      .string()
      .max(4096)
      .optional()
      .describe(
        'nextCursor of the previous page, to continue the same search (other fields are then ignored).',
      ),
  })
  .strict();

const rank = z
  .number()
  .int()
  .describe('Position within its kind, 1 = best (mail: newest, top results first).');
const snippetOfKind = (source: 'mail' | 'event' | 'file' | 'teams') =>
  untrusted(
    z.string().describe('The matching text with the matched words in **bold** and … where it was cut.'),
    source,
  );

const HitOut = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('mail'), rank, snippet: snippetOfKind('mail'), message: MessageOut }),
  z.object({ kind: z.literal('event'), rank, snippet: snippetOfKind('event'), event: EventOutSchema }),
  z.object({ kind: z.literal('file'), rank, snippet: snippetOfKind('file'), file: FileItemSchema }),
  z.object({
    kind: z.literal('teams'),
    rank,
    snippet: snippetOfKind('teams'),
    teamsMessage: TeamsMessageOut,
  }),
]);

const SearchOut = z.object({
  items: z.array(HitOut).describe('Hits grouped by kind (mail, event, file, teams), best first within each.'),
  searched: z.array(kindField).describe('The kinds searched.'),
  skipped: z
    .array(z.object({ kind: kindField, reason: z.string() }))
    .describe(
      'Kinds not searched because the connection lacks their consent (add the feature to search them).',
    ),
  nextCursor: z.string().optional().describe('Present when any kind has more hits: pass it as `cursor`.'),
});

interface CursorState {
  a: 'search.query';
  q: string;
  t: number;
  z?: string;
  /** Next `from` per kind that has more. */
  o: Partial<Record<Kind, number>>;
}

function badCursor(): Problem {
  return new Problem('invalid_input', 'cursor is not a cursor this action returned.', {
    errors: [{ field: 'cursor', message: 'pass the nextCursor of a previous search.query page unchanged' }],
  });
}

function decodeState(cursor: string): CursorState {
  let state: CursorState;
  try {
    state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as CursorState;
  } catch {
    throw badCursor();
  }
  const offsets = state?.o && typeof state.o === 'object' ? Object.entries(state.o) : [];
  if (
    state?.a !== 'search.query' ||
    typeof state.q !== 'string' ||
    !Number.isInteger(state.t) ||
    state.t < 1 ||
    state.t > TOP_MAX ||
    offsets.length === 0 ||
    offsets.some(([k, v]) => !(KINDS as readonly string[]).includes(k) || !Number.isInteger(v) || v < 0)
  ) {
    throw badCursor();
  }
  return state;
}

function grantedKinds(ctx: ActionContext): Kind[] {
  const features = grantedFeatures(ctx.connection.scopes.split(' '));
  return KINDS.filter((k) => features.includes(KIND_FEATURE[k]));
}

interface KindResult {
  kind: Kind;
  hits: SearchHit[];
  more: boolean;
}

async function searchKind(
  ctx: ActionContext,
  kind: Kind,
  query: string,
  from: number,
  size: number,
): Promise<KindResult> {
  const request: Record<string, unknown> = {
    entityTypes: [ENTITY_TYPE[kind]],
    query: { queryString: query },
    from,
    size,
  };
  if (kind === 'mail') {
    request.fields = MAIL_FIELDS;
    request.enableTopResults = from === 0;
  }
  const res = await ctx.graph<{
    value?: Array<{ hitsContainers?: Array<{ hits?: SearchHit[]; moreResultsAvailable?: boolean }> }>;
  }>({ method: 'POST', url: '/search/query', idempotent: true, body: { requests: [request] } });
  const container = res.body.value?.[0]?.hitsContainers?.[0];
  return { kind, hits: container?.hits ?? [], more: container?.moreResultsAvailable === true };
}

defineAction({
  id: 'search.query',
  service: 'search',
  summary: 'Search mail, events, files and Teams messages at once',
  description:
    'Finds what the user means across Microsoft 365 with one query (Microsoft Search): "the contract Anna sent last week" → query "contract from:anna received>=2026-05-01". Use it when you do not know where something is or only know words in it; use the list actions (mail.listMessages, calendar.listEvents, files.listChildren) to browse a known folder, date range or chat. Each hit comes in the same shape the service\'s own get action returns (message, event, file, teamsMessage) with a snippet whose matched words are in **bold**. Kinds the connection has no consent for are listed in `skipped`. Page with nextCursor.',
  input: searchInput,
  output: SearchOut,
  // Each kind needs its own feature: checked below (`requires` for named kinds; the default
  // searches only the kinds already granted).
  feature: 'base',
  requires: (input) => (input.kinds ?? []).map((k) => KIND_FEATURE[k]),
  scopes: ['Mail.Read', 'Calendars.Read', 'Files.Read.All', 'Chat.Read'],
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const granted = grantedKinds(ctx);
    const state: CursorState = input.cursor
      ? decodeState(input.cursor)
      : {
          a: 'search.query',
          q: input.query,
          t: input.top ?? 10,
          ...(input.timeZone ? { z: input.timeZone } : {}),
          o: Object.fromEntries((input.kinds ?? granted).map((k) => [k, 0])),
        };
    const wanted = Object.keys(state.o) as Kind[];
    const searched = wanted.filter((k) => granted.includes(k));
    const skipped = (input.cursor || input.kinds ? [] : KINDS.filter((k) => !granted.includes(k))).map(
      (kind) => ({
        kind,
        reason: `needs the "${KIND_FEATURE[kind]}" feature`,
      }),
    );
    // Nothing consented to search: the consent problem for mail, with the link that adds it.
    if (searched.length === 0) await ensureFeature(ctx.connection, 'mail');
    const zone = callerZone(state.z, ctx.timezone);
    const results = await Promise.all(
      searched.map((k) => searchKind(ctx, k, state.q, state.o[k] ?? 0, state.t)),
    );
    const items: Array<z.infer<typeof HitOut>> = [];
    const next: Partial<Record<Kind, number>> = {};
    for (const r of results) {
      const mapped = await mapHits(ctx, r.kind, r.hits, zone);
      for (const { hit, mapped: m } of mapped) {
        items.push({ ...m, rank: hit.rank, snippet: snippetOf(hit.summary) } as z.infer<typeof HitOut>);
      }
      if (r.more) next[r.kind] = (state.o[r.kind] ?? 0) + state.t;
    }
    const out: z.infer<typeof SearchOut> = { items, searched, skipped };
    if (Object.keys(next).length > 0) {
      const nextState: CursorState = { ...state, o: next };
      out.nextCursor = Buffer.from(JSON.stringify(nextState)).toString('base64url');
    }
    return out;
  },
});
