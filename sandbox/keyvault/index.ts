/**
 * Key Vault secrets (get, set, list, versions, delete/recover/purge) behind the 401 challenge
 * flow, served at the root of the sandbox port: vaultUrl = sandbox.keyVaultUrl, so secret ids
 * look like https://127.0.0.1:PORT/secrets/{name}/{version}. (The SDK parses ids expecting
 * `/secrets/` as the first path segment, so a path prefix on the vault URL would break it.)
 * [EMU] REST API: https://learn.microsoft.com/rest/api/keyvault/secrets/operation-groups
 * [EMU] Challenge: https://learn.microsoft.com/azure/key-vault/general/authentication-requests-and-responses#authentication
 */
import type { Ctx, Handler, Sandbox } from '../context';
import type { SandboxResponse } from '../http';
import { KEY_VAULT_RESOURCE } from '../tokens';
import {
  deleteSecret,
  key,
  SECRET_NAME,
  setSecret,
  vaultState,
  type DeletedSecret,
  type SecretVersion,
} from './store';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' };

function kvError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  innerCode?: string,
): SandboxResponse {
  const error: Record<string, unknown> = { code, message };
  if (innerCode) error.innererror = { code: innerCode };
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: { error } };
}

function notFound(name: string): SandboxResponse {
  return kvError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}

function ok(body: unknown, status = 200): SandboxResponse {
  return { status, headers: JSON_HEADERS, body };
}

function secretId(sandbox: Sandbox, s: SecretVersion, withVersion = true): string {
  return `${sandbox.keyVaultUrl}/secrets/${s.name}${withVersion ? `/${s.version}` : ''}`;
}

function attributes(s: SecretVersion): Record<string, unknown> {
  const a: Record<string, unknown> = { ...s.attributes };
  for (const k of Object.keys(a)) if (a[k] === undefined) delete a[k];
  return a;
}

function bundle(sandbox: Sandbox, s: SecretVersion): Record<string, unknown> {
  const b: Record<string, unknown> = { value: s.value, id: secretId(sandbox, s), attributes: attributes(s) };
  if (s.contentType) b.contentType = s.contentType;
  if (s.tags) b.tags = s.tags;
  return b;
}

function item(sandbox: Sandbox, s: SecretVersion, withVersion: boolean): Record<string, unknown> {
  const b: Record<string, unknown> = { id: secretId(sandbox, s, withVersion), attributes: attributes(s) };
  if (s.contentType) b.contentType = s.contentType;
  if (s.tags) b.tags = s.tags;
  return b;
}

function deletedBundle(sandbox: Sandbox, d: DeletedSecret, withValue: boolean): Record<string, unknown> {
  const latest = d.versions[d.versions.length - 1]!;
  const base = withValue ? bundle(sandbox, latest) : item(sandbox, latest, true);
  return {
    ...base,
    recoveryId: `${sandbox.keyVaultUrl}/deletedsecrets/${latest.name}`,
    deletedDate: d.deletedDate,
    scheduledPurgeDate: d.scheduledPurgeDate,
  };
}

/**
 * [EMU] Requests without a valid token get 401 and the challenge the SDK reads to find the
 * authority and resource (toolchain.md "Key Vault SDK against the sandbox"); tokens must be
 * RS256-signed by the sandbox, unexpired, and for aud https://vault.azure.net.
 */
async function authenticate(ctx: Ctx): Promise<SandboxResponse | undefined> {
  const sandbox = ctx.sandbox;
  const challenge = {
    'www-authenticate': `Bearer authorization="${sandbox.authorityHost}/${sandbox.tenantId}", resource="${KEY_VAULT_RESOURCE}"`,
  };
  const header = ctx.headers.authorization;
  if (!header?.toLowerCase().startsWith('bearer ')) {
    return kvError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', challenge);
  }
  const verified = await sandbox.keys.verify(header.slice(7).trim(), Math.floor(sandbox.now() / 1000));
  if (!verified.ok) {
    return kvError(
      401,
      'Unauthorized',
      verified.reason === 'expired'
        ? 'AKV10022: Token is expired.'
        : 'AKV10000: Token signature validation failed.',
      challenge,
    );
  }
  const aud = verified.claims.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((a) => a === KEY_VAULT_RESOURCE || a === `${KEY_VAULT_RESOURCE}/`)) {
    return kvError(
      401,
      'Unauthorized',
      `AKV10022: Invalid audience. Expected ${KEY_VAULT_RESOURCE}, found: ${String(aud)}.`,
      challenge,
    );
  }
  if (verified.claims.tid !== sandbox.tenantId) {
    return kvError(401, 'Unauthorized', 'AKV10032: Invalid issuer.', challenge);
  }
  return undefined;
}

/** Wraps a handler with the challenge, the api-version check and the name check. */
function vault(handler: Handler): Handler {
  return async (ctx: Ctx) => {
    const denied = await authenticate(ctx);
    if (denied) return denied;
    // Query keys may arrive percent-encoded (api%2Dversion); URLSearchParams decodes them.
    if (!ctx.query.get('api-version')) {
      return kvError(400, 'BadParameter', 'The api-version query parameter is required.');
    }
    const name = ctx.params.name;
    if (name !== undefined && !SECRET_NAME.test(name)) {
      return kvError(
        400,
        'BadParameter',
        "The request URI contains an invalid name: Secret names must match '^[0-9a-zA-Z-]+$'.",
      );
    }
    return await handler(ctx);
  };
}

