/**
 * Microsoft Search: `POST /search/query` (https://learn.microsoft.com/graph/api/search-query,
 * resources/search-api-overview), delegated, over the signed-in user's own sandbox data.
 *
 * Documented rules reproduced here (each answers 400 `BadRequest` when broken):
 * - entity types combine only within one group of the interleaving table
 *   (https://learn.microsoft.com/graph/search-concept-interleaving): {message, chatMessage},
 *   {event}, {drive, driveItem, externalItem, list, listItem, site}, {person}, {acronym, bookmark};
 * - several `requests` in one body only for site, drive, driveItem, list, listItem, externalItem,
 *   bookmark, acronym (search-concept-multiplerequest); otherwise "only a single searchRequest";
 * - `size` defaults to 25, at most 1000, and at most 25 for message and event; `from` ≥ 0
 *   (search-api-overview, "Page search results");
 * - `sortProperties` only for driveItem, listItem, list, site, on sortable properties
 *   ("Sort search results"; sorting events is a Bad Request, search-concept-messages);
 * - `contentSources` only with externalItem, which needs it (search-api-overview, limitations);
 * - each entity type needs its permission (the entity-type table): Mail.Read, Calendars.Read,
 *   Files.Read.All or Sites.Read.All, Chat.Read or ChannelMessage.Read.All, People.Read.
 * Results: message, event and chatMessage newest first, the rest by relevance; `enableTopResults`
 * puts the three most relevant messages first; for message and chatMessage `total` is the number
 * of hits on the page, "not the total number of matching results" (search-concept-messages,
 * search-concept-chat-messages). `fields` picks the resource's properties, unknown ones ignored.
 * Not emulated: aggregations, collapse, spelling, query templates, app-only search with `region`,
 * "from must start at zero in the first page request" for message and event (a stateless
 * emulation cannot tell a first page), SharePoint sites and lists (none exist yet: no hits).
 */
import type { Sandbox } from '../../context';
import { json } from '../../http';
import type { SandboxUser } from '../../state';
import { grantsAny, graphRoute, odataContext, type GraphCtx } from '../core';
import { accessDenied, badRequest, notFound } from '../errors';
import { highlight, KqlError, matches, parseKql, score, searchTerms } from './kql';
import {
  chatMessageCandidates,
  driveItemCandidates,
  eventCandidates,
  messageCandidates,
  personCandidates,
  type Candidate,
} from './sources';

export const ENTITY_TYPES = [
  'event',
  'message',
  'driveItem',
  'externalItem',
  'site',
  'list',
  'listItem',
  'drive',
  'chatMessage',
  'person',
  'acronym',
  'bookmark',
] as const;
type EntityType = (typeof ENTITY_TYPES)[number];

const GROUPS: EntityType[][] = [
  ['message', 'chatMessage'],
  ['event'],
  ['drive', 'driveItem', 'externalItem', 'list', 'listItem', 'site'],
  ['person'],
  ['acronym', 'bookmark'],
];
const MULTI_REQUEST_TYPES = new Set<EntityType>([
  'site',
  'drive',
  'driveItem',
  'list',
  'listItem',
  'externalItem',
  'bookmark',
  'acronym',
]);
const SORTABLE_TYPES = new Set<EntityType>(['driveItem', 'listItem', 'list', 'site']);
const DATE_SORTED = new Set<EntityType>(['message', 'event', 'chatMessage']);
/** Graph property names and their search-schema managed names, both accepted (sortProperty.md). */
const SORTABLE: Record<string, string> = {
  name: 'name',
  filename: 'name',
  lastmodifieddatetime: 'lastModifiedDateTime',
  lastmodifiedtime: 'lastModifiedDateTime',
  createddatetime: 'createdDateTime',
  created: 'createdDateTime',
  size: 'size',
};
const PERMISSIONS: Record<EntityType, string[]> = {
  message: ['Mail.Read'],
  event: ['Calendars.Read'],
  driveItem: ['Files.Read.All', 'Sites.Read.All'],
  drive: ['Files.Read.All', 'Sites.Read.All'],
  list: ['Sites.Read.All'],
  listItem: ['Sites.Read.All'],
  site: ['Sites.Read.All'],
  chatMessage: ['Chat.Read', 'ChannelMessage.Read.All'],
  person: ['People.Read'],
  externalItem: ['ExternalItem.Read.All'],
  acronym: ['Acronym.Read.All'],
  bookmark: ['Bookmark.Read.All'],
};
export const SIZE_MAX = 1000;
export const SIZE_MAX_MAIL_EVENTS = 25;
const SIZE_DEFAULT = 25;

