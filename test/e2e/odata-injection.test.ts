/**
 * OData injection: whatever text an assistant passes on (from a mail, a chat, a file name), the
 * query Graph receives parses back to exactly that text as one literal, and adds no query option.
 * A property test over arbitrary strings (fast-check), biased towards the characters that broke
 * it (`%27`, `&`, `#`, `%22`, quotes, backslashes, `+`), through the real app and the sandbox's
 * own OData parser. shared/graph/odata.ts builds every such value; the chokepoint encodes them.
 */
import fc from 'fast-check';
import { parseFilter, type FilterExpr } from '../../sandbox/graph/odata';
import { startTestApp, type TestApp } from '../support/app';
import { requestLog, waitForQuiet } from '../support/sandbox';

const ADELE = 'adele.vance@contoso.test';
let t: TestApp;
let userId: string;

beforeAll(async () => {
  t = await startTestApp();
  userId = await t.connect(ADELE, { features: ['mail', 'contacts', 'files'] });
  await waitForQuiet(t.sandbox); // the first sync rounds a connect starts
});
afterAll(async () => await t.stop());

const NASTY = [
  '%27',
  "' or 1 eq 1 or '",
  "x') or true or ('",
  'a&$top=999',
  'a&foo=bar',
  'cut#here',
  '%22 OR from:megan',
  '"quoted" OR x',
  'back\\slash',
  'plus+sign',
  '100%',
  '%zz',
  '%2527',
  'ünïcødé ✓',
  ' spaced ',
];

/** Arbitrary text, half the time built around the characters that used to break the query. */
const text = (max: number) =>
  fc
    .oneof(
      fc.constantFrom(...NASTY),
      fc.string({ maxLength: max, unit: 'binary' }),
      fc
        .array(fc.constantFrom("'", '"', '%', '&', '#', '+', '=', '?', '\\', '(', ')', 'a', ' ', '2', '7'), {
          maxLength: 20,
        })
        .map((a) => a.join('')),
    )
    .filter((s) => s.trim().length > 0 && s.length <= max && !/\p{Cc}/u.test(s));

function literals(expr: FilterExpr, out: unknown[] = []): unknown[] {
  switch (expr.kind) {
    case 'literal':
      out.push(expr.value);
      break;
    case 'binary':
      literals(expr.left, out);
      literals(expr.right, out);
      break;
    case 'not':
      literals(expr.operand, out);
      break;
    case 'call':
      for (const a of expr.args) literals(a, out);
      break;
    case 'lambda':
      if (expr.body) literals(expr.body, out);
      break;
  }
  return out;
}

async function lastGraphGet(since: number, pathPart: string) {
  const entries = (await requestLog(t.sandbox, since)).filter(
    // (Sync rounds use /delta: not this action's request.)
    (e) => e.method === 'GET' && e.path.includes(pathPart) && !e.path.includes('/delta'),
  );
  expect(entries).toHaveLength(1);
  return entries[0]!;
}

test('mail category: the $filter Graph receives holds the text as one literal; nothing else widens', async () => {
  await fc.assert(
    fc.asyncProperty(text(255), async (category) => {
      const since = t.sandbox.log.lastSeq;
      const res = await t.call(userId, 'POST', '/mail/listMessages', { category, top: 50 });
      expect(res.status).toBe(200);
      // Nobody's messages carry these categories: a widened filter would return some.
      expect(((await res.json()) as { items: unknown[] }).items).toEqual([]);
      const entry = await lastGraphGet(since, '/messages');
      expect(Object.keys(entry.query).sort()).toEqual(['$filter', '$orderby', '$select', '$top']);
      const found = literals(parseFilter(entry.query.$filter!, 'outlook')).filter(
        (v) => typeof v === 'string',
      );
      expect(found).toEqual([category]);
    }),
    { numRuns: 60 },
  );
});

test('mail search: one double-quoted KQL phrase that cannot be closed early', async () => {
  await fc.assert(
    fc.asyncProperty(text(500), async (search) => {
      const since = t.sandbox.log.lastSeq;
      const res = await t.call(userId, 'POST', '/mail/listMessages', { search, top: 10 });
      expect(res.status).toBe(200);
      const entry = await lastGraphGet(since, '/messages');
      expect(Object.keys(entry.query).sort()).toEqual(['$search', '$select', '$top']);
      const phrase = entry.query.$search!;
      expect(phrase).toBe(`"${search.replace(/["\\]/g, ' ').trim()}"`);
      expect(phrase.slice(1, -1)).not.toMatch(/["\\]/);
    }),
    { numRuns: 60 },
  );
});

test('contacts search: every startswith/any literal is exactly the text', async () => {
  await fc.assert(
    fc.asyncProperty(text(255), async (search) => {
      const since = t.sandbox.log.lastSeq;
      const res = await t.call(userId, 'POST', '/contacts/listContacts', { search });
      expect(res.status).toBe(200);
      const entry = await lastGraphGet(since, '/contacts');
      expect(Object.keys(entry.query).sort()).toEqual(['$filter', '$select', '$top']);
      const found = literals(parseFilter(entry.query.$filter!, 'outlook')).filter(
        (v) => typeof v === 'string',
      );
      expect(found).toEqual(Array(5).fill(search.trim()));
    }),
    { numRuns: 60 },
  );
});

test("files search: the function parameter q='…' decodes to exactly the text", async () => {
  await fc.assert(
    fc.asyncProperty(text(512), async (query) => {
      const since = t.sandbox.log.lastSeq;
      const res = await t.call(userId, 'POST', '/files/search', { query });
      expect(res.status).toBe(200);
      const entry = await lastGraphGet(since, '/search(');
      const m = /\/search\(q='(.*)'\)$/s.exec(decodeURIComponent(entry.path));
      expect(m).not.toBeNull();
      expect(m![1]!.replace(/''/g, "'")).toBe(query);
      expect(Object.keys(entry.query)).toEqual([]);
    }),
    { numRuns: 60 },
  );
});
