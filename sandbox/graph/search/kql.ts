/**
 * The part of the Keyword Query Language (KQL) that Microsoft Search's `query.queryString`
 * accepts and assistants use (https://learn.microsoft.com/sharepoint/dev/general-development/keyword-query-language-kql-syntax-reference):
 *
 * - free-text terms (whole words, case-insensitive; `budg*` is a prefix), `"quoted phrases"`;
 * - `AND`, `OR`, `NOT` (upper case, as KQL requires), `-term` (exclude), `+term`, parentheses;
 *   adjacent terms are ANDed ("the default operator is AND");
 * - property restrictions `name:value` (contains), `name="exact"`, `name>value`, `name>=value`,
 *   `name<value`, `name<=value`, `name:low..high` on dates (ISO `2024-05-01` or US `5/1/2024`)
 *   and numbers; the date words `today` and `yesterday`.
 *
 * A document exposes free text and named properties (per entity: sources.ts). `highlight` marks
 * the matched terms in a summary the way Search does: `<c0>term</c0>`, and `<ddd/>` where text
 * was cut (search-concept-messages, search-concept-files examples).
 */

export type Node =
  | { kind: 'term'; text: string; prefix: boolean; phrase: boolean }
  | {
      kind: 'prop';
      name: string;
      op: ':' | '=' | '>' | '>=' | '<' | '<=';
      value: string;
      range?: [string, string];
    }
  | { kind: 'and' | 'or'; nodes: Node[] }
  | { kind: 'not'; node: Node };

export class KqlError extends Error {}

export interface SearchDocument {
  /** All free text (subject, body, names, ...). */
  text: string;
  /** Property restrictions by lower-case KQL name: text values (contains) or dates/numbers. */
  props: Record<string, string | number | undefined>;
}

// ---------------------------------------------------------------- parsing

