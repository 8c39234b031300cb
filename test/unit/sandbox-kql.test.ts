/** The sandbox's KQL subset (sandbox/graph/search/kql.ts): parsing, matching, highlighting. */
import {
  highlight,
  matches,
  parseKql,
  searchTerms,
  type SearchDocument,
} from '../../sandbox/graph/search/kql';

const doc: SearchDocument = {
  text: 'Contoso budget for Q3\nPlease review the budget before Friday.',
  props: {
    subject: 'Contoso budget for Q3',
    from: 'Megan Bowen megan@contoso.test',
    received: '2026-05-02T10:00:00Z',
    size: 2048,
  },
};
const now = Date.parse('2026-05-03T12:00:00Z');
const hit = (q: string) => matches(parseKql(q), doc, now);

test('terms are whole words, ANDed by default; prefixes with *; phrases are consecutive words', () => {
  expect(hit('contoso budget')).toBe(true);
  expect(hit('contoso missing')).toBe(false);
  expect(hit('budg')).toBe(false);
  expect(hit('budg*')).toBe(true);
  expect(hit('"contoso budget"')).toBe(true);
  expect(hit('"budget contoso"')).toBe(false);
});

test('AND, OR, NOT, -, parentheses, property restrictions and date ranges', () => {
  expect(hit('missing OR friday')).toBe(true);
  expect(hit('contoso AND NOT friday')).toBe(false);
  expect(hit('contoso -friday')).toBe(false);
  expect(hit('(missing OR contoso) AND q3')).toBe(true);
  expect(hit('from:megan')).toBe(true);
  expect(hit('from:lee')).toBe(false);
  expect(hit('subject:"Contoso budget"')).toBe(true);
  expect(hit('received>=2026-05-01')).toBe(true);
  expect(hit('received:2026-05-01..2026-05-02')).toBe(true);
  expect(hit('received<5/1/2026')).toBe(false);
  expect(hit('received:yesterday')).toBe(true);
  expect(hit('size>1000')).toBe(true);
  expect(hit('unknownprop:x')).toBe(false);
  expect(() => parseKql('(contoso')).toThrow(/not closed/);
  expect(() => parseKql('contoso AND')).toThrow();
  expect(searchTerms(parseKql('contoso AND NOT friday from:megan'))).toEqual(['contoso']);
});

test('highlight marks every match with <c0> and cuts long text with <ddd/>', () => {
  expect(highlight('Contoso budget for Q3', ['contoso', 'budget'])).toBe(
    '<c0>Contoso</c0> <c0>budget</c0> for Q3',
  );
  const long = `${'word '.repeat(100)}the Contoso budget ${'tail '.repeat(100)}`;
  const s = highlight(long, ['budget'], 60);
  expect(s.startsWith('<ddd/>')).toBe(true);
  expect(s.endsWith('<ddd/>')).toBe(true);
  expect(s).toContain('<c0>budget</c0>');
  expect(s.replace(/<[^>]+>/g, '').length).toBeLessThanOrEqual(60);
});
