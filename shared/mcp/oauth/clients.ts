/**
 * Who an MCP client is. Two ways, as the MCP authorization spec (2025-11-25) prefers them:
 * - a client ID metadata document (draft-ietf-oauth-client-id-metadata-document): the client_id
 *   is an https URL, and the JSON it serves names the client and its redirect URIs. Fetched at
 *   authorization with no redirects, a size and time limit, and never from a private address
 *   (server-side request forgery) unless MCP_OAUTH_PRIVATE_METADATA_HOSTS names the host.
 * - dynamic client registration (RFC 7591), rate-limited per address and overall, and off with
 *   MCP_OAUTH_REGISTRATION=false.
 * Redirect URIs match exactly, except that a loopback `http` URI matches on any port (RFC 8252
 * §7.3: native apps listen on an ephemeral port); path and query never vary.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { getConfig } from '../../config';
import { table } from '../../storage/clients';

export const CLIENTS_TABLE = 'mcpclients';
export const RATES_TABLE = 'mcpregistrations';
const DCR_PARTITION = 'dcr';

export interface McpClient {
  clientId: string;
  name: string;
  redirectUris: string[];
  /** `none` for public clients; a registered confidential client proves its secret at the token endpoint. */
  authMethod: 'none' | 'client_secret_post' | 'client_secret_basic';
  secretHash?: string;
  kind: 'metadata_document' | 'registered';
  /** Where the client says it lives (shown on the consent screen when it has one). */
  clientUri?: string;
}

/** An OAuth error as RFC 6749 §5.2 / RFC 7591 §3.2.2 spell them. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
  body(): Record<string, string> {
    return { error: this.error, error_description: this.description };
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FORBIDDEN_SCHEMES = new Set([
  'javascript:',
  'data:',
  'file:',
  'vbscript:',
  'about:',
  'blob:',
  'ws:',
  'wss:',
]);

/** Why a redirect URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: unknown): string | undefined {
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > 2000)
    return 'must be a URI of at most 2000 characters';
  if (!URL.canParse(uri)) return `"${uri.slice(0, 100)}" is not an absolute URI`;
  const url = new URL(uri);
  if (url.hash || uri.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:')
    return LOOPBACK_HOSTS.has(url.hostname)
      ? undefined
      : 'http is allowed only on a loopback address (127.0.0.1, [::1] or localhost, RFC 8252 §7.3); use https';
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `the ${url.protocol} scheme cannot be a redirect URI`;
  // RFC 8252 §7.1: a private-use scheme, such as vscode: or cursor:.
  return undefined;
}

/** Whether the URI the client presents is one it registered (RFC 8252 §7.3 for loopback ports). */
export function redirectMatches(registered: readonly string[], presented: string): boolean {
  if (registered.includes(presented)) return true;
  if (!URL.canParse(presented)) return false;
  const p = new URL(presented);
  if (p.protocol !== 'http:' || !LOOPBACK_HOSTS.has(p.hostname)) return false;
  return registered.some((r) => {
    if (!URL.canParse(r)) return false;
    const u = new URL(r);
    return (
      u.protocol === 'http:' &&
      u.hostname === p.hostname &&
      u.pathname === p.pathname &&
      u.search === p.search &&
      !p.hash &&
      !p.username &&
      !p.password
    );
  });
}

const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/** Confirms a confidential registered client's secret (public clients have none to prove). */
export function authenticateClient(client: McpClient, secret: string | undefined): void {
  if (client.authMethod === 'none') return;
  if (!secret || !client.secretHash || !sameSecret(hash(secret), client.secretHash))
    throw new OAuthError('invalid_client', 'The client secret is missing or wrong.', 401);
}

// ------------------------------------------------------------------ registration (RFC 7591)

function text(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined;
}

