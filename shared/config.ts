/**
 * Every setting the app reads, in one zod schema, parsed once and failing closed.
 * Each error names the setting, what is wrong and how to fix it. Secrets (client secret,
 * token keys, caller-token secret) come from Key Vault when KEY_VAULT_URL is set; they are
 * then optional here and resolved by shared/secrets.
 */
import { CLOUD_NAMES, CLOUDS, unavailableIn, type CloudName } from './cloud';
import { z } from 'zod';

export const FEATURES = [
  'mail',
  'mail-shared',
  'calendar',
  'files',
  'teams',
  'teams-history',
  'contacts',
  'todo',
  'people',
  'sharepoint',
  'sharepoint-write',
  'meetings',
  'meetings-content',
  'rooms',
  'mailbox-settings',
  'teams-manage',
  'planner',
  'onenote',
] as const;
export type Feature = (typeof FEATURES)[number];
/** Timer cadences at scale (docs/scale.md): the safety-net round and subscription reconciliation. */
export const DEFAULT_SYNC_SAFETY_NET_MINUTES = 60;
export const DEFAULT_SUBSCRIPTION_RECONCILE_MINUTES = 120;
/** What a connection asks for when MICROSOFT_FEATURES is not set. */
export const DEFAULT_FEATURES = 'mail,calendar,files,teams,contacts,todo,people';

const WHERE =
  'set it in local.settings.json (see local.settings.sample.json) or in the Function App settings / Key Vault';

/** Settings whose values are secrets: never logged, and read from Key Vault when KEY_VAULT_URL is set. */
export const SECRET_SETTINGS = [
  'MICROSOFT_CLIENT_SECRET',
  'TOKEN_ENCRYPTION_KEYS',
  'CALLER_TOKEN_SECRET',
  'EVENTS_SIGNING_SECRETS',
] as const;
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

const httpsUrl = z
  .string()
  .url('must be an absolute URL')
  .refine((v) => v.startsWith('https://'), 'must be an https:// URL');
const absoluteUrl = z.string().url('must be an absolute URL');
const boolFlag = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');
const positiveInt = (min = 1) =>
  z.coerce.number().int('must be a whole number').min(min, `must be at least ${min}`);
const csv = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** What can make a send need confirmation (SEND_CONFIRM, and a user's own send policy). */
export const SEND_CONFIRM_TRIGGERS = ['external', 'new', 'all'] as const;
export type SendConfirmTrigger = (typeof SEND_CONFIRM_TRIGGERS)[number];

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
export const isDomain = (d: string): boolean => DOMAIN.test(d);
const domainList = z
  .string()
  .default('')
  .transform((v, ctx) => {
    const list = csv(v.toLowerCase());
    const bad = list.find((d) => !isDomain(d));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `has "${bad}", which is not a domain like example.com` });
      return z.NEVER;
    }
    return list;
  });

const tokenKeys = z.string().transform((value, ctx) => {
  const keys = csv(value).map((entry) => {
    const [id, material] = entry.split(':');
    return { id: id ?? '', key: Buffer.from(material ?? '', 'base64') };
  });
  for (const k of keys) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id) || k.key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message:
          "must be a comma-separated list of keyId:base64Key entries, each key 32 bytes (generate one with `node -e \"console.log(require('crypto').randomBytes(32).toString('base64'))\"`); the first entry encrypts, all decrypt",
      });
      return z.NEVER;
    }
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'is empty: give at least one keyId:base64Key entry' });
    return z.NEVER;
  }
  return keys;
});

