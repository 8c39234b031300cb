/**
 * The control API under /_sandbox/ (on the sandbox's own port): seed users and data, inject
 * faults, move the clock, read the request log. For tests and demos only; real Microsoft has no
 * such thing, so the product never calls it.
 */
import type { Ctx, Sandbox } from './context';
import { json, empty } from './http';
import type { FaultSpec } from './faults';
import type { SandboxUser } from './state';
import { mintAccessToken } from './tokens';

export function publicUser(user: SandboxUser) {
  return {
    id: user.id,
    userPrincipalName: user.userPrincipalName,
    mail: user.mail,
    displayName: user.displayName,
    accountType: user.accountType,
    tenantId: user.tenantId,
    timeZone: user.timeZone,
  };
}

export function installControl(sandbox: Sandbox): void {
  const c = sandbox.control;

  c.on('GET', '/users', () => json(200, { value: [...sandbox.directory.users.values()].map(publicUser) }));

  c.on('POST', '/users', async (ctx: Ctx) => {
    const body = await ctx.json<
      Partial<SandboxUser> & { userPrincipalName?: string; displayName?: string }
    >();
    if (!body.userPrincipalName || !body.displayName) {
      return json(400, { error: 'userPrincipalName and displayName are required' });
    }
    if (sandbox.directory.findUser(body.userPrincipalName)) return json(409, { error: 'user exists' });
    const user = sandbox.directory.addUser({
      ...body,
      userPrincipalName: body.userPrincipalName,
      displayName: body.displayName,
    });
    return json(201, publicUser(user));
  });

  c.on('PATCH', '/users/:id', async (ctx: Ctx) => {
    const user = sandbox.directory.findUser(ctx.params.id ?? '');
    if (!user) return json(404, { error: 'no such user' });
    const body = await ctx.json<Partial<SandboxUser>>();
    const allowed: Array<keyof SandboxUser> = [
      'requireMfa',
      'timeZone',
      'workingHours',
      'mailboxRights',
      'consents',
      'displayName',
    ];
    for (const key of allowed) if (key in body) (user as unknown as Record<string, unknown>)[key] = body[key];
    return json(200, publicUser(user));
  });

  c.on('POST', '/faults', async (ctx: Ctx) => {
    const spec = await ctx.json<FaultSpec>();
    if (!spec.path) return json(400, { error: 'path (a regular expression) is required' });
    try {
      new RegExp(spec.path);
    } catch {
      return json(400, { error: 'path is not a valid regular expression' });
    }
    if (
      spec.probability !== undefined &&
      (typeof spec.probability !== 'number' || !(spec.probability > 0 && spec.probability <= 1))
    ) {
      return json(400, { error: 'probability must be a number in (0, 1]' });
    }
    const fault = sandbox.faults.add(spec);
    return json(201, { id: fault.id });
  });
  c.on('GET', '/faults', () =>
    json(200, {
      value: sandbox.faults.list().map(({ id, method, path, remaining, hits, status }) => ({
        id,
        method,
        path,
        remaining,
        hits,
        status,
      })),
    }),
  );
  c.on('DELETE', '/faults', () => {
    sandbox.faults.clear();
    return empty(204);
  });

  c.on('GET', '/requests', (ctx: Ctx) =>
    json(200, {
      value: sandbox.log.since(Number(ctx.query.get('since') ?? 0)),
      lastSeq: sandbox.log.lastSeq,
    }),
  );
  c.on('DELETE', '/requests', () => {
    sandbox.log.clear();
    return empty(204);
  });

  c.on('POST', '/clock', async (ctx: Ctx) => {
    const body = await ctx.json<{ advanceSeconds?: number }>();
    if (typeof body.advanceSeconds !== 'number' || body.advanceSeconds < 0) {
      return json(400, { error: 'advanceSeconds (a non-negative number) is required' });
    }
    sandbox.advanceClock(body.advanceSeconds * 1000);
    return json(200, { now: new Date(sandbox.now()).toISOString() });
  });
  c.on('GET', '/clock', () => json(200, { now: new Date(sandbox.now()).toISOString() }));

  // Test and demo tokens without the OAuth dance (the product itself always goes through /token).
  c.on('POST', '/tokens', async (ctx: Ctx) => {
    const body = await ctx.json<{
      user?: string;
      scopes?: string[];
      clientId?: string;
      lifetimeSeconds?: number;
      capabilities?: string[];
      audience?: string;
    }>();
    const user = sandbox.directory.findUser(body.user ?? '');
    if (!user) return json(404, { error: 'user (id or UPN) not found' });
    const clientId = body.clientId ?? [...sandbox.directory.apps.keys()][0] ?? 'sandbox-test-client';
    const lifetimeSeconds = body.lifetimeSeconds ?? sandbox.options.accessTokenLifetimeSeconds;
    const accessToken = await mintAccessToken(sandbox.keys, {
      userId: user.id,
      tenantId: user.tenantId,
      clientId,
      scopes: body.scopes ?? [],
      capabilities: body.capabilities,
      audience: body.audience,
      lifetimeSeconds,
      nowMs: sandbox.now(),
      issuerHost: sandbox.authorityHost,
    });
    return json(200, { access_token: accessToken, expires_in: lifetimeSeconds, token_type: 'Bearer' });
  });

  c.on('GET', '/health', () => json(200, { status: 'ok' }));
}
