/**
 * Fault injection: the next N requests matching a method and path pattern get a status (with
 * headers and body), a delay, or a dropped connection. Set through POST /_sandbox/faults.
 * With `probability`, only that share of the matching requests is hit (until `count` runs out).
 */
import { randomUUID } from 'node:crypto';
import { graphError, type RequestInfo, type SandboxResponse } from './http';
import { peekClaims } from './tokens';

export interface FaultSpec {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Regular expression matched against the path plus query string (e.g. "/v1.0/me/sendMail$"). */
  path: string;
  /** How many matching requests get the fault (default 1). */
  count?: number;
  /**
   * Chance (0–1) that a matching request gets the fault; the others pass untouched and do not use
   * up `count`. With a large count this throttles a share of the traffic (load tests: 0.1 = 10%).
   */
  probability?: number;
  /** Only requests whose bearer token belongs to this user id. */
  userId?: string;
  status?: number;
  headers?: Record<string, string>;
  /** Body to send (JSON); defaults to Graph's error envelope for the status. */
  body?: unknown;
  /** Graph error code for the default body. */
  code?: string;
  delayMs?: number;
  /** Close the connection without answering. */
  drop?: boolean;
}

export interface ActiveFault extends FaultSpec {
  id: string;
  remaining: number;
  regex: RegExp;
  hits: number;
  response(ctx: RequestInfo): SandboxResponse;
}

const DEFAULT_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'InvalidAuthenticationToken',
  403: 'ErrorAccessDenied',
  404: 'ErrorItemNotFound',
  409: 'ErrorConflict',
  410: 'SyncStateNotFound',
  429: 'TooManyRequests',
  500: 'generalException',
  502: 'BadGateway',
  503: 'serviceNotAvailable',
  504: 'UnknownError',
};

export class FaultInjector {
  private readonly faults: ActiveFault[] = [];

  add(spec: FaultSpec): ActiveFault {
    const fault: ActiveFault = {
      ...spec,
      id: randomUUID(),
      remaining: spec.count ?? 1,
      regex: new RegExp(spec.path, 'i'),
      hits: 0,
      response: (ctx) => {
        const status = spec.status ?? 500;
        if (spec.body !== undefined) {
          return {
            status,
            headers: { 'content-type': 'application/json', ...(spec.headers ?? {}) },
            body: spec.body,
          };
        }
        return graphError(
          ctx,
          status,
          spec.code ?? DEFAULT_CODES[status] ?? 'UnknownError',
          'Injected fault.',
          {
            headers: spec.headers ?? {},
          },
        );
      },
    };
    this.faults.push(fault);
    return fault;
  }

  /** Consumes the first matching fault for this request, if any. */
  take(ctx: RequestInfo): ActiveFault | undefined {
    const target = ctx.path + (ctx.url.search ?? '');
    for (const fault of this.faults) {
      if (fault.remaining <= 0) continue;
      if (fault.method && fault.method.toUpperCase() !== ctx.method) continue;
      if (!fault.regex.test(target)) continue;
      if (fault.userId) {
        const auth = ctx.headers.authorization;
        const token = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : '';
        if (peekClaims(token)?.oid !== fault.userId) continue;
      }
      if (fault.probability !== undefined && Math.random() >= fault.probability) continue;
      fault.remaining -= 1;
      fault.hits += 1;
      return fault;
    }
    return undefined;
  }

  list(): ActiveFault[] {
    return this.faults.filter((f) => f.remaining > 0);
  }

  clear(): void {
    this.faults.length = 0;
  }
}