const TOKEN =
  /\s*(\(|\)|[+-]?(?:[A-Za-z][\w.]*)(?:>=|<=|:|=|>|<)(?:"[^"]*"|[^\s()]+)|[+-]?"[^"]*"|[+-]?[^\s()"]+)/y;

export function parseKql(query: string): Node {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let rest = query;
  while (rest.trim() !== '') {
    TOKEN.lastIndex = 0;
    const m = TOKEN.exec(rest);
    if (!m) throw new KqlError(`cannot read the query near '${rest.trim().slice(0, 20)}'`);
    tokens.push(m[1]!);
    rest = rest.slice(m[0].length);
  }
  let i = 0;
  const peek = () => tokens[i];
  const orExpr = (): Node => {
    const nodes = [andExpr()];
    while (peek() === 'OR') {
      i++;
      nodes.push(andExpr());
    }
    return nodes.length === 1 ? nodes[0]! : { kind: 'or', nodes };
  };
  const andExpr = (): Node => {
    const nodes = [unary()];
    while (peek() !== undefined && peek() !== ')' && peek() !== 'OR') {
      if (peek() === 'AND') i++;
      nodes.push(unary());
    }
    return nodes.length === 1 ? nodes[0]! : { kind: 'and', nodes };
  };
  const unary = (): Node => {
    const t = peek();
    if (t === undefined) throw new KqlError('the query ends where a term was expected');
    if (t === 'NOT') {
      i++;
      return { kind: 'not', node: unary() };
    }
    if (t === '(') {
      i++;
      const node = orExpr();
      if (peek() !== ')') throw new KqlError("a '(' is not closed");
      i++;
      return node;
    }
    if (t === ')' || t === 'AND' || t === 'OR') throw new KqlError(`'${t}' where a term was expected`);
    i++;
    if (t.startsWith('-')) return { kind: 'not', node: atom(t.slice(1)) };
    return atom(t.startsWith('+') ? t.slice(1) : t);
  };
  const node = orExpr();
  if (i < tokens.length) throw new KqlError(`unexpected '${tokens[i]}'`);
  return node;
}

function atom(token: string): Node {
  const prop = /^([A-Za-z][\w.]*)(>=|<=|:|=|>|<)(.+)$/.exec(token);
  if (prop) {
    const value = unquote(prop[3]!);
    const op = prop[2] as ':' | '=' | '>' | '>=' | '<' | '<=';
    const range = op === ':' ? /^(.+?)\.\.(.+)$/.exec(value) : null;
    return {
      kind: 'prop',
      name: prop[1]!.toLowerCase(),
      op,
      value: value.toLowerCase(),
      ...(range ? { range: [range[1]!.toLowerCase(), range[2]!.toLowerCase()] as [string, string] } : {}),
    };
  }
  const phrase = token.startsWith('"');
  const text = unquote(token).toLowerCase();
  const prefix = !phrase && text.endsWith('*') && text.length > 1;
  return { kind: 'term', text: prefix ? text.slice(0, -1) : text, prefix, phrase };
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}

// ---------------------------------------------------------------- matching

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whole words (a phrase: consecutive words); a prefix term matches a word's start. */
function termPattern(text: string, prefix: boolean): RegExp {
  const words = text.split(/\s+/).filter(Boolean).map(escapeRe).join('\\W+');
  return new RegExp(`(?<![\\p{L}\\p{N}])${words}${prefix ? '' : '(?![\\p{L}\\p{N}])'}`, 'iu');
}

/** A date value as a day number (UTC), from ISO, US M/D/YYYY or today/yesterday. */
function dayOf(value: string, now: number): number | undefined {
  const day = 86_400_000;
  if (value === 'today') return Math.floor(now / day);
  if (value === 'yesterday') return Math.floor(now / day) - 1;
  const us = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(value);
  const iso = us ? `${us[3]}-${us[1]!.padStart(2, '0')}-${us[2]!.padStart(2, '0')}` : value;
  const ms = Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / day);
}

function compare(actual: string | number, value: string, now: number): number | undefined {
  if (typeof actual === 'number') {
    const n = Number(value);
    return Number.isNaN(n) ? undefined : actual - n;
  }
  const a = dayOf(actual, now);
  const b = dayOf(value, now);
  return a === undefined || b === undefined ? undefined : a - b;
}

export function matches(node: Node, doc: SearchDocument, now: number): boolean {
  switch (node.kind) {
    case 'and':
      return node.nodes.every((n) => matches(n, doc, now));
    case 'or':
      return node.nodes.some((n) => matches(n, doc, now));
    case 'not':
      return !matches(node.node, doc, now);
    case 'term':
      return termPattern(node.text, node.prefix).test(doc.text);
    case 'prop': {
      const actual = doc.props[node.name];
      if (actual === undefined || actual === '') return false;
      if (node.range) {
        const lo = compare(actual, node.range[0], now);
        const hi = compare(actual, node.range[1], now);
        return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
      }
      if (node.op === ':' || node.op === '=') {
        if (typeof actual === 'number' || /^\d{4}-\d{2}-\d{2}T/.test(actual)) {
          return compare(actual, node.value, now) === 0;
        }
        const text = actual.toLowerCase();
        return node.op === '='
          ? text === node.value
          : termPattern(node.value, false).test(text) || text.includes(node.value);
      }
      const c = compare(actual, node.value, now);
      if (c === undefined) return false;
      return node.op === '>' ? c > 0 : node.op === '>=' ? c >= 0 : node.op === '<' ? c < 0 : c <= 0;
    }
  }
}

/** The free-text terms of a query (Search's `searchTerms`), without negated ones. */
export function searchTerms(node: Node): string[] {
  switch (node.kind) {
    case 'term':
      return [node.text];
    case 'and':
    case 'or':
      return [...new Set(node.nodes.flatMap(searchTerms))];
    default:
      return [];
  }
}

/** How often the query's terms occur: the relevance rank of SharePoint/OneDrive and people hits. */
export function score(terms: string[], weighted: Array<[string, number]>): number {
  let total = 0;
  for (const term of terms) {
    const re = new RegExp(termPattern(term, false).source, 'giu');
    for (const [text, weight] of weighted) total += (text.match(re)?.length ?? 0) * weight;
  }
  return total;
}

/**
 * A hit's `summary`: up to about `max` characters of `text` around the first matched term, every
 * match wrapped in `<c0>…</c0>`, `<ddd/>` where the text was cut.
 */
export function highlight(text: string, terms: string[], max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const res = terms.filter(Boolean).map((t) => new RegExp(termPattern(t, false).source, 'giu'));
  let first = -1;
  for (const re of res) {
    re.lastIndex = 0;
    const m = re.exec(flat);
    if (m && (first < 0 || m.index < first)) first = m.index;
  }
  const start = first > max / 3 ? flat.lastIndexOf(' ', first - Math.floor(max / 3)) + 1 : 0;
  let end = Math.min(flat.length, start + max);
  if (end < flat.length) end = Math.max(flat.lastIndexOf(' ', end), start + 1);
  const any = new RegExp(res.map((re) => `(?:${re.source})`).join('|') || '(?!)', 'giu');
  const window = flat.slice(start, end).replace(any, (m) => `<c0>${m}</c0>`);
  return `${start > 0 ? '<ddd/>' : ''}${window}${end < flat.length ? '<ddd/>' : ''}`;
}
