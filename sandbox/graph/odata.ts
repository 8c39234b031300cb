/**
 * OData query options the Graph services share (reference §4.2,
 * https://learn.microsoft.com/graph/query-parameters): $select, $filter (a subset: comparison,
 * and/or/not, parentheses, startswith/endswith/contains, any/all lambdas, nested paths),
 * $orderby, $top, $skip, $count, $search. Malformed or unsupported options answer 400 with the
 * workload's code.
 */
import { badQuery, type Workload } from './errors';

export interface OrderKey {
  path: string[];
  desc: boolean;
}

export interface ODataQuery {
  select?: string[];
  filter?: FilterExpr;
  filterText?: string;
  orderby?: OrderKey[];
  top?: number;
  skip?: number;
  count?: boolean;
  search?: string;
  skiptoken?: string;
  expand?: string;
}

const KNOWN_OPTIONS = new Set([
  '$select',
  '$filter',
  '$orderby',
  '$top',
  '$skip',
  '$count',
  '$search',
  '$expand',
  '$format',
  '$skiptoken',
  '$deltatoken',
]);

/** Parses the query options of a request; throws 400 GraphHttpErrors for malformed ones. */
export function parseODataQuery(query: URLSearchParams, workload: Workload): ODataQuery {
  const out: ODataQuery = {};
  for (const key of query.keys()) {
    if (key.startsWith('$') && !KNOWN_OPTIONS.has(key.toLowerCase())) {
      throw badQuery(workload, `Query option '${key}' is not supported.`);
    }
  }
  const get = (name: string): string | null => {
    for (const [k, v] of query) if (k.toLowerCase() === name) return v;
    return null;
  };
  const select = get('$select');
  if (select !== null) out.select = parseSelect(select, workload);
  const filter = get('$filter');
  if (filter !== null) {
    out.filter = parseFilter(filter, workload);
    out.filterText = filter;
  }
  const orderby = get('$orderby');
  if (orderby !== null) out.orderby = parseOrderBy(orderby, workload);
  const top = get('$top');
  if (top !== null) {
    if (!/^\d+$/.test(top.trim()) || Number(top) < 1) {
      throw badQuery(
        workload,
        `Invalid value '${top}' for $top query option found. It must be a positive integer.`,
      );
    }
    out.top = Number(top);
  }
  const skip = get('$skip');
  if (skip !== null) {
    if (!/^\d+$/.test(skip.trim())) {
      throw badQuery(
        workload,
        `Invalid value '${skip}' for $skip query option found. It must be a non-negative integer.`,
      );
    }
    out.skip = Number(skip);
  }
  const count = get('$count');
  if (count !== null) {
    if (count !== 'true' && count !== 'false') {
      throw badQuery(
        workload,
        `Invalid value '${count}' for $count query option found. Valid values are 'true' and 'false'.`,
      );
    }
    out.count = count === 'true';
  }
  const search = get('$search');
  if (search !== null) out.search = search.trim().replace(/^"(.*)"$/s, '$1');
  const skiptoken = get('$skiptoken');
  if (skiptoken !== null) out.skiptoken = skiptoken;
  const expand = get('$expand');
  if (expand !== null) out.expand = expand;
  return out;
}

export function parseSelect(text: string, workload: Workload): string[] {
  const fields = text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
  for (const f of fields) {
    if (!/^[A-Za-z_@][\w.@/]*$/.test(f)) throw badQuery(workload, `Invalid $select property '${f}'.`);
  }
  if (fields.length === 0) throw badQuery(workload, 'The $select query option is empty.');
  return fields;
}

export function parseOrderBy(text: string, workload: Workload): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z_][\w]*(?:\/[A-Za-z_][\w]*)*)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!m?.[1]) throw badQuery(workload, `Invalid $orderby expression '${part.trim()}'.`);
    keys.push({ path: m[1].split('/'), desc: (m[2] ?? 'asc').toLowerCase() === 'desc' });
  }
  return keys;
}

/** Projects an item to the `$select`ed properties; `id` (and OData annotations) always stay. */
export function applySelect<T extends Record<string, unknown>>(item: T, select: string[] | undefined): T {
  if (!select) return item;
  const out: Record<string, unknown> = {};
  const wanted = new Set(select.map((s) => s.toLowerCase()));
  for (const [k, v] of Object.entries(item)) {
    if (k === 'id' || k.startsWith('@odata.') || wanted.has(k.toLowerCase())) out[k] = v;
  }
  return out as T;
}

// ---------------------------------------------------------------- $filter

