/**
 * Calling one service's actions as a platform user in e2e tests: `call` answers status and body,
 * `ok` the body of a 2xx (and fails the test with the problem otherwise).
 */
import type { TestApp } from '../../scripts/harness';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function actionCaller(t: () => TestApp, service: string, user: () => string) {
  const call = async (action: string, input: unknown, headers: Record<string, string> = {}) => {
    const res = await t().call(user(), 'POST', `/${service}/${action}`, input, headers);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
  };
  const ok = async (action: string, input: unknown, headers: Record<string, string> = {}): Promise<Json> => {
    const res = await call(action, input, headers);
    if (res.status >= 300) throw new Error(`${action} → ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return { call, ok };
}