export const configSchema = z.object({
  MICROSOFT_CLIENT_ID: z.string().min(1, 'is missing'),
  MICROSOFT_CLIENT_SECRET: z.string().min(1, 'is missing').optional(),
  MICROSOFT_TENANT_ID: z
    .string()
    .regex(
      /^(common|organizations|consumers|[0-9a-fA-F-]{36}|[A-Za-z0-9.-]+\.[A-Za-z]{2,})$/,
      'must be common, organizations, consumers, a tenant id (GUID) or a verified domain',
    )
    .default('common'),
  MICROSOFT_REDIRECT_URI: absoluteUrl,
  // Which Microsoft cloud (shared/cloud.ts); the two hosts below default to its endpoints.
  MICROSOFT_CLOUD: z.enum(CLOUD_NAMES).default('global'),
  MICROSOFT_AUTHORITY_HOST: httpsUrl.optional(),
  GRAPH_BASE_URL: httpsUrl.optional(),
  MICROSOFT_FEATURES: z
    .string()
    .default(DEFAULT_FEATURES)
    .transform((v, ctx) => {
      const list = csv(v);
      const bad = list.filter((f) => !(FEATURES as readonly string[]).includes(f));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `has unknown feature(s) ${bad.join(', ')}; use ${FEATURES.join(', ')}`,
        });
        return z.NEVER;
      }
      return list as Feature[];
    }),
  KEY_VAULT_URL: httpsUrl.optional(),
  SECRET_CACHE_TTL_SECONDS: positiveInt().default(300),
  AzureWebJobsStorage: z.string().min(1).optional(),
  AzureWebJobsStorage__accountName: z.string().min(1).optional(),
  AzureWebJobsStorage__tableServiceUri: absoluteUrl.optional(),
  AzureWebJobsStorage__queueServiceUri: absoluteUrl.optional(),
  AzureWebJobsStorage__clientId: z.string().min(1).optional(),
  PUBLIC_BASE_URL: absoluteUrl,
  CALLER_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters (256 bits) for HS256').optional(),
  CALLER_JWKS_URL: httpsUrl.optional(),
  // Platforms whose users sign in with Entra ID send that user's access token for this API
  // (audience below, delegated scope ENTRA_API_SCOPE): Graph tokens come from the on-behalf-of grant.
  ENTRA_API_AUDIENCE: z.string().min(1).optional(),
  ENTRA_API_SCOPE: z.string().min(1).default('access_as_user'),
  CALLER_TOKEN_ISSUER: z.string().min(1, 'is missing'),
  CALLER_TOKEN_AUDIENCE: z.string().min(1, 'is missing'),
  RETURN_URL_ALLOWLIST: z
    .string()
    .min(1, 'is missing')
    .transform((v, ctx) => {
      const list = csv(v);
      for (const origin of list) {
        if (!URL.canParse(origin)) {
          ctx.addIssue({ code: 'custom', message: `has "${origin}", which is not an absolute URL prefix` });
          return z.NEVER;
        }
      }
      return list;
    }),
  TOKEN_ENCRYPTION_KEYS: tokenKeys.optional(),
  GRAPH_MAX_RETRY_WAIT_SECONDS: positiveInt().default(60),
  GRAPH_REQUEST_TIMEOUT_MS: positiveInt(100).default(30000),
  GRAPH_MAILBOX_CONCURRENCY: positiveInt().default(4),
  CACHE_TTL_SECONDS: positiveInt().default(300),
  /**
   * How long a read-only action may be answered from the connection row this instance read last,
   * without reading it again (docs/security.md, "The hot path"): a disconnect, reauth or scope
   * change made by another instance takes effect within this bound; 0 reads the row every time.
   */
  CONNECTION_RECHECK_SECONDS: z.coerce.number().int('must be a whole number').min(0).max(60).default(5),
  /**
   * Where the audit log's write-ahead journal lives (shared/audit/journal.ts): a local folder the
   * app's processes on one machine share. Defaults to <os temp>/m365-audit-journal.
   */
  AUDIT_JOURNAL_DIR: z.string().min(1).optional(),
  TEAMS_CHAT_SUBSCRIPTIONS_ENABLED: boolFlag.default(false),
  SYNC_INTERVAL_MINUTES: positiveInt().default(15),
  /**
   * How often a resource Graph notifies about gets a timer round: the safety net under its
   * notifications (docs/scale.md). Whole timer intervals (rounded); each user's turn is spread by
   * a hash of the user id. Resources without notifications get a round every interval.
   */
  SYNC_SAFETY_NET_MINUTES: positiveInt().default(DEFAULT_SYNC_SAFETY_NET_MINUTES),
  /**
   * A timer tick's jobs (sync rounds, subscription reconciliation) are spread over this many
   * minutes by user: at most the timer's interval, which is the default; 0 = all at the tick.
   */
  TIMER_SPREAD_MINUTES: z.coerce.number().int('must be a whole number').min(0).max(1440).optional(),
  /**
   * How often each user's subscriptions are reconciled (renewed within 6 hours of expiry, recreated
   * when lost), in whole 30-minute ticks, in the user's turn (docs/scale.md). At most 180, so a
   * subscription has two chances inside the renewal window.
   */
  SUBSCRIPTION_RECONCILE_MINUTES: z.coerce
    .number()
    .int('must be a whole number')
    .min(30)
    .max(180)
    .default(120),
  /**
   * Storage accounts the users' rows and queued work are spread across by a hash of the user
   * (shared/shards.ts): shard 0 is AzureWebJobsStorage, shard k the setting STORAGE_SHARD_{k}.
   */
  STORAGE_SHARDS: z.coerce.number().int('must be a whole number').min(1).max(64).default(1),
  /** Mail folders tracked besides the Inbox: well-known names (archive, sentitems) or folder ids. */
  SYNC_MAIL_FOLDERS: z
    .string()
    .default('inbox')
    .transform((v, ctx) => {
      const list = csv(v);
      if (list.some((f) => !/^[A-Za-z0-9=_+/-]{1,200}$/.test(f))) {
        ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of folder names or ids' });
        return z.NEVER;
      }
      // The Inbox is always tracked; well-known names are case-insensitive.
      return [...new Set(['inbox', ...list.map((f) => (/^[a-z]+$/i.test(f) ? f.toLowerCase() : f))])];
    }),
  SYNC_CALENDAR_DAYS_BACK: z.coerce.number().int().min(0).max(3650).default(30),
  SYNC_CALENDAR_DAYS_AHEAD: z.coerce.number().int().min(1).max(3650).default(365),
  /** `Prefer: odata.maxpagesize` for delta pages (Outlook accepts up to 1000, reference §4.1). */
  SYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  CHANGE_RETENTION_DAYS: positiveInt().default(30),
  /**
   * After a safety-net sync round finds changes no notification announced, how long the app waits
   * for their notifications before it calls the feed degraded and resubscribes (docs/events.md).
   */
  FEED_SILENCE_GRACE_SECONDS: z.coerce.number().int('must be a whole number').min(1).max(3600).default(60),
  /**
   * Guarded sends (docs/assistants.md#guarded-sends): which outbound mail and Teams messages need
   * the user's confirmation first: `external` (a recipient outside SEND_INTERNAL_DOMAINS and the
   * user's own domain), `new` (a mail recipient the user never wrote to), `all`, or `none`.
   * A user's own policy can add to this, never take away.
   */
  SEND_CONFIRM: z
    .string()
    .default('none')
    .transform((v, ctx) => {
      const list = csv(v.toLowerCase());
      const bad = list.filter(
        (t) => !(SEND_CONFIRM_TRIGGERS as readonly string[]).includes(t) && t !== 'none',
      );
      if (bad.length || (list.includes('none') && list.length > 1)) {
        ctx.addIssue({
          code: 'custom',
          message: `must be none or a comma-separated list of ${SEND_CONFIRM_TRIGGERS.join(', ')}`,
        });
        return z.NEVER;
      }
      return list.filter((t): t is SendConfirmTrigger => t !== 'none');
    }),
  /** Recipient domains outbound mail may go to (empty: any). Others are refused outright. */
  SEND_ALLOWED_DOMAINS: domainList,
  /** Domains counted as internal besides the user's own (e.g. a tenant's other verified domains). */
  SEND_INTERNAL_DOMAINS: domainList,
  /** Seconds every outbound mail and Teams message waits before it goes, cancellable (0: off). */
  SEND_UNDO_SECONDS: z.coerce.number().int('must be a whole number').min(0).max(600).default(0),
  /**
   * Signed outbound events (docs/events.md): one to three Standard Webhooks secrets (`whsec_…`),
   * comma-separated; every delivery is signed with each (list the new one first during a rotation).
   */
  EVENTS_SIGNING_SECRETS: z.string().min(1).optional(),
  /** Seconds before the first retry of a failed event delivery; each next wait doubles (max 1 h). */
  EVENTS_RETRY_SECONDS: z.coerce.number().int('must be a whole number').min(1).max(3600).default(5),
  /** How long a failing event is retried before it goes to the dead-letter list (default 24 h). */
  EVENTS_RETRY_FOR_SECONDS: z.coerce
    .number()
    .int('must be a whole number')
    .min(1)
    .max(7 * 86400)
    .default(86400),
  /**
   * Seconds a receiver has to answer one event before the attempt counts as failed. The delivery
   * lease is this plus 5 s (renewed after every event), so a worker killed mid-delivery blocks the
   * user's stream for at most that long.
   */
  EVENTS_TIMEOUT_SECONDS: z.coerce.number().int('must be a whole number').min(1).max(60).default(15),
  MCP_READ_ONLY: boolFlag.default(false),
  /**
   * This app as the MCP authorization server (shared/mcp/oauth): any MCP client signs its user in
   * with Microsoft and gets tokens for /api/mcp. Off: /api/mcp takes the platform's JWT only.
   */
  MCP_OAUTH: boolFlag.default(true),
  /** RFC 7591 dynamic client registration (client ID metadata documents work either way). */
  MCP_OAUTH_REGISTRATION: boolFlag.default(true),
  /** Registrations one network address may make per hour (and 50 times that from all addresses). */
  MCP_OAUTH_REGISTRATIONS_PER_HOUR: positiveInt().max(10000).default(10),
  /**
   * Host names whose client ID metadata documents may be fetched although they resolve to a
   * private or loopback address (never in production: a server-side request forgery guard).
   */
  MCP_OAUTH_PRIVATE_METADATA_HOSTS: z
    .string()
    .default('')
    .transform((v) => csv(v).map((h) => h.toLowerCase())),
  /**
   * Browser origins allowed to call /api/mcp (the MCP transport spec: servers must validate
   * Origin against DNS rebinding). Requests without an Origin (servers) are not affected.
   */
  MCP_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const list = csv(v);
      for (const origin of list) {
        if (!URL.canParse(origin) || new URL(origin).origin !== origin) {
          ctx.addIssue({
            code: 'custom',
            message: `has "${origin}", which is not an origin like https://app.example.com`,
          });
          return z.NEVER;
        }
      }
      return list;
    }),
});