export type FilterExpr =
  | { kind: 'literal'; value: Literal }
  | { kind: 'path'; path: string[] }
  | { kind: 'lambda'; path: string[]; op: 'any' | 'all'; variable?: string; body?: FilterExpr }
  | { kind: 'call'; name: string; args: FilterExpr[] }
  | { kind: 'not'; operand: FilterExpr }
  | {
      kind: 'binary';
      op: 'and' | 'or' | 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
      left: FilterExpr;
      right: FilterExpr;
    };

type Literal = string | number | boolean | null | { date: number };

interface Token {
  type: 'punct' | 'string' | 'number' | 'date' | 'ident';
  text: string;
  value?: Literal;
  pos: number;
}

const FUNCTIONS = new Set(['startswith', 'endswith', 'contains', 'tolower', 'toupper', 'trim', 'length']);
const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

function tokenize(text: string, fail: (msg: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if ('(),:/'.includes(ch)) {
      tokens.push({ type: 'punct', text: ch, pos: i });
      i++;
      continue;
    }
    if (ch === "'") {
      // String literal; a quote inside is written twice (query-parameters.md, "Escaping").
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) fail(`Unterminated string literal at position ${i}.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      tokens.push({ type: 'string', text: text.slice(i, j + 1), value, pos: i });
      i = j + 1;
      continue;
    }
    const rest = text.slice(i);
    const date =
      /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?(?![\w:.-])/.exec(rest);
    if (date) {
      const iso = date[0].includes('T') ? date[0] : `${date[0]}T00:00:00Z`;
      const ms = Date.parse(/Z|[+-]\d{2}:\d{2}$/.test(iso) ? iso : `${iso}Z`);
      if (Number.isNaN(ms)) fail(`Invalid date literal '${date[0]}'.`);
      tokens.push({ type: 'date', text: date[0], value: { date: ms }, pos: i });
      i += date[0].length;
      continue;
    }
    const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![\w-])/i.exec(rest);
    if (guid) {
      tokens.push({ type: 'string', text: guid[0], value: guid[0], pos: i });
      i += guid[0].length;
      continue;
    }
    const num = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w])/.exec(rest);
    if (num) {
      tokens.push({ type: 'number', text: num[0], value: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const ident = /^[A-Za-z_@$][\w.@$]*/.exec(rest);
    if (ident) {
      tokens.push({ type: 'ident', text: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    fail(`Syntax error: character '${ch}' is not valid at position ${i}.`);
  }
  return tokens;
}

/** Parses a $filter expression into an AST (throws 400 for syntax it doesn't support). */
export function parseFilter(text: string, workload: Workload): FilterExpr {
  const fail = (msg: string): never => {
    throw badQuery(
      workload,
      `Invalid filter clause: ${msg}`,
      workload === 'outlook' ? 'ErrorInvalidUrlQueryFilter' : undefined,
    );
  };
  const tokens = tokenize(text, fail);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (t: Token | undefined, word: string) => t?.type === 'ident' && t.text.toLowerCase() === word;
  const expect = (punct: string): void => {
    const t = tokens[pos];
    if (t?.type !== 'punct' || t.text !== punct)
      fail(`'${punct}' expected at position ${t?.pos ?? text.length}.`);
    pos++;
  };

  const parseOr = (): FilterExpr => {
    let left = parseAnd();
    while (isWord(peek(), 'or')) {
      pos++;
      left = { kind: 'binary', op: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): FilterExpr => {
    let left = parseNot();
    while (isWord(peek(), 'and')) {
      pos++;
      left = { kind: 'binary', op: 'and', left, right: parseNot() };
    }
    return left;
  };
  const parseNot = (): FilterExpr => {
    if (isWord(peek(), 'not')) {
      pos++;
      return { kind: 'not', operand: parseNot() };
    }
    return parseComparison();
  };
  const parseComparison = (): FilterExpr => {
    const left = parsePrimary();
    const t = peek();
    if (t?.type === 'ident' && COMPARISONS.has(t.text.toLowerCase())) {
      pos++;
      const op = t.text.toLowerCase() as 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
      return { kind: 'binary', op, left, right: parsePrimary() };
    }
    return left;
  };
  const parsePrimary = (): FilterExpr => {
    const t = peek();
    if (!t) return fail('unexpected end of expression.');
    if (t.type === 'punct' && t.text === '(') {
      pos++;
      const inner = parseOr();
      expect(')');
      return inner;
    }
    if (t.type === 'string' || t.type === 'number' || t.type === 'date') {
      pos++;
      return { kind: 'literal', value: t.value ?? null };
    }
    if (t.type === 'ident') {
      const lower = t.text.toLowerCase();
      if (lower === 'true' || lower === 'false') {
        pos++;
        return { kind: 'literal', value: lower === 'true' };
      }
      if (lower === 'null') {
        pos++;
        return { kind: 'literal', value: null };
      }
      const next = tokens[pos + 1];
      if (FUNCTIONS.has(lower) && next?.type === 'punct' && next.text === '(') {
        pos += 2;
        const args: FilterExpr[] = [];
        if (!(peek()?.type === 'punct' && peek()?.text === ')')) {
          args.push(parseOr());
          while (peek()?.type === 'punct' && peek()?.text === ',') {
            pos++;
            args.push(parseOr());
          }
        }
        expect(')');
        return { kind: 'call', name: lower, args };
      }
      if (next?.type === 'punct' && next.text === '(') fail(`unknown function '${t.text}'.`);
      return parsePath();
    }
    return fail(`unexpected '${t.text}' at position ${t.pos}.`);
  };
  const parsePath = (): FilterExpr => {
    const path: string[] = [];
    for (;;) {
      const t = peek();
      if (t?.type !== 'ident') return fail(`property name expected at position ${t?.pos ?? text.length}.`);
      const lower = t.text.toLowerCase();
      const next = tokens[pos + 1];
      if (
        path.length > 0 &&
        (lower === 'any' || lower === 'all') &&
        next?.type === 'punct' &&
        next.text === '('
      ) {
        pos += 2;
        if (peek()?.type === 'punct' && peek()?.text === ')') {
          pos++;
          return { kind: 'lambda', path, op: lower };
        }
        const variable = peek();
        if (variable?.type !== 'ident') return fail('lambda variable expected.');
        pos++;
        expect(':');
        const body = parseOr();
        expect(')');
        return { kind: 'lambda', path, op: lower, variable: variable.text, body };
      }
      path.push(t.text);
      pos++;
      if (peek()?.type === 'punct' && peek()?.text === '/') {
        pos++;
        continue;
      }
      return { kind: 'path', path };
    }
  };

  const expr = parseOr();
  if (pos < tokens.length)
    fail(`unexpected '${tokens[pos]?.text ?? ''}' at position ${tokens[pos]?.pos ?? 0}.`);
  return expr;
}

/** Reads a property path from an item, case-insensitively as OData property names are matched. */
export function getPath(item: unknown, path: string[]): unknown {
  let cur: unknown = item;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const obj = cur as Record<string, unknown>;
    if (seg in obj) {
      cur = obj[seg];
      continue;
    }
    const lower = seg.toLowerCase();
    const key = Object.keys(obj).find((k) => k.toLowerCase() === lower);
    cur = key === undefined ? undefined : obj[key];
  }
  return cur;
}

type Value = unknown;

function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) && !Number.isNaN(Date.parse(v));
}

function asDateMs(v: unknown): number | undefined {
  if (v && typeof v === 'object' && 'date' in v) return (v as { date: number }).date;
  if (isIsoDate(v)) return Date.parse(/Z|[+-]\d{2}:\d{2}$/.test(v) ? v : `${v}Z`);
  return undefined;
}

/** Orders two values as OData does: null lowest, dates by instant, strings case-insensitively. */
export function compareValues(a: Value, b: Value): number {
  const an = a === undefined ? null : a;
  const bn = b === undefined ? null : b;
  if (an === null || bn === null) return an === bn ? 0 : an === null ? -1 : 1;
  const ad = asDateMs(an);
  const bd = asDateMs(bn);
  if (ad !== undefined && bd !== undefined) return ad - bd;
  if (typeof an === 'number' && typeof bn === 'number') return an - bn;
  if (typeof an === 'boolean' && typeof bn === 'boolean') return Number(an) - Number(bn);
  const as = scalarText(an).toLowerCase();
  const bs = scalarText(bn).toLowerCase();
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/** Text of a scalar for comparisons; objects compare by their JSON. */
function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? '';
}

function equalValues(a: Value, b: Value): boolean {
  const an = a === undefined ? null : a;
  const bn = b === undefined ? null : b;
  if (an === null || bn === null) return an === bn;
  return compareValues(an, bn) === 0;
}

/** Evaluates a parsed $filter against an item. */
export function evaluateFilter(
  expr: FilterExpr,
  item: unknown,
  scope: Record<string, unknown> = {},
): boolean {
  return Boolean(evalExpr(expr, item, scope));
}

function evalExpr(expr: FilterExpr, item: unknown, scope: Record<string, unknown>): Value {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'path': {
      const [head, ...rest] = expr.path;
      if (head !== undefined && head in scope) return getPath(scope[head], rest);
      return getPath(item, expr.path);
    }
    case 'lambda': {
      const [head, ...rest] = expr.path;
      const target =
        head !== undefined && head in scope ? getPath(scope[head], rest) : getPath(item, expr.path);
      const list = Array.isArray(target) ? (target as unknown[]) : [];
      if (!expr.body || !expr.variable) return expr.op === 'any' ? list.length > 0 : true;
      const { body, variable } = expr;
      const test = (el: unknown) => Boolean(evalExpr(body, item, { ...scope, [variable]: el }));
      return expr.op === 'any' ? list.some(test) : list.every(test);
    }
    case 'call': {
      const args = expr.args.map((a) => evalExpr(a, item, scope));
      const str = (v: Value) => (v === null || v === undefined ? null : scalarText(v).toLowerCase());
      const [a, b] = [str(args[0]), str(args[1])];
      switch (expr.name) {
        case 'startswith':
          return a !== null && b !== null && a.startsWith(b);
        case 'endswith':
          return a !== null && b !== null && a.endsWith(b);
        case 'contains':
          return a !== null && b !== null && a.includes(b);
        case 'tolower':
        case 'toupper':
          // Comparisons are case-insensitive already; the value passes through.
          return args[0];
        case 'trim':
          return typeof args[0] === 'string' ? args[0].trim() : args[0];
        case 'length':
          return typeof args[0] === 'string' ? args[0].length : null;
        default:
          return null;
      }
    }
    case 'not':
      return !evalExpr(expr.operand, item, scope);
    case 'binary': {
      if (expr.op === 'and')
        return Boolean(evalExpr(expr.left, item, scope)) && Boolean(evalExpr(expr.right, item, scope));
      if (expr.op === 'or')
        return Boolean(evalExpr(expr.left, item, scope)) || Boolean(evalExpr(expr.right, item, scope));
      const l = evalExpr(expr.left, item, scope);
      const r = evalExpr(expr.right, item, scope);
      switch (expr.op) {
        case 'eq':
          return equalValues(l, r);
        case 'ne':
          return !equalValues(l, r);
        default: {
          if (l === null || l === undefined || r === null || r === undefined) return false;
          const c = compareValues(l, r);
          return expr.op === 'gt' ? c > 0 : expr.op === 'ge' ? c >= 0 : expr.op === 'lt' ? c < 0 : c <= 0;
        }
      }
    }
  }
}

/** Sorts items by $orderby keys (stable; ties keep the input order). */
export function applyOrderBy<T>(items: T[], keys: OrderKey[] | undefined): T[] {
  if (!keys || keys.length === 0) return items;
  return items
    .map((item, index) => ({ item, index }))
    .sort((x, y) => {
      for (const key of keys) {
        const c = compareValues(getPath(x.item, key.path), getPath(y.item, key.path));
        if (c !== 0) return key.desc ? -c : c;
      }
      return x.index - y.index;
    })
    .map((e) => e.item);
}

/** Property paths a filter or orderby references (services validate them, e.g. InefficientFilter). */
export function filterProperties(expr: FilterExpr | undefined): string[] {
  const out: string[] = [];
  const walk = (e: FilterExpr, vars: Set<string>) => {
    switch (e.kind) {
      case 'path':
        if (!vars.has(e.path[0] ?? '')) out.push(e.path.join('/'));
        break;
      case 'lambda':
        if (!vars.has(e.path[0] ?? '')) out.push(e.path.join('/'));
        if (e.body && e.variable) walk(e.body, new Set([...vars, e.variable]));
        break;
      case 'call':
        e.args.forEach((a) => walk(a, vars));
        break;
      case 'not':
        walk(e.operand, vars);
        break;
      case 'binary':
        walk(e.left, vars);
        walk(e.right, vars);
        break;
      default:
        break;
    }
  };
  if (expr) walk(expr, new Set());
  return out;
}

/**
 * Outlook's rule for messages with both $filter and $orderby (user-list-messages.md, reference
 * §4.2): properties in $orderby must also appear in $filter, in the same order, before any other
 * $filter property; otherwise 400 `InefficientFilter`. Use it as a collection `validate` hook.
 */
export function assertOutlookFilterOrder(q: ODataQuery): void {
  if (!q.orderby || !q.filter) return;
  const filtered = filterProperties(q.filter).map((p) => p.toLowerCase());
  const ordered = q.orderby.map((k) => k.path.join('/').toLowerCase());
  const leading = [...new Set(filtered)].slice(0, ordered.length);
  if (ordered.some((p, i) => leading[i] !== p)) {
    throw badQuery(
      'outlook',
      'The restriction or sort order is too complex for this operation.',
      'InefficientFilter',
    );
  }
}
