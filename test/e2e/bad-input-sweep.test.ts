/**
 * A sweep over every declared action with generated bad inputs (wrong types, unknown fields,
 * missing required fields, non-object bodies): always 400 invalid_input naming the fields, never
 * a 500. New actions are covered as soon as they are declared.
 */
import '../../shared/services/all';
import { actionName, allActions } from '../../shared/actions/registry';
import { inputSchema } from '../../shared/actions/openapi';
import type { Action } from '../../shared/actions/types';
import { startTestApp, type TestApp } from '../support/app';
import { wrongValue, type Schema } from '../support/schema';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => await t.stop());

interface Case {
  name: string;
  input: unknown;
  field?: string;
}

function cases(action: Action): Case[] {
  const schema = inputSchema(action) as Schema;
  const props = schema.properties ?? {};
  const out: Case[] = [{ name: 'an unknown field', input: { definitelyNotAField: 1 } }];
  if (!(action.httpMethod === 'GET' || action.streamBody)) {
    out.push({ name: 'an array body', input: [1, 2] }, { name: 'a string body', input: 'hello' });
  }
  for (const [key, s] of Object.entries(props)) {
    if (action.httpMethod === 'GET' || action.streamBody) {
      const type = Array.isArray(s.type) ? s.type[0] : s.type;
      if (type === 'number' || type === 'integer' || type === 'boolean')
        out.push({ name: `${key} of the wrong type`, input: { [key]: 'not-valid-x' }, field: key });
      continue;
    }
    out.push({ name: `${key} of the wrong type`, input: { [key]: wrongValue(s) }, field: key });
  }
  for (const key of schema.required ?? []) out.push({ name: `missing ${key}`, input: {}, field: key });
  return out;
}

test('every action answers bad input with 400 invalid_input naming the fields, never a 500', async () => {
  const actions = allActions();
  expect(actions.length).toBeGreaterThan(1);
  const failures: string[] = [];
  for (const action of actions) {
    for (const c of cases(action)) {
      const path = `/${action.service}/${actionName(action)}`;
      let res: Response;
      if (action.httpMethod === 'GET' || action.streamBody) {
        const qs = new URLSearchParams(
          Object.entries(c.input as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
        ).toString();
        res = await t.call('sweeper', action.httpMethod ?? 'POST', `${path}?${qs}`);
      } else {
        res = await t.call('sweeper', 'POST', path, c.input);
      }
      const body = (await res.json().catch(() => ({}))) as {
        code?: string;
        errors?: Array<{ field: string }>;
      };
      const fields = (body.errors ?? []).map((e) => e.field);
      const ok =
        res.status === 400 &&
        body.code === 'invalid_input' &&
        fields.length > 0 &&
        (!c.field || fields.some((f) => f === c.field || f.startsWith(`${c.field}.`)));
      if (!ok)
        failures.push(`${action.id} with ${c.name}: ${res.status} ${body.code} [${fields.join(', ')}]`);
    }
  }
  expect(failures).toEqual([]);
}, 120000);
