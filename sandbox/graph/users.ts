/**
 * Users: `GET /me`, `GET /users/{id | userPrincipalName}`, `GET /users`,
 * (https://learn.microsoft.com/graph/api/user-get); mailbox settings live in ./mailbox/settings.ts.
 */
import type { Sandbox } from '../context';
import type { SandboxUser } from '../state';
import { entityResponse, graphRoute, type GraphCtx } from './core';
import { badQuery, notFound } from './errors';
import { applySelect, parseODataQuery } from './odata';
import { collection } from './paging';
import { mailboxSettings } from './mailbox/settings';

/** The default user properties Graph v1.0 returns without $select. */
export function userResource(user: SandboxUser): Record<string, unknown> {
  return {
    businessPhones: [],
    displayName: user.displayName,
    givenName: user.givenName || null,
    jobTitle: user.jobTitle,
    mail: user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: 'en-US',
    surname: user.surname || null,
    userPrincipalName: user.userPrincipalName,
    id: user.id,
  };
}

const DEFAULT_USER_KEYS = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

function pickDefault(u: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(DEFAULT_USER_KEYS.map((k) => [k, u[k]]));
}

/** Properties only returned through $select. */
function userSelectable(sandbox: Sandbox, user: SandboxUser): Record<string, unknown> {
  return {
    ...userResource(user),
    accountEnabled: true,
    mailNickname: user.userPrincipalName.split('@')[0],
    userType: 'Member',
    mailboxSettings: mailboxSettings(sandbox, user),
  };
}

/**
 * `$search` on users (https://learn.microsoft.com/graph/search-query-parameter#using-search-on-directory-object-collections):
 * `"property:value"` clauses joined by AND / OR; a value matches the start of any word of the
 * property (tokenised on spaces, casing and symbols). A clause without a property is a 400.
 */
const USER_SEARCHABLE = [
  'displayname',
  'givenname',
  'surname',
  'mail',
  'userprincipalname',
  'jobtitle',
  'mailnickname',
];

function userSearch(user: Record<string, unknown>, term: string): boolean {
  const clauses = term.split(/"?\s+(AND|OR)\s+"?/);
  let result: boolean | undefined;
  let op = 'AND';
  for (const part of clauses) {
    if (part === 'AND' || part === 'OR') {
      op = part;
      continue;
    }
    const m = /^"?([A-Za-z]+):(.*?)"?$/.exec(part.trim());
    if (!m || !USER_SEARCHABLE.includes(m[1]!.toLowerCase())) {
      throw badQuery(
        'directory',
        `Invalid search clause '${part.trim()}': use "property:value", e.g. "displayName:meg".`,
      );
    }
    const key = Object.keys(user).find((k) => k.toLowerCase() === m[1]!.toLowerCase());
    const words = (key && typeof user[key] === 'string' ? user[key] : '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u);
    const value = m[2]!.toLowerCase();
    const hit = words.some((w) => w.startsWith(value));
    result = result === undefined ? hit : op === 'AND' ? result && hit : result || hit;
  }
  return result ?? false;
}

const USER_READ = {
  anyOf: ['User.Read', 'User.ReadWrite', 'User.ReadBasic.All', 'User.Read.All', 'Directory.Read.All'],
  other: ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'],
  app: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All'],
};

export function installUsers(sandbox: Sandbox): void {
  graphRoute(
    sandbox,
    'GET',
    '/me',
    { scopes: USER_READ, workload: 'directory', otherUsers: 'directory', throttle: 'none' },
    (ctx: GraphCtx) => {
      const user = ctx.user;
      if (!user) throw notFound('directory');
      const q = parseODataQuery(ctx.query, 'directory');
      const entity = q.select ? applySelect(userSelectable(sandbox, user), q.select) : userResource(user);
      // Graph: "$metadata#users/$entity" or "$metadata#users(displayName,mail)/$entity".
      return entityResponse(ctx, entity, {
        context: q.select ? `users(${q.select.join(',')})/$entity` : 'users/$entity',
      });
    },
  );

  graphRoute(
    sandbox,
    'GET',
    '/users',
    { scopes: { anyOf: USER_READ.other, app: USER_READ.app }, workload: 'directory', throttle: 'none' },
    (ctx: GraphCtx) => {
      const selected = [...ctx.query.keys()].some((k) => k.toLowerCase() === '$select');
      const param = (name: string) => [...ctx.query.entries()].find(([k]) => k.toLowerCase() === name)?.[1];
      const eventual = String(ctx.req.headers.consistencylevel ?? '').toLowerCase() === 'eventual';
      // Directory "advanced queries" (aad-advanced-queries.md): endsWith, ne and not in $filter need
      // ConsistencyLevel: eventual and $count=true; without them Graph answers "Unsupported Query."
      // (microsoftgraph/microsoft-graph-docs#10324, #11575).
      const filter = param('$filter') ?? '';
      if (/\bendswith\s*\(|\sne\s|\bnot\s*\(/i.test(filter) && !(eventual && param('$count') === 'true')) {
        throw badQuery('directory', 'Unsupported Query.');
      }
      // $search on directory objects needs ConsistencyLevel: eventual (search-query-parameter.md).
      if (param('$search') !== undefined && !eventual) {
        throw badQuery(
          'directory',
          "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
        );
      }
      const users = [...sandbox.directory.users.values()].filter((u) => u.tenantId === ctx.auth.tenantId);
      // Directory collections page with $skiptoken; $top up to 999 (https://learn.microsoft.com/graph/paging).
      return collection(
        ctx,
        users.map((u) => userSelectable(sandbox, u)),
        {
          kind: 'skiptoken',
          maxTop: 999,
          defaultTop: 100,
          render: (u) => (selected ? u : pickDefault(u)),
          search: userSearch,
          context: 'users',
        },
      );
    },
  );
}
