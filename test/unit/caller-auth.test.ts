/** Caller JWTs: only HS256 tokens from the platform, with the right iss/aud, short-lived, and a sane sub. */
import { HttpRequest } from '@azure/functions';
import { SignJWT, UnsecuredJWT } from 'jose';
import { parseTokenArgs } from '../../scripts/mint-token';
import { authenticateCaller, mintCallerToken } from '../../shared/http/caller';
import { Problem } from '../../shared/http/problem';
import { resetConfig } from '../../shared/config';
import { resetSecrets } from '../../shared/secrets';
import { sampleSettings } from '../support/settings';

const settings = sampleSettings();
const secret = new TextEncoder().encode(settings.CALLER_TOKEN_SECRET);

beforeAll(() => {
  for (const [k, v] of Object.entries(settings)) if (v) process.env[k] = v;
  delete process.env.KEY_VAULT_URL;
  delete process.env.CALLER_JWKS_URL;
  process.env.AzureWebJobsStorage = process.env.TEST_AZURITE_CONNECTION;
  resetConfig();
  resetSecrets();
});

function request(authorization?: string): HttpRequest {
  return new HttpRequest({
    url: 'http://localhost/api/x',
    method: 'GET',
    headers: authorization ? { authorization } : {},
  });
}

async function sign(
  claims: { sub?: string; iss?: string; aud?: string; iat?: number; exp?: number },
  key: Uint8Array = secret,
  alg = 'HS256',
) {
  const now = Math.floor(Date.now() / 1000);
  let jwt = new SignJWT({}).setProtectedHeader({ alg });
  if (claims.sub !== '') jwt = jwt.setSubject(claims.sub ?? 'user-1');
  return await jwt
    .setIssuer(claims.iss ?? settings.CALLER_TOKEN_ISSUER!)
    .setAudience(claims.aud ?? settings.CALLER_TOKEN_AUDIENCE!)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(key);
}

async function rejection(authorization?: string): Promise<Problem> {
  try {
    await authenticateCaller(request(authorization));
  } catch (err) {
    expect(err).toBeInstanceOf(Problem);
    return err as Problem;
  }
  throw new Error('expected a rejection');
}

