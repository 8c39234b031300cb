/**
 * People: turn a name into a person, and see whether they are available.
 *
 * - people.find: the People API first (https://learn.microsoft.com/graph/api/user-list-people:
 *   "ordered by relevance, based on the user's communication and collaboration patterns";
 *   `$search` matches names and addresses), then the organisation's directory for colleagues the
 *   user never wrote to (`/users?$search`, which needs `ConsistencyLevel: eventual` and
 *   `"property:value"` clauses: https://learn.microsoft.com/graph/search-query-parameter).
 * - people.getPresence: presence of the user or of colleagues by id or address
 *   (api/presence-get, api/cloudcommunications-getpresencesbyuserid, at most 650 ids a call).
 */
import { z } from 'zod';
import { untrusted } from '../../actions/output';
import { defineAction } from '../../actions/registry';
import type { ActionContext } from '../../actions/types';
import { seg } from '../../graph/client';
import { GraphError } from '../../graph/errors';

const PersonOut = z.object({
  id: z.string().nullable().describe('The directory user id (null for people known only from mail).'),
  displayName: untrusted(z.string().nullable(), 'mail'),
  email: z.string().nullable().describe('The best address to write to.'),
  otherEmails: z.array(z.string()),
  jobTitle: z.string().nullable(),
  department: z.string().nullable(),
  officeLocation: z.string().nullable(),
  userPrincipalName: z.string().nullable(),
  type: z
    .enum(['colleague', 'contact', 'other'])
    .describe(
      'colleague: in the organisation; contact: in the user’s contacts; other: known from mail only.',
    ),
  source: z
    .enum(['people', 'directory'])
    .describe('people: ranked by the user’s interactions; directory: a name match.'),
});
type Person = z.infer<typeof PersonOut>;

interface GraphPerson {
  id?: string;
  displayName?: string | null;
  scoredEmailAddresses?: Array<{ address?: string | null }> | null;
  jobTitle?: string | null;
  department?: string | null;
  officeLocation?: string | null;
  userPrincipalName?: string | null;
  personType?: { class?: string; subclass?: string } | null;
}

interface GraphUser {
  id: string;
  displayName?: string | null;
  mail?: string | null;
  jobTitle?: string | null;
  department?: string | null;
  officeLocation?: string | null;
  userPrincipalName?: string | null;
}

function fromPerson(p: GraphPerson): Person {
  const addresses = (p.scoredEmailAddresses ?? []).map((a) => a.address).filter((a): a is string => !!a);
  const subclass = p.personType?.subclass ?? '';
  return {
    id: subclass === 'OrganizationUser' ? (p.id ?? null) : null,
    displayName: p.displayName ?? null,
    email: addresses[0] ?? null,
    otherEmails: addresses.slice(1),
    jobTitle: p.jobTitle ?? null,
    department: p.department ?? null,
    officeLocation: p.officeLocation ?? null,
    userPrincipalName: p.userPrincipalName ?? null,
    type:
      subclass === 'OrganizationUser' ? 'colleague' : subclass === 'PersonalContact' ? 'contact' : 'other',
    source: 'people',
  };
}

function fromUser(u: GraphUser): Person {
  return {
    id: u.id,
    displayName: u.displayName ?? null,
    email: u.mail ?? u.userPrincipalName ?? null,
    otherEmails: [],
    jobTitle: u.jobTitle ?? null,
    department: u.department ?? null,
    officeLocation: u.officeLocation ?? null,
    userPrincipalName: u.userPrincipalName ?? null,
    type: 'colleague',
    source: 'directory',
  };
}