/** One fixed window per hour and address, and one for everyone (so rotating addresses cannot flood). */
async function takeRegistrationSlot(address: string): Promise<void> {
  const perHour = getConfig().MCP_OAUTH_REGISTRATIONS_PER_HOUR;
  const hour = new Date().toISOString().slice(0, 13);
  const client = await table(RATES_TABLE);
  for (const [key, limit] of [
    [`addr-${hash(address).slice(0, 32)}`, perHour],
    ['all', perHour * 50],
  ] as const) {
    for (let attempt = 0; ; attempt++) {
      let count = 0;
      let etag: string | undefined;
      try {
        const row = await client.getEntity<{ count?: number }>(hour, key);
        count = Number(row.count ?? 0);
        etag = row.etag;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
      if (count >= limit) {
        const retry = 3600 - Math.floor((Date.now() % 3600_000) / 1000);
        throw new OAuthError(
          'temporarily_unavailable',
          `Too many client registrations ${key === 'all' ? 'overall' : 'from this address'} this hour; retry in ${retry} s, or use a client ID metadata document.`,
          429,
          { 'retry-after': String(retry) },
        );
      }
      try {
        if (etag)
          await client.updateEntity({ partitionKey: hour, rowKey: key, count: count + 1 }, 'Merge', { etag });
        else await client.createEntity({ partitionKey: hour, rowKey: key, count: 1 });
        break;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if ((status === 409 || status === 412) && attempt < 5) continue;
        throw err;
      }
    }
  }
}

export interface RegistrationResult {
  status: number;
  body: Record<string, unknown>;
}

export async function registerClient(body: unknown, address: string): Promise<RegistrationResult> {
  if (!getConfig().MCP_OAUTH_REGISTRATION)
    throw new OAuthError(
      'access_denied',
      'Dynamic client registration is turned off on this server; use a client ID metadata document (an https client_id).',
      403,
    );
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new OAuthError(
      'invalid_client_metadata',
      'Send the client metadata as a JSON object (RFC 7591 §2).',
    );
  const m = body as Record<string, unknown>;
  const uris = m.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10)
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris must list 1 to 10 redirect URIs.');
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw new OAuthError('invalid_redirect_uri', `A redirect URI ${problem}.`);
  }
  const grants: unknown[] = Array.isArray(m.grant_types)
    ? (m.grant_types as unknown[])
    : ['authorization_code'];
  const unsupportedGrant = grants.find((g) => g !== 'authorization_code' && g !== 'refresh_token');
  if (unsupportedGrant !== undefined)
    throw new OAuthError(
      'invalid_client_metadata',
      `grant_types may hold authorization_code and refresh_token only, not ${JSON.stringify(unsupportedGrant).slice(0, 60)}.`,
    );
  const responses = Array.isArray(m.response_types) ? m.response_types : ['code'];
  if (responses.some((r) => r !== 'code'))
    throw new OAuthError('invalid_client_metadata', 'response_types may hold "code" only.');
  const method = m.token_endpoint_auth_method ?? 'client_secret_basic';
  if (method !== 'none' && method !== 'client_secret_post' && method !== 'client_secret_basic')
    throw new OAuthError(
      'invalid_client_metadata',
      'token_endpoint_auth_method must be none, client_secret_post or client_secret_basic.',
    );
  await takeRegistrationSlot(address);
  const clientId = `mcp_${randomBytes(18).toString('base64url')}`;
  const secret = method === 'none' ? undefined : randomBytes(32).toString('base64url');
  const name = text(m.client_name, 100) ?? 'Unnamed MCP client';
  const clientUri = text(m.client_uri, 300);
  const issuedAt = Math.floor(Date.now() / 1000);
  const client = await table(CLIENTS_TABLE);
  await client.createEntity({
    partitionKey: DCR_PARTITION,
    rowKey: clientId,
    name,
    redirectUris: JSON.stringify(uris),
    authMethod: method,
    ...(secret ? { secretHash: hash(secret) } : {}),
    ...(clientUri && URL.canParse(clientUri) ? { clientUri } : {}),
    registeredAt: new Date().toISOString(),
  });
  return {
    status: 201,
    body: {
      client_id: clientId,
      client_id_issued_at: issuedAt,
      ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
      client_name: name,
      redirect_uris: uris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: method,
    },
  };
}