/**
 * Rules across settings, checked on the raw values so they are reported together with the
 * per-setting errors (zod skips refinements once a field fails).
 */
function crossSettingProblems(c: Record<string, string>): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  const kv = c.KEY_VAULT_URL !== undefined;
  if (!kv) {
    for (const name of SECRET_SETTINGS) {
      // Optional: the caller secret (or CALLER_JWKS_URL), the events secret (only with endpoints).
      if (name === 'CALLER_TOKEN_SECRET' || name === 'EVENTS_SIGNING_SECRETS') continue;
      if (c[name] === undefined) problems.push([name, 'is missing']);
    }
    if (!c.CALLER_TOKEN_SECRET && !c.CALLER_JWKS_URL) {
      problems.push([
        'CALLER_TOKEN_SECRET',
        'is missing and so is CALLER_JWKS_URL: callers must be verifiable with one of them',
      ]);
    }
  }
  // Every shard names its account: a connection string, or (managed identity) both service URIs:
  // the Functions host reads the queue one for the shard's queue triggers (shared/shards.ts).
  const shards = Number(c.STORAGE_SHARDS ?? '1');
  for (let k = 1; Number.isInteger(shards) && k < Math.min(shards, 64); k++) {
    const name = `STORAGE_SHARD_${k}`;
    if (c[name] !== undefined) continue;
    const missing = ['tableServiceUri', 'queueServiceUri'].filter((p) => c[`${name}__${p}`] === undefined);
    if (missing.length === 0) continue;
    problems.push([
      name,
      missing.length === 2
        ? `is missing: STORAGE_SHARDS is ${shards}, so shard ${k} needs its storage account (a connection string, or ${name}__tableServiceUri and ${name}__queueServiceUri with managed identity)`
        : `needs ${name}__${missing[0]} too: the shard's tables and its queues (and their triggers) are both reached with the managed identity`,
    ]);
  }
  const cloud = (CLOUD_NAMES as readonly string[]).includes(c.MICROSOFT_CLOUD ?? 'global')
    ? CLOUDS[(c.MICROSOFT_CLOUD ?? 'global') as CloudName]
    : undefined;
  if (cloud && c.MICROSOFT_CLOUD && c.MICROSOFT_CLOUD !== 'global') {
    // Personal Microsoft accounts exist only in the global service (deployments.md).
    if (c.MICROSOFT_TENANT_ID === 'consumers')
      problems.push([
        'MICROSOFT_TENANT_ID',
        `cannot be consumers in ${cloud.label}: personal accounts exist only in the global service`,
      ]);
    for (const feature of csv(c.MICROSOFT_FEATURES ?? '')) {
      const why = unavailableIn(c.MICROSOFT_CLOUD as CloudName, feature);
      if (why) problems.push(['MICROSOFT_FEATURES', `has ${feature}: ${why}`]);
    }
    if (c.KEY_VAULT_URL && URL.canParse(c.KEY_VAULT_URL) && !isLoopback(c.KEY_VAULT_URL)) {
      if (!new URL(c.KEY_VAULT_URL).hostname.endsWith(cloud.keyVaultSuffix))
        problems.push(['KEY_VAULT_URL', `is not a vault of ${cloud.label} (*${cloud.keyVaultSuffix})`]);
    }
  }
  // The sample's sandbox-only secrets must never reach real Microsoft (fail closed).
  const graph = c.GRAPH_BASE_URL ?? cloud?.graphBaseUrl ?? CLOUDS.global.graphBaseUrl;
  const authority = c.MICROSOFT_AUTHORITY_HOST ?? cloud?.authorityHost ?? CLOUDS.global.authorityHost;
  if (!isLoopback(graph) || !isLoopback(authority)) {
    const samples: Array<[string, boolean]> = [
      ['MICROSOFT_CLIENT_SECRET', c.MICROSOFT_CLIENT_SECRET?.startsWith('sandbox-only') ?? false],
      ['CALLER_TOKEN_SECRET', c.CALLER_TOKEN_SECRET?.startsWith('sandbox-only') ?? false],
      ['TOKEN_ENCRYPTION_KEYS', csv(c.TOKEN_ENCRYPTION_KEYS ?? '').some((k) => k.startsWith('sandbox'))],
      [
        'EVENTS_SIGNING_SECRETS',
        csv(c.EVENTS_SIGNING_SECRETS ?? '').some((k) =>
          Buffer.from(k.replace(/^whsec_/, ''), 'base64')
            .toString('latin1')
            .startsWith('sandbox-only'),
        ),
      ],
    ];
    for (const [name, isSample] of samples) {
      if (isSample)
        problems.push([
          name,
          'still holds the sandbox sample value while pointing at real Microsoft: generate a real secret',
        ]);
    }
  }
  if (
    !c.AzureWebJobsStorage &&
    !c.AzureWebJobsStorage__accountName &&
    !c.AzureWebJobsStorage__tableServiceUri
  ) {
    problems.push([
      'AzureWebJobsStorage',
      'is missing: give a connection string (UseDevelopmentStorage=true locally) or identity-based AzureWebJobsStorage__accountName',
    ]);
  }
  return problems;
}

