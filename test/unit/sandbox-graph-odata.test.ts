/**
 * The sandbox's OData $filter/$orderby subset (reference §4.2, https://learn.microsoft.com/graph/query-parameters)
 * and the Outlook InefficientFilter rule (user-list-messages.md).
 */
import { GraphHttpError } from '../../sandbox/graph/errors';
import {
  applyOrderBy,
  assertOutlookFilterOrder,
  evaluateFilter,
  parseFilter,
  parseODataQuery,
} from '../../sandbox/graph/odata';

const contact = {
  displayName: "Pat O'Neil",
  emailAddresses: [{ address: 'pat@contoso.test' }, { address: 'pat@fabrikam.test' }],
  birthday: '1990-05-01T00:00:00Z',
  flag: { flagStatus: 'flagged' },
  categories: [],
  size: 42,
  manager: null,
};

function matches(filter: string, item: unknown = contact): boolean {
  return evaluateFilter(parseFilter(filter, 'outlook'), item);
}

test('comparison, logic, functions, lambdas, nested paths and literals', () => {
  expect(matches("emailAddresses/any(a:a/address eq 'PAT@fabrikam.test')")).toBe(true);
  expect(matches("emailAddresses/all(a:endswith(a/address,'.test'))")).toBe(true);
  expect(matches('categories/any()')).toBe(false);
  expect(matches("displayName eq 'Pat O''Neil' and flag/flagStatus ne 'notFlagged'")).toBe(true);
  expect(matches("not (contains(displayName,'neil')) or size gt 40")).toBe(true);
  expect(matches('birthday lt 1990-05-02 and birthday ge 1990-05-01T00:00:00Z')).toBe(true);
  expect(matches('manager eq null and size le 42 and size ge 42.0')).toBe(true);
  expect(matches('missing eq true')).toBe(false);
});

test('malformed filters and options are 400s with the workload code', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return err instanceof GraphHttpError ? `${err.status} ${err.code}` : 'other';
    }
    return 'none';
  };
  expect(code(() => parseFilter("subject eq 'x", 'outlook'))).toBe('400 ErrorInvalidUrlQueryFilter');
  expect(code(() => parseFilter('subject eq', 'drive'))).toBe('400 invalidRequest');
  expect(code(() => parseFilter('(subject eq 1', 'teams'))).toBe('400 BadRequest');
  expect(code(() => parseODataQuery(new URLSearchParams('$top=0'), 'directory'))).toBe(
    '400 Request_UnsupportedQuery',
  );
  expect(code(() => parseODataQuery(new URLSearchParams('$bogus=1'), 'outlook'))).toBe(
    '400 ErrorInvalidUrlQuery',
  );
});

test('$orderby sorts by several keys, nulls first ascending', () => {
  const rows = [
    { id: 'a', n: 2, s: 'b' },
    { id: 'b', n: 1, s: null },
    { id: 'c', n: 2, s: 'A' },
  ];
  const q = parseODataQuery(new URLSearchParams('$orderby=n desc,s'), 'outlook');
  expect(applyOrderBy(rows, q.orderby).map((r) => r.id)).toEqual(['c', 'a', 'b']);
  const asc = parseODataQuery(new URLSearchParams('$orderby=s asc'), 'outlook');
  expect(applyOrderBy(rows, asc.orderby).map((r) => r.id)).toEqual(['b', 'c', 'a']);
});

test('Outlook: $orderby properties must lead the $filter (InefficientFilter)', () => {
  const q = (s: string) => parseODataQuery(new URLSearchParams(s), 'outlook');
  expect(() =>
    assertOutlookFilterOrder(
      q("$filter=receivedDateTime ge 2024-01-01 and subject eq 'x'&$orderby=receivedDateTime desc"),
    ),
  ).not.toThrow();
  expect(() =>
    assertOutlookFilterOrder(
      q("$filter=subject eq 'x' and receivedDateTime ge 2024-01-01&$orderby=receivedDateTime desc"),
    ),
  ).toThrow('The restriction or sort order is too complex for this operation.');
  expect(() => assertOutlookFilterOrder(q("$filter=subject eq 'x'&$orderby=receivedDateTime"))).toThrow(
    GraphHttpError,
  );
});
