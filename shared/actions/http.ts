/**
 * The HTTP face of the actions: one function per service serves `POST /api/<service>/<action>`
 * (JSON input) and `GET` for actions declared with httpMethod GET (query input). The caller's
 * time zone may come as `Prefer: outlook.timezone="Europe/Berlin"` or `X-Timezone`.
 */
import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { authedHandler, jsonResponse } from '../http/handler';
import { Problem } from '../http/problem';
import { queryObject, readJson } from '../http/validate';
import { registerHttp } from '../runtime/register';
import { executeAction } from './execute';
import { actionName, actionsOf } from './registry';

/** IANA zone from the request, validated (an unknown zone is a 400, never a silent UTC). */
export function requestTimezone(headers: Headers): string | undefined {
  const prefer = headers.get('prefer') ?? '';
  const m = /outlook\.timezone="([^"]+)"/i.exec(prefer);
  const zone = m?.[1] ?? headers.get('x-timezone') ?? undefined;
  if (!zone) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new Problem(
      'invalid_input',
      `Unknown time zone "${zone.slice(0, 64)}": use an IANA name such as Europe/Berlin.`,
      {
        errors: [{ field: 'timezone', message: 'is not an IANA time zone' }],
      },
    );
  }
  return zone;
}

/** `load` brings the service's declarations in on first use (shared/services loadService). */
export function serviceHandler<S extends string>(service: S, load: (service: S) => void): HttpHandler {
  return authedHandler(async ({ request, caller, context }): Promise<HttpResponseInit> => {
    const name = request.params.action ?? '';
    load(service);
    const action = actionsOf(service).find((a) => actionName(a) === name);
    if (!action) {
      const known = actionsOf(service).map(actionName).join(', ');
      throw new Problem('not_found', `No ${service} action "${name.slice(0, 64)}". Known: ${known}.`);
    }
    const method = action.httpMethod ?? 'POST';
    if (request.method !== method) {
      throw new Problem(
        'method_not_allowed',
        `${action.id} is called with ${method}.`,
        {},
        { allow: method },
      );
    }
    let input: unknown;
    if (method === 'GET' || action.streamBody) {
      const q = queryObject(request);
      delete q.code; // the function key, when sent as a query parameter
      input = q;
    } else {
      input = await readJson(request, action.maxBodyBytes);
    }
    const { input: ownInput, account } = takeAccount(input);
    const outcome = await executeAction(action, ownInput, {
      userId: caller.userId,
      ...(account !== undefined ? { account } : {}),
      invocationId: context.invocationId,
      log: context,
      headers: request.headers,
      ...(action.streamBody && request.body
        ? { bodyStream: request.body as ReadableStream<Uint8Array> }
        : {}),
      noCache: /no-cache/i.test(request.headers.get('cache-control') ?? ''),
      ...(caller.assertion ? { assertion: caller.assertion } : {}),
      timezone: requestTimezone(request.headers),
      ...confirmationHeader(request.headers),
    });
    if (outcome.kind === 'raw') return outcome.result.response;
    return jsonResponse(outcome.status, outcome.body);
  });
}

/**
 * `account` (any action): which of the user's Microsoft accounts to act as, by email or id
 * (shared/storage/accounts.ts); the action's own input is the rest. No action has a field of
 * that name (a unit test holds that).
 */
export function takeAccount(input: unknown): { input: unknown; account?: string } {
  if (!input || typeof input !== 'object' || Array.isArray(input) || !('account' in input)) return { input };
  const { account, ...rest } = input as Record<string, unknown>;
  if (typeof account !== 'string' || account.length === 0 || account.length > 320)
    throw new Problem(
      'invalid_input',
      'account must be the email or id of one of your connected Microsoft accounts.',
      {
        errors: [{ field: 'account', message: 'must be an email or account id' }],
      },
    );
  return { input: rest, account };
}

/** A guarded send confirmed over HTTP: the token from the 409 `confirmation_required`. */
function confirmationHeader(headers: Headers): { confirmation?: { token: string; confirmed: true } } {
  const token = headers.get('confirmation-token');
  return token ? { confirmation: { token: token.slice(0, 200), confirmed: true } } : {};
}

/** Registers a service's HTTP function (functions/actions.ts calls it for every service). */
export function registerServiceActions<S extends string>(service: S, load: (service: S) => void): void {
  registerHttp(`${service}Actions`, {
    route: `${service}/{action}`,
    methods: ['GET', 'POST'],
    authLevel: 'function',
    handler: serviceHandler(service, load),
  });
}