function findVersion(ctx: Ctx): SecretVersion | SandboxResponse {
  const name = ctx.params.name ?? '';
  const versions = vaultState(ctx.sandbox).secrets.get(key(name));
  if (!versions || versions.length === 0) return notFound(name);
  const wanted = ctx.params.version;
  const found = wanted
    ? versions.find((v) => v.version === wanted.toLowerCase())
    : versions[versions.length - 1];
  if (!found) {
    return kvError(
      404,
      'SecretNotFound',
      `A secret with (name/id) ${name}/${wanted ?? ''} was not found in this key vault.`,
    );
  }
  return found;
}

interface SetBody {
  value?: unknown;
  contentType?: string;
  tags?: Record<string, string>;
  attributes?: { enabled?: boolean; nbf?: number; exp?: number };
}

export function installKeyVault(sandbox: Sandbox): void {
  const r = sandbox.routes;
  const state = vaultState(sandbox);

  r.on(
    'GET',
    '/secrets',
    vault(() =>
      ok({
        value: [...state.secrets.values()].map((versions) =>
          item(sandbox, versions[versions.length - 1]!, false),
        ),
        nextLink: null,
      }),
    ),
  );

  r.on(
    'GET',
    '/secrets/:name/versions',
    vault((ctx) => {
      const versions = state.secrets.get(key(ctx.params.name ?? ''));
      if (!versions) return notFound(ctx.params.name ?? '');
      return ok({ value: versions.map((v) => item(sandbox, v, true)), nextLink: null });
    }),
  );

  const get = vault((ctx) => {
    const found = findVersion(ctx);
    if ('status' in found) return found;
    if (!found.attributes.enabled) {
      return kvError(
        403,
        'Forbidden',
        'Operation get is not allowed on a disabled secret.',
        {},
        'SecretDisabled',
      );
    }
    return ok(bundle(sandbox, found));
  });
  r.on('GET', '/secrets/:name', get);
  r.on('GET', '/secrets/:name/:version', get);

  r.on(
    'PUT',
    '/secrets/:name',
    vault(async (ctx) => {
      const name = ctx.params.name ?? '';
      const body = await ctx.json<SetBody>();
      if (typeof body.value !== 'string') {
        return kvError(400, 'BadParameter', 'Property value is required.');
      }
      if (state.deleted.has(key(name))) {
        // [EMU] A soft-deleted name can't be reused until recovered or purged.
        return kvError(
          409,
          'Conflict',
          `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
          {},
          'ObjectIsDeletedButRecoverable',
        );
      }
      return ok(bundle(sandbox, setSecret(sandbox, name, { ...body, value: body.value })));
    }),
  );

  const update = vault(async (ctx) => {
    const found = findVersion(ctx);
    if ('status' in found) return found;
    const body = await ctx.json<Omit<SetBody, 'value'>>();
    if (body.contentType !== undefined) found.contentType = body.contentType;
    if (body.tags !== undefined) found.tags = body.tags;
    if (body.attributes) {
      if (body.attributes.enabled !== undefined) found.attributes.enabled = body.attributes.enabled;
      if (body.attributes.nbf !== undefined) found.attributes.nbf = body.attributes.nbf;
      if (body.attributes.exp !== undefined) found.attributes.exp = body.attributes.exp;
    }
    found.attributes.updated = Math.floor(sandbox.now() / 1000);
    return ok(item(sandbox, found, true));
  });
  r.on('PATCH', '/secrets/:name', update);
  r.on('PATCH', '/secrets/:name/:version', update);

  r.on(
    'DELETE',
    '/secrets/:name',
    vault((ctx) => {
      const deleted = deleteSecret(sandbox, ctx.params.name ?? '');
      if (!deleted) return notFound(ctx.params.name ?? '');
      return ok(deletedBundle(sandbox, deleted, false));
    }),
  );

  r.on(
    'GET',
    '/deletedsecrets',
    vault(() =>
      ok({ value: [...state.deleted.values()].map((d) => deletedBundle(sandbox, d, false)), nextLink: null }),
    ),
  );
  r.on(
    'GET',
    '/deletedsecrets/:name',
    vault((ctx) => {
      const deleted = state.deleted.get(key(ctx.params.name ?? ''));
      if (!deleted) {
        return kvError(404, 'SecretNotFound', `Deleted Secret not found: ${ctx.params.name ?? ''}`);
      }
      return ok(deletedBundle(sandbox, deleted, false));
    }),
  );
  r.on(
    'DELETE',
    '/deletedsecrets/:name',
    vault((ctx) => {
      if (!state.deleted.delete(key(ctx.params.name ?? ''))) {
        return kvError(404, 'SecretNotFound', `Deleted Secret not found: ${ctx.params.name ?? ''}`);
      }
      return { status: 204, headers: {} };
    }),
  );
  r.on(
    'POST',
    '/deletedsecrets/:name/recover',
    vault((ctx) => {
      const k = key(ctx.params.name ?? '');
      const deleted = state.deleted.get(k);
      if (!deleted)
        return kvError(404, 'SecretNotFound', `Deleted Secret not found: ${ctx.params.name ?? ''}`);
      state.deleted.delete(k);
      state.secrets.set(k, deleted.versions);
      return ok(bundle(sandbox, deleted.versions[deleted.versions.length - 1]!));
    }),
  );

  // Control: seed a secret without a token (tests, npm start).
  sandbox.control.on('PUT', '/keyvault/secrets/:name', async (ctx: Ctx) => {
    const name = ctx.params.name ?? '';
    if (!SECRET_NAME.test(name))
      return { status: 400, headers: JSON_HEADERS, body: { error: 'invalid secret name' } };
    const body = await ctx.json<SetBody>();
    if (typeof body.value !== 'string')
      return { status: 400, headers: JSON_HEADERS, body: { error: 'value is required' } };
    state.deleted.delete(key(name));
    return ok(bundle(sandbox, setSecret(sandbox, name, { ...body, value: body.value })));
  });
}