interface SearchRequest {
  entityTypes?: unknown;
  query?: { queryString?: unknown };
  from?: unknown;
  size?: unknown;
  fields?: unknown;
  sortProperties?: unknown;
  enableTopResults?: unknown;
  contentSources?: unknown;
  aggregations?: unknown;
}

function bad(message: string) {
  return badRequest('generic', message);
}

function entityTypesOf(req: SearchRequest): EntityType[] {
  const types = req.entityTypes;
  if (!Array.isArray(types) || types.length === 0) throw bad("The search request needs 'entityTypes'.");
  for (const t of types) {
    // An enum value outside graph.entityType fails deserialisation, as OData answers it.
    if (typeof t !== 'string' || !(ENTITY_TYPES as readonly string[]).includes(t)) {
      throw bad(`Requested value '${String(t)}' was not found.`);
    }
  }
  const list = [...new Set(types as EntityType[])];
  if (!GROUPS.some((g) => list.every((t) => g.includes(t)))) {
    throw bad(
      `The entity types ${list.join(', ')} cannot be combined in one search request; see https://learn.microsoft.com/graph/search-concept-interleaving.`,
    );
  }
  return list;
}

function intOf(v: unknown, name: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`'${name}' must be an integer.`);
  return v;
}

function candidatesFor(sandbox: Sandbox, user: SandboxUser, type: EntityType): Candidate[] {
  switch (type) {
    case 'message':
      return messageCandidates(sandbox, user);
    case 'event':
      return eventCandidates(sandbox, user);
    case 'driveItem':
      return driveItemCandidates(sandbox, user);
    case 'chatMessage':
      return chatMessageCandidates(sandbox, user);
    case 'person':
      return personCandidates(sandbox, user);
    default:
      // drive, list, listItem, site: no SharePoint sites yet; connectors and answers: none configured.
      return [];
  }
}