async function registeredClient(clientId: string): Promise<McpClient | undefined> {
  if (!/^mcp_[A-Za-z0-9_-]{24}$/.test(clientId)) return undefined;
  try {
    const row = await (
      await table(CLIENTS_TABLE)
    ).getEntity<Record<string, unknown>>(DCR_PARTITION, clientId);
    return {
      clientId,
      name: typeof row.name === 'string' ? row.name : 'Unnamed MCP client',
      redirectUris: JSON.parse(typeof row.redirectUris === 'string' ? row.redirectUris : '[]') as string[],
      authMethod: (row.authMethod as McpClient['authMethod']) ?? 'none',
      ...(typeof row.secretHash === 'string' ? { secretHash: row.secretHash } : {}),
      ...(typeof row.clientUri === 'string' ? { clientUri: row.clientUri } : {}),
      kind: 'registered',
    };
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

// ------------------------------------------------------------------ client ID metadata documents

const METADATA_MAX_BYTES = 5 * 1024;
const METADATA_TIMEOUT_MS = 5000;
const METADATA_CACHE_MS = 5 * 60 * 1000;
const documents = new Map<string, { client: McpClient; until: number }>();

/** Why an https client_id cannot be a metadata document URL (draft §3), or undefined. */
export function metadataUrlProblem(clientId: string): string | undefined {
  if (!URL.canParse(clientId)) return 'is not a URL';
  const url = new URL(clientId);
  if (url.protocol !== 'https:') return 'must be an https URL';
  if (url.pathname === '/' || url.pathname === '') return 'must have a path';
  if (url.hash || clientId.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (/\/\.\.?(\/|$)/.test(clientId.slice(url.origin.length))) return 'must not have . or .. path segments';
  return undefined;
}

/** Private, loopback, link-local and shared address space: never fetched on a client's word. */
export function isPrivateAddress(address: string): boolean {
  const v = isIP(address);
  if (v === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (v === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped) return isPrivateAddress(mapped[1]!);
    return (
      lower === '::' ||
      lower === '::1' ||
      /^f[cd]/.test(lower) ||
      /^fe[89ab]/.test(lower) ||
      /^ff/.test(lower)
    );
  }
  return true;
}

/** Resolves like dns.lookup, refusing private addresses unless the host is allow-listed. */
function guardedLookup(allowPrivate: boolean) {
  return (
    hostname: string,
    options: object,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const list = addresses;
      if (!allowPrivate && list.some((a) => isPrivateAddress(a.address))) {
        const refused = Object.assign(new Error(`${hostname} resolves to a private address`), {
          code: 'EPRIVATE',
        });
        return callback(refused, '');
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}

function fetchDocument(url: URL): Promise<string> {
  const allowPrivate = getConfig().MCP_OAUTH_PRIVATE_METADATA_HOSTS.includes(url.hostname.toLowerCase());
  if (
    !allowPrivate &&
    isIP(url.hostname.replace(/^\[|\]$/g, '')) &&
    isPrivateAddress(url.hostname.replace(/^\[|\]$/g, ''))
  )
    return Promise.reject(new Error('a private address'));
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: 'GET',
        headers: { accept: 'application/json' },
        lookup: guardedLookup(allowPrivate),
        timeout: METADATA_TIMEOUT_MS,
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          // No redirects: the document must live at the client_id itself.
          return reject(new Error(`HTTP ${res.statusCode}`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > METADATA_MAX_BYTES) {
            req.destroy(new Error(`larger than ${METADATA_MAX_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', reject);
    req.end();
  });
}

async function documentClient(clientId: string): Promise<McpClient> {
  const cached = documents.get(clientId);
  if (cached && cached.until > Date.now()) return cached.client;
  const problem = metadataUrlProblem(clientId);
  if (problem)
    throw new OAuthError('invalid_client', `The client_id ${problem} to be a client ID metadata document.`);
  let raw: string;
  try {
    raw = await fetchDocument(new URL(clientId));
  } catch (err) {
    throw new OAuthError(
      'invalid_client',
      `The client ID metadata document at ${clientId.slice(0, 200)} could not be fetched (${(err as Error).message.slice(0, 100)}).`,
    );
  }
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    throw new OAuthError('invalid_client', 'The client ID metadata document is not JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new OAuthError('invalid_client', 'The client ID metadata document is not a JSON object.');
  if (doc.client_id !== clientId)
    throw new OAuthError(
      'invalid_client',
      'The client ID metadata document names another client_id than the URL it was fetched from.',
    );
  if (
    doc.client_secret !== undefined ||
    (typeof doc.token_endpoint_auth_method === 'string' &&
      doc.token_endpoint_auth_method.startsWith('client_secret'))
  )
    throw new OAuthError(
      'invalid_client',
      'A client ID metadata document cannot use a shared client secret.',
    );
  const uris = doc.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.some((u) => redirectUriProblem(u) !== undefined))
    throw new OAuthError('invalid_client', 'The client ID metadata document must list valid redirect_uris.');
  const clientUri = text(doc.client_uri, 300);
  const client: McpClient = {
    clientId,
    name: text(doc.client_name, 100) ?? new URL(clientId).hostname,
    redirectUris: uris as string[],
    authMethod: 'none',
    kind: 'metadata_document',
    ...(clientUri && URL.canParse(clientUri) ? { clientUri } : {}),
  };
  documents.set(clientId, { client, until: Date.now() + METADATA_CACHE_MS });
  return client;
}

/** The client a client_id names, or an invalid_client error saying why not. */
export async function resolveClient(clientId: string | null | undefined): Promise<McpClient> {
  if (!clientId) throw new OAuthError('invalid_request', 'client_id is missing.');
  if (clientId.startsWith('https://')) return await documentClient(clientId);
  if (clientId.includes(':'))
    throw new OAuthError('invalid_client', 'A client_id URL must be https (a client ID metadata document).');
  const registered = await registeredClient(clientId);
  if (!registered) throw new OAuthError('invalid_client', 'This client_id is not registered here.');
  return registered;
}

/** For tests: forget fetched documents. */
export function forgetClientDocuments(): void {
  documents.clear();
}