/** `$search` values are quoted; a quote or backslash in a name would end them early. */
const searchable = (text: string) => text.replace(/["\\]/g, ' ').trim();

async function directoryMatches(ctx: ActionContext, query: string, top: number): Promise<Person[]> {
  // Personal Microsoft accounts have no organisation directory.
  if (ctx.connection.accountType === 'personal') return [];
  const q = searchable(query);
  const res = await ctx.graph<{ value?: GraphUser[] }>({
    method: 'GET',
    url: '/users',
    headers: { ConsistencyLevel: 'eventual' },
    query: {
      $search: `"displayName:${q}" OR "mail:${q}"`,
      $select: 'id,displayName,mail,jobTitle,department,officeLocation,userPrincipalName',
      $top: top,
    },
  });
  return (res.body.value ?? []).map(fromUser);
}

defineAction({
  id: 'people.find',
  service: 'people',
  summary: 'Find a person by name or partial address',
  description:
    'Turns a name or part of an address ("meg", "Anna Lopez", "anna@") into people with their email addresses, the ones the user works with most first (People API), then colleagues from the organisation directory. Use it before writing to, inviting or sharing with someone known only by name; if several match, ask the user which one. Returns people with email, job title, department and whether each is a colleague.',
  input: z
    .object({
      query: z
        .string()
        .trim()
        .min(1)
        .max(255)
        .describe('A name, part of a name, or the start of an email address.'),
      top: z
        .number()
        .int()
        .min(1)
        .max(25)
        .optional()
        .describe('At most this many people, 1–25 (default 10).'),
    })
    .strict(),
  output: z.object({ items: z.array(PersonOut) }),
  feature: 'people',
  scopes: ['People.Read', 'User.ReadBasic.All'],
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    const top = input.top ?? 10;
    const q = searchable(input.query);
    const res = await ctx.graph<{ value?: GraphPerson[] }>({
      method: 'GET',
      url: '/me/people',
      query: {
        $search: `"${q}"`,
        $top: top,
        $select:
          'id,displayName,scoredEmailAddresses,jobTitle,department,officeLocation,userPrincipalName,personType',
      },
    });
    const people = (res.body.value ?? []).map(fromPerson);
    if (people.length < top) {
      const seen = new Set(people.flatMap((p) => [p.email, ...p.otherEmails]).map((a) => a?.toLowerCase()));
      for (const p of await directoryMatches(ctx, input.query, top)) {
        if (!seen.has(p.email?.toLowerCase())) people.push(p);
      }
    }
    return { items: people.slice(0, top) };
  },
});

const PresenceOut = z.object({
  user: z.string().describe('The user as asked for (id or address; "me" for the signed-in user).'),
  userId: z.string(),
  availability: z
    .string()
    .describe(
      'Available, AvailableIdle, Away, BeRightBack, Busy, BusyIdle, DoNotDisturb, Offline or PresenceUnknown.',
    ),
  activity: z.string().describe('What they are doing, e.g. InAMeeting, InACall, Presenting, OutOfOffice.'),
  statusMessage: untrusted(z.string().nullable(), 'teams'),
  outOfOffice: z.boolean(),
});

interface GraphPresence {
  id: string;
  availability?: string;
  activity?: string;
  statusMessage?: { message?: { content?: string } | null } | null;
  outOfOfficeSettings?: { isOutOfOffice?: boolean } | null;
}

function toPresence(user: string, p: GraphPresence): z.infer<typeof PresenceOut> {
  return {
    user,
    userId: p.id,
    availability: p.availability ?? 'PresenceUnknown',
    activity: p.activity ?? 'PresenceUnknown',
    statusMessage: p.statusMessage?.message?.content ?? null,
    outOfOffice: p.outOfOfficeSettings?.isOutOfOffice === true,
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user id for an id or an address (Graph reads /users/{userPrincipalName}); undefined if unknown. */
async function userIdOf(ctx: ActionContext, user: string): Promise<string | undefined> {
  if (GUID.test(user)) return user;
  try {
    const res = await ctx.graph<{ id: string }>({
      method: 'GET',
      url: `/users/${seg(user)}`,
      query: { $select: 'id' },
    });
    return res.body.id;
  } catch (err) {
    if (err instanceof GraphError && err.status === 404) return undefined;
    throw err;
  }
}

defineAction({
  id: 'people.getPresence',
  service: 'people',
  summary: 'Whether people are available now (Teams presence)',
  description:
    'Returns Teams presence (availability such as Available, Busy, Away, DoNotDisturb, Offline, and activity such as InAMeeting or Presenting) for the signed-in user or for colleagues given by user id or email address (from people.find). Use it before calling or messaging someone who needs a quick answer. Unknown users are listed in notFound.',
  input: z
    .object({
      users: z
        .array(z.string().trim().min(1).max(320))
        .min(1)
        .max(50)
        .optional()
        .describe('User ids or email addresses, up to 50; omit for the signed-in user.'),
    })
    .strict(),
  output: z.object({ items: z.array(PresenceOut), notFound: z.array(z.string()) }),
  feature: 'people',
  scopes: ['Presence.Read.All'],
  kind: 'read',
  idempotent: true,
  run: async (input, ctx) => {
    if (!input.users) {
      const res = await ctx.graph<GraphPresence>({ method: 'GET', url: '/me/presence' });
      return { items: [toPresence('me', res.body)], notFound: [] };
    }
    const users = [...new Set(input.users)];
    const ids = await Promise.all(users.map((u) => userIdOf(ctx, u)));
    const asked = new Map<string, string>();
    users.forEach((u, i) => {
      const id = ids[i];
      if (id) asked.set(id.toLowerCase(), u);
    });
    const notFound = users.filter((_, i) => !ids[i]);
    if (asked.size === 0) return { items: [], notFound };
    const res = await ctx.graph<{ value?: GraphPresence[] }>({
      method: 'POST',
      url: '/communications/getPresencesByUserId',
      idempotent: true,
      body: { ids: [...new Set(ids.filter((id): id is string => !!id))] },
    });
    const items = (res.body.value ?? []).map((p) => toPresence(asked.get(p.id.toLowerCase()) ?? p.id, p));
    const answered = new Set(items.map((i) => i.userId.toLowerCase()));
    for (const [id, u] of asked) if (!answered.has(id)) notFound.push(u);
    return { items, notFound };
  },
});