function answer(ctx: GraphCtx, user: SandboxUser, req: SearchRequest): Record<string, unknown> {
  const types = entityTypesOf(req);
  const queryString = req.query?.queryString;
  if (typeof queryString !== 'string' || queryString.trim() === '') {
    throw bad("The search request needs 'query.queryString'.");
  }
  const from = intOf(req.from, 'from', 0);
  const size = intOf(req.size, 'size', SIZE_DEFAULT);
  if (from < 0) throw bad("'from' must be 0 or more.");
  if (size < 1 || size > SIZE_MAX) throw bad(`'size' must be between 1 and ${SIZE_MAX}.`);
  if (size > SIZE_MAX_MAIL_EVENTS && types.some((t) => t === 'message' || t === 'event')) {
    throw bad(`'size' can be at most ${SIZE_MAX_MAIL_EVENTS} when searching messages or events.`);
  }
  const sort = Array.isArray(req.sortProperties)
    ? (req.sortProperties as Array<{ name?: unknown; isDescending?: unknown }>)
    : [];
  if (sort.length > 0) {
    const unsortable = types.filter((t) => !SORTABLE_TYPES.has(t));
    if (unsortable.length > 0) throw bad(`Sorting is not supported for ${unsortable.join(', ')}.`);
    for (const s of sort) {
      if (typeof s.name !== 'string' || !SORTABLE[s.name.toLowerCase()]) {
        throw bad(`'${String(s.name)}' is not a sortable property.`);
      }
    }
  }
  const external = types.includes('externalItem');
  if (!external && req.contentSources !== undefined) {
    throw bad("'contentSources' applies only to the externalItem entity type.");
  }
  if (external && (!Array.isArray(req.contentSources) || req.contentSources.length === 0)) {
    throw bad("Searching externalItem needs 'contentSources' naming the connections.");
  }
  if (Array.isArray(req.aggregations) && req.aggregations.length > 0) {
    throw bad('Aggregations are not emulated by the sandbox.');
  }
  for (const t of types) {
    if (!grantsAny(ctx.auth, PERMISSIONS[t])) {
      throw accessDenied(
        'generic',
        `Access to ${t} in Graph API requires the following permissions: ${PERMISSIONS[t].join(' or ')}. However, the application only has the following permissions granted: ${ctx.auth.scopes.join(', ')}`,
      );
    }
  }

  let node;
  try {
    node = parseKql(queryString);
  } catch (err) {
    if (err instanceof KqlError) throw bad(`The query string is not valid KQL: ${err.message}.`);
    throw err;
  }
  const terms = searchTerms(node);
  const now = ctx.sandbox.now();
  const found = types.flatMap((t) =>
    candidatesFor(ctx.sandbox, user, t)
      .filter((c) => matches(node, c.doc, now))
      .map((c) => ({
        c,
        type: t,
        relevance: score(terms, c.weighted.length ? c.weighted : [[c.doc.text, 1]]),
      })),
  );
  const byDate = types.every((t) => DATE_SORTED.has(t));
  found.sort((a, b) =>
    byDate ? b.c.date.localeCompare(a.c.date) : b.relevance - a.relevance || b.c.date.localeCompare(a.c.date),
  );
  if (req.enableTopResults === true && types.includes('message')) {
    // "the first three messages in the response are sorted by relevance; the remaining by date".
    const top = [...found].sort((a, b) => b.relevance - a.relevance).slice(0, 3);
    found.splice(0, found.length, ...top, ...found.filter((f) => !top.includes(f)));
  }
  for (const s of [...sort].reverse()) {
    const key = SORTABLE[(s.name as string).toLowerCase()]!;
    const dir = s.isDescending === true ? -1 : 1;
    found.sort((a, b) => {
      const x = a.c.entity[key] as string | number;
      const y = b.c.entity[key] as string | number;
      return (
        (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir
      );
    });
  }
  const fields = Array.isArray(req.fields)
    ? (req.fields as unknown[]).filter((f): f is string => typeof f === 'string')
    : [];
  const page = found.slice(from, from + size);
  const hits = page.map(({ c }, i) => ({
    hitId: c.hitId,
    rank: from + i + 1,
    summary: c.summaryText ? highlight(c.summaryText, terms) : '',
    resource: fields.length > 0 ? selectFields(c, fields) : c.resource,
  }));
  // For message and chatMessage `total` counts the page (search-concept-messages, limitations).
  const pageTotals = types.every((t) => t === 'message' || t === 'chatMessage');
  return {
    searchTerms: terms,
    hitsContainers: [
      {
        ...(hits.length > 0 ? { hits } : {}),
        total: pageTotals ? hits.length : found.length,
        moreResultsAvailable: from + size < found.length,
      },
    ],
  };
}

function selectFields(c: Candidate, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { '@odata.type': c.resource['@odata.type'] };
  const keys = new Map(Object.keys({ ...c.entity, ...c.resource }).map((k) => [k.toLowerCase(), k]));
  for (const f of fields) {
    const key = keys.get(f.toLowerCase());
    if (key && !key.startsWith('_') && !key.startsWith('@')) out[key] = c.resource[key] ?? c.entity[key];
  }
  return out;
}

export function installSearch(sandbox: Sandbox): void {
  graphRoute(
    sandbox,
    'POST',
    '/search/query',
    {
      // Any one of the entity types' permissions opens the route; each type is checked in answer().
      scopes: { anyOf: [...new Set(Object.values(PERMISSIONS).flat())] },
      workload: 'generic',
      delegatedOnly: true,
      throttle: 'none',
    },
    async (ctx: GraphCtx) => {
      const user = ctx.caller;
      if (!user) throw notFound('generic');
      const body = await ctx.json<{ requests?: unknown }>();
      const requests = body?.requests;
      if (!Array.isArray(requests) || requests.length === 0) {
        throw bad("The request body needs 'requests', a non-empty array of search requests.");
      }
      if (requests.length > 1) {
        const all = (requests as SearchRequest[]).flatMap((r) =>
          Array.isArray(r?.entityTypes) ? (r.entityTypes as EntityType[]) : [],
        );
        if (!all.every((t) => MULTI_REQUEST_TYPES.has(t))) {
          throw bad(
            'Only a single search request is supported at a time, except for SharePoint, OneDrive, connector and answer entity types (https://learn.microsoft.com/graph/search-concept-multiplerequest).',
          );
        }
      }
      const value = (requests as SearchRequest[]).map((r) => answer(ctx, user, r ?? {}));
      return json(200, { '@odata.context': odataContext(ctx, 'search'), value });
    },
  );
}