describe('caller authentication', () => {
  test('a platform token yields the user id from sub', async () => {
    expect(await authenticateCaller(request(`Bearer ${await sign({ sub: 'user-42' })}`))).toMatchObject({
      userId: 'user-42',
    });
    const minted = await mintCallerToken('dev-user');
    expect((await authenticateCaller(request(`Bearer ${minted}`))).userId).toBe('dev-user');
  });

  test('a platform token may not claim an Entra caller’s id (entra:…)', async () => {
    const problem = await rejection(`Bearer ${await sign({ sub: 'entra:tenant:user' })}`);
    expect(problem.status).toBe(401);
    expect(problem.detail).toContain('entra:');
  });

  test('nor the id of an MCP client’s user (mcp:…), whose connection is their Microsoft account’s own', async () => {
    for (const sub of ['mcp:tenant:user', 'MCP:x', 'mcp-signin:abc']) {
      const problem = await rejection(`Bearer ${await sign({ sub })}`);
      expect({ sub, status: problem.status }).toEqual({ sub, status: 401 });
      expect(problem.detail).toContain('reserved');
    }
  });

  test('no Authorization header → 401 with WWW-Authenticate', async () => {
    const p = await rejection();
    expect(p.status).toBe(401);
    expect(p.code).toBe('unauthenticated');
    expect(p.headers['www-authenticate']).toMatch(/^Bearer realm=/);
  });

  test.each([
    [
      'alg none',
      async () =>
        new UnsecuredJWT({ sub: 'u' })
          .setIssuer(settings.CALLER_TOKEN_ISSUER!)
          .setAudience(settings.CALLER_TOKEN_AUDIENCE!)
          .setIssuedAt()
          .setExpirationTime('5m')
          .encode(),
    ],
    [
      'a wrong key',
      async () => await sign({}, new TextEncoder().encode('another-secret-that-is-long-enough-000000')),
    ],
    [
      'an expired token',
      async () =>
        await sign({ iat: Math.floor(Date.now() / 1000) - 900, exp: Math.floor(Date.now() / 1000) - 120 }),
    ],
    ['a wrong audience', async () => await sign({ aud: 'someone-else' })],
    ['a wrong issuer', async () => await sign({ iss: 'https://evil.example.test' })],
    ['a lifetime over 15 minutes', async () => await sign({ exp: Math.floor(Date.now() / 1000) + 3600 })],
    ['no sub', async () => await sign({ sub: '' })],
    [
      'an iat a year ahead (a short exp - iat but issued in the future)',
      async () => {
        const later = Math.floor(Date.now() / 1000) + 365 * 86400;
        return await sign({ iat: later, exp: later + 300 });
      },
    ],
    ['a sub that could escape its partition', async () => await sign({ sub: "a'/b#c" })],
    [
      'a swapped sub on a signed token',
      async () => {
        const [h, , s] = (await sign({ sub: 'alice' })).split('.');
        const payload = Buffer.from(
          JSON.stringify({
            sub: 'bob',
            iss: settings.CALLER_TOKEN_ISSUER,
            aud: settings.CALLER_TOKEN_AUDIENCE,
            iat: Math.floor(Date.now() / 1000),
            exp: Math.floor(Date.now() / 1000) + 300,
          }),
        ).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
    ],
  ])('%s is rejected with 401', async (_name, make) => {
    const p = await rejection(`Bearer ${await make()}`);
    expect(p.status).toBe(401);
    expect(p.code).toBe('unauthenticated');
    expect(p.headers['www-authenticate']).toContain('error="invalid_token"');
  });

  test('a non-Bearer header is refused as invalid_request', async () => {
    const p = await rejection('Basic dXNlcjpwYXNz');
    expect(p.headers['www-authenticate']).toContain('invalid_request');
  });

  test('a verified token is remembered for the same secret only: after a rotation it is checked anew', async () => {
    const token = await sign({ sub: 'user-rotated' });
    expect((await authenticateCaller(request(`Bearer ${token}`))).userId).toBe('user-rotated');
    const previous = process.env.CALLER_TOKEN_SECRET;
    process.env.CALLER_TOKEN_SECRET = 'a-rotated-caller-token-secret-of-enough-length-0123456789';
    resetConfig();
    resetSecrets();
    try {
      expect((await rejection(`Bearer ${token}`)).status).toBe(401);
    } finally {
      process.env.CALLER_TOKEN_SECRET = previous;
      resetConfig();
      resetSecrets();
    }
    expect((await authenticateCaller(request(`Bearer ${token}`))).userId).toBe('user-rotated');
  });

  test('a remembered token is refused once it has expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign({ sub: 'user-expiring', iat: now, exp: now + 5 });
    expect((await authenticateCaller(request(`Bearer ${token}`))).userId).toBe('user-expiring');
    // 40 s later (only the clock is fake): past exp and the 30 s tolerance, within the minute an
    // entry may live otherwise.
    jest.useFakeTimers({
      now: (now + 40) * 1000,
      doNotFake: [
        'nextTick',
        'setImmediate',
        'setTimeout',
        'setInterval',
        'queueMicrotask',
        'clearTimeout',
        'clearInterval',
        'clearImmediate',
        'performance',
      ],
    });
    try {
      expect((await rejection(`Bearer ${token}`)).detail).toMatch(/expired/);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('npm run token arguments', () => {
  test.each<[string[], RegExp]>([
    [[], /^usage:/],
    [['alice', 'ten'], /whole number of seconds/],
    [['alice', '-5'], /whole number of seconds/],
    [['alice', '60', 'extra'], /unexpected argument/],
    [['a/b'], /cannot be a user id/],
  ])('%j is refused with a message', (args, message) => {
    expect(parseTokenArgs(args)).toMatch(message);
  });
  test('a lifetime over 15 minutes is capped, saying so', () => {
    expect(parseTokenArgs(['alice', '3600'])).toMatchObject({
      userId: 'alice',
      lifetime: 900,
      note: /capped/,
    });
    expect(parseTokenArgs(['alice'])).toEqual({ userId: 'alice', lifetime: 600 });
  });
});