function isLoopback(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** The settings, with the cloud's endpoints filled in where not set. */
export type AppConfig = Omit<z.output<typeof configSchema>, 'MICROSOFT_AUTHORITY_HOST' | 'GRAPH_BASE_URL'> & {
  MICROSOFT_AUTHORITY_HOST: string;
  GRAPH_BASE_URL: string;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
  }
}

/** Parses settings from an environment-like record; throws ConfigError naming every bad setting. */
export function parseConfig(env: Record<string, string | undefined>): AppConfig {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = configSchema.safeParse(input);
  const problems = crossSettingProblems(input).map(([name, message]) => `${name} ${message}: ${WHERE}`);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? 'configuration');
      const message =
        issue.code === 'invalid_type' && input[name] === undefined ? 'is missing' : issue.message;
      problems.push(`${name} ${message}: ${WHERE}`);
    }
  }
  if (result.success && problems.length === 0) {
    const cloud = CLOUDS[result.data.MICROSOFT_CLOUD];
    return {
      ...result.data,
      MICROSOFT_AUTHORITY_HOST: result.data.MICROSOFT_AUTHORITY_HOST ?? cloud.authorityHost,
      GRAPH_BASE_URL: result.data.GRAPH_BASE_URL ?? cloud.graphBaseUrl,
    };
  }
  throw new ConfigError([...new Set(problems)]);
}

let cached: AppConfig | undefined;
let cachedError: ConfigError | undefined;

/** The parsed settings of this process (parsed once; a bad configuration keeps failing, closed). */
export function getConfig(): AppConfig {
  if (cached) return cached;
  if (cachedError) throw cachedError;
  try {
    cached = parseConfig(process.env);
    return cached;
  } catch (err) {
    if (err instanceof ConfigError) cachedError = err;
    throw err;
  }
}

/** For tests and the local host, which change process.env before the app reads it. */
export function resetConfig(): void {
  cached = undefined;
  cachedError = undefined;
}
