/**
 * A fuzz of every operation the app publishes in GET /api/openapi.json, as a connected user with
 * every feature (so inputs that pass validation really reach the sandbox): an empty object, an
 * unknown field, each field of the wrong type, non-object bodies, bad JSON and a wrong content
 * type. Whatever the input, the answer is never a 5xx and never a hang (an answer taking 10 s
 * here means a retry loop on a caller's mistake, as CR/LF in an eTag once did for 45 s). New
 * operations are covered as soon as they are declared, without anyone writing a case.
 */
import { FUNCTION_KEY, startTestApp, type TestApp } from '../support/app';
import { wrongValue, type Schema } from '../support/schema';

interface Operation {
  operationId?: string;
  parameters?: Array<{ name: string; in: string; schema?: Schema }>;
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

const ALL = ['mail', 'calendar', 'files', 'teams', 'contacts', 'todo'];
/** Far beyond any answer to a caller's mistake; only a retry loop or a hang comes near it. */
const SLOW_MS = 10_000;
let t: TestApp;
let userId: string;
let doc: { paths: Record<string, Record<string, Operation>> };

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect('adele.vance@contoso.test', { features: ALL });
  doc = (await (await fetch(`${t.api}/openapi.json`)).json()) as typeof doc;
});
afterAll(async () => await t.stop());

interface Attempt {
  name: string;
  query?: Record<string, string>;
  body?: string;
  contentType?: string;
}

function attempts(op: Operation): Attempt[] {
  const json = op.requestBody?.content?.['application/json']?.schema;
  const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
  const out: Attempt[] = [];
  if (json) {
    out.push(
      { name: 'an empty object', body: '{}' },
      { name: 'an unknown field', body: JSON.stringify({ definitelyNotAField: 1 }) },
      { name: 'an array body', body: '[1,2]' },
      { name: 'a string body', body: '"hello"' },
      { name: 'null', body: 'null' },
      { name: 'bad JSON', body: '{"a":' },
      { name: 'a wrong content type', body: '{}', contentType: 'text/plain' },
      { name: 'a form body', body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
    );
    for (const [key, s] of Object.entries(json.properties ?? {}))
      out.push({ name: `${key} of the wrong type`, body: JSON.stringify({ [key]: wrongValue(s) }) });
  } else {
    out.push(
      { name: 'no input', query: {} },
      { name: 'an unknown parameter', query: { definitelyNotAField: '1' } },
    );
    for (const p of queryParams) {
      out.push({ name: `${p.name} of the wrong type`, query: { [p.name]: String(wrongValue(p.schema)) } });
      out.push({ name: `${p.name} with a malformed escape`, query: { [p.name]: '%zz%' } });
    }
  }
  return out;
}

test('no input to any published operation answers 5xx or takes 10 s', async () => {
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
  );
  expect(operations.length).toBeGreaterThan(50);
  // Erasing the connection last keeps the user connected for everything else.
  operations.sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
  const failures: string[] = [];
  let requests = 0;
  for (const { path, method, op } of operations) {
    for (const attempt of attempts(op)) {
      const url = new URL(`${t.api}${path}`);
      for (const [k, v] of Object.entries(attempt.query ?? {})) url.searchParams.set(k, v);
      let search = url.search;
      // A malformed escape must reach the app as sent, not re-encoded by URL.
      if (attempt.name.endsWith('malformed escape')) search = search.replace(/%25zz%25/g, '%zz%');
      const started = Date.now();
      const sendsBody = attempt.body !== undefined && method !== 'GET';
      const res = await fetch(`${url.origin}${url.pathname}${search}`, {
        method,
        headers: {
          'x-functions-key': FUNCTION_KEY,
          authorization: `Bearer ${await t.tokenFor(userId)}`,
          ...(sendsBody ? { 'content-type': attempt.contentType ?? 'application/json' } : {}),
        },
        ...(sendsBody ? { body: attempt.body } : {}),
        redirect: 'manual',
      });
      await res.arrayBuffer();
      requests++;
      const took = Date.now() - started;
      if (res.status >= 500 || took > SLOW_MS)
        failures.push(
          `${method} ${path} (${op.operationId ?? ''}) with ${attempt.name}: ${res.status} in ${took} ms`,
        );
    }
  }
  expect(requests).toBeGreaterThan(500);
  expect(failures).toEqual([]);
}, 300_000);
