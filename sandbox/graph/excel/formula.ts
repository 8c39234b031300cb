/**
 * A small Excel formula evaluator for the sandbox's workbooks. exceljs reads and writes formulas
 * with their last result but does not calculate (https://github.com/exceljs/exceljs#formula-value),
 * and Graph answers a range's `values` calculated, so the sandbox calculates what it serves.
 *
 * Supported: numbers, strings, TRUE/FALSE, error literals; + - * / ^ & % and comparisons; cell
 * and range references (`A1`, `$A$1:B9`, `Sheet2!A1`, `'My sheet'!A:A`); structured references to
 * a table's data (`Expenses[Amount]`, `Expenses[#Data]`, `Expenses`); functions SUM, AVERAGE,
 * COUNT, COUNTA, MIN, MAX, IF, AND, OR, NOT, ROUND, ABS, LEN, UPPER, LOWER, CONCATENATE.
 * Anything else is `#NAME?`, as Excel shows an unknown function. A circular reference reads as 0
 * (Excel's value while its circular-reference warning is shown; book.ts detects it).
 *
 * Not a library: the maintained engines are GPL/commercial (HyperFormula) or unmaintained
 * (fast-formula-parser), and the sandbox needs only this subset.
 */
import { MAX_ROW, parseArea, type Area } from './a1';

export interface ExcelError {
  error: '#DIV/0!' | '#VALUE!' | '#NAME?' | '#REF!' | '#N/A' | '#NUM!' | '#NULL!';
}
export type Scalar = number | string | boolean | null | ExcelError;

export interface SheetArea extends Area {
  sheet: string;
}

/** What a formula reads: cells (calculated), tables, sheets. */
export interface FormulaEnv {
  sheet: string;
  value(sheet: string, row: number, col: number): Scalar;
  hasSheet(name: string): boolean;
  /** The data rows of a table's column (or all columns), undefined when there is no such table/column. */
  tableArea(table: string, column?: string): SheetArea | undefined;
  /** The last used row and column of a sheet (whole-column references stop there). */
  extent(sheet: string): { rows: number; cols: number };
}

export function isError(v: unknown): v is ExcelError {
  return typeof v === 'object' && v !== null && 'error' in v;
}

const err = (e: ExcelError['error']): ExcelError => ({ error: e });

// ---------------------------------------------------------------- tokens

type TokenType =
  'num' | 'str' | 'bool' | 'error' | 'ref' | 'struct' | 'func' | 'op' | 'lparen' | 'rparen' | 'comma';
export interface Token {
  type: TokenType;
  text: string;
  start: number;
  end: number;
}

const SHEET = String.raw`(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!`;
const CELL = String.raw`\$?[A-Za-z]{1,3}\$?\d+`;
const PATTERNS: Array<[TokenType, RegExp]> = [
  ['str', /"(?:[^"]|"")*"/y],
  ['error', /#(?:DIV\/0!|VALUE!|NAME\?|REF!|N\/A|NUM!|NULL!)/y],
  ['struct', /[A-Za-z_][A-Za-z0-9_.]*\[(?:[^[\]]|\[[^[\]]*\])*\]/y],
  ['func', /[A-Za-z_][A-Za-z0-9_.]*(?=\()/y],
  [
    'ref',
    new RegExp(
      String.raw`(?:${SHEET})?(?:${CELL}(?::${CELL})?|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}|\$?\d+:\$?\d+)(?![A-Za-z0-9_(])`,
      'y',
    ),
  ],
  ['bool', /(?:TRUE|FALSE)(?![A-Za-z0-9_(])/iy],
  ['num', /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y],
  ['struct', /[A-Za-z_][A-Za-z0-9_.]*(?![A-Za-z0-9_.([])/y],
  ['op', /<>|<=|>=|[-+*/^&=<>%]/y],
  ['lparen', /\(/y],
  ['rparen', /\)/y],
  ['comma', /,/y],
];

export function tokenize(formula: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  outer: while (i < formula.length) {
    if (/\s/.test(formula[i] ?? '')) {
      i++;
      continue;
    }
    for (const [type, re] of PATTERNS) {
      re.lastIndex = i;
      const m = re.exec(formula);
      if (m && m.index === i) {
        tokens.push({ type, text: m[0], start: i, end: i + m[0].length });
        i += m[0].length;
        continue outer;
      }
    }
    return undefined;
  }
  return tokens;
}

// ---------------------------------------------------------------- evaluation

type Value = Scalar | SheetArea;

function isArea(v: Value): v is SheetArea {
  return typeof v === 'object' && v !== null && 'r1' in v;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly env: FormulaEnv,
  ) {}

  parse(): Value {
    const v = this.comparison();
    if (this.pos < this.tokens.length) return err('#VALUE!');
    return v;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private take(): Token {
    const t = this.tokens[this.pos++];
    if (!t) throw new SyntaxError('unexpected end');
    return t;
  }

  private isOp(...ops: string[]): boolean {
    const t = this.peek();
    return t?.type === 'op' && ops.includes(t.text);
  }

  private comparison(): Value {
    let left = this.concat();
    while (this.isOp('=', '<>', '<', '>', '<=', '>=')) {
      const op = this.take().text;
      const right = this.concat();
      left = compare(op, this.scalar(left), this.scalar(right));
    }
    return left;
  }

  private concat(): Value {
    let left = this.additive();
    while (this.isOp('&')) {
      this.take();
      const a = this.scalar(this.additive());
      const b = this.scalar(left);
      if (isError(b)) return b;
      if (isError(a)) return a;
      left = text(b) + text(a);
    }
    return left;
  }

  private additive(): Value {
    let left = this.term();
    while (this.isOp('+', '-')) {
      const op = this.take().text;
      left = arithmetic(op, this.scalar(left), this.scalar(this.term()));
    }
    return left;
  }

  private term(): Value {
    let left = this.power();
    while (this.isOp('*', '/')) {
      const op = this.take().text;
      left = arithmetic(op, this.scalar(left), this.scalar(this.power()));
    }
    return left;
  }

  private power(): Value {
    let left = this.unary();
    while (this.isOp('^')) {
      this.take();
      left = arithmetic('^', this.scalar(left), this.scalar(this.unary()));
    }
    return left;
  }

  private unary(): Value {
    if (this.isOp('-', '+')) {
      const op = this.take().text;
      const v = this.scalar(this.unary());
      return op === '-' ? arithmetic('-', 0, v) : v;
    }
    let v = this.primary();
    while (this.isOp('%')) {
      this.take();
      v = arithmetic('/', this.scalar(v), 100);
    }
    return v;
  }

  private primary(): Value {
    const t = this.take();
    switch (t.type) {
      case 'num':
        return Number(t.text);
      case 'str':
        return t.text.slice(1, -1).replace(/""/g, '"');
      case 'bool':
        return t.text.toUpperCase() === 'TRUE';
      case 'error':
        return { error: t.text as ExcelError['error'] };
      case 'ref':
        return this.reference(t.text);
      case 'struct':
        return this.structured(t.text);
      case 'lparen': {
        const v = this.comparison();
        if (this.take().type !== 'rparen') throw new SyntaxError('expected )');
        return v;
      }
      case 'func':
        return this.call(t.text.toUpperCase());
      default:
        throw new SyntaxError(`unexpected ${t.text}`);
    }
  }

  private call(name: string): Value {
    this.take(); // (
    const args: Array<() => Value> = [];
    if (this.peek()?.type !== 'rparen') {
      for (;;) {
        // Arguments are evaluated lazily (IF evaluates only the branch it takes), so capture their
        // token span and evaluate on demand.
        const start = this.pos;
        this.skipArgument();
        const span = this.tokens.slice(start, this.pos);
        args.push(() => new Parser(span, this.env).parse());
        if (this.peek()?.type === 'comma') {
          this.take();
          continue;
        }
        break;
      }
    }
    if (this.take().type !== 'rparen') throw new SyntaxError('expected )');
    return callFunction(name, args, this.env, (v) => this.scalar(v));
  }

  /** Moves past one argument (up to a comma or the closing parenthesis at this depth). */
  private skipArgument(): void {
    let depth = 0;
    for (;;) {
      const t = this.peek();
      if (!t) throw new SyntaxError('unexpected end');
      if (depth === 0 && (t.type === 'comma' || t.type === 'rparen')) return;
      if (t.type === 'lparen') depth++;
      if (t.type === 'rparen') depth--;
      this.pos++;
    }
  }

  private reference(textRef: string): Value {
    const area = parseArea(textRef.replace(/\$/g, ''));
    if (!area) return err('#REF!');
    const sheet = area.sheet ?? this.env.sheet;
    if (!this.env.hasSheet(sheet)) return err('#REF!');
    return { ...area, sheet };
  }

  private structured(textRef: string): Value {
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)(?:\[(.*)\])?$/.exec(textRef);
    if (!m) return err('#REF!');
    const inner = (m[2] ?? '').trim();
    const column = inner === '' || /^#Data$/i.test(inner) ? undefined : inner.replace(/^\[|\]$/g, '');
    const area = this.env.tableArea(m[1] ?? '', column);
    return area ?? err(inner === '' && m[2] === undefined ? '#NAME?' : '#REF!');
  }

  /** A single value: a one-cell range reads its cell; a larger one is #VALUE! (no implicit intersection). */
  scalar(v: Value): Scalar {
    if (!isArea(v)) return v;
    if (v.r1 === v.r2 && v.c1 === v.c2) return this.env.value(v.sheet, v.r1, v.c1);
    return err('#VALUE!');
  }
}

function text(v: Scalar): string {
  if (v === null) return '';
  if (isError(v)) return v.error;
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return String(v);
}

function toNumber(v: Scalar): number | ExcelError {
  if (isError(v)) return v;
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  const n = Number(v.trim());
  return v.trim() !== '' && Number.isFinite(n) ? n : err('#VALUE!');
}

function arithmetic(op: string, a: Scalar, b: Scalar): Scalar {
  const x = toNumber(a);
  const y = toNumber(b);
  if (isError(x)) return x;
  if (isError(y)) return y;
  switch (op) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return y === 0 ? err('#DIV/0!') : x / y;
    default: {
      const r = Math.pow(x, y);
      return Number.isFinite(r) ? r : err('#NUM!');
    }
  }
}

/** Excel orders numbers < text < booleans; text compares case-insensitively. */
function compare(op: string, a: Scalar, b: Scalar): Scalar {
  if (isError(a)) return a;
  if (isError(b)) return b;
  const rank = (v: Scalar) => (typeof v === 'boolean' ? 2 : typeof v === 'string' ? 1 : 0);
  const norm = (v: Scalar, other: Scalar) =>
    v === null ? (typeof other === 'string' ? '' : typeof other === 'boolean' ? false : 0) : v;
  const x = norm(a, b);
  const y = norm(b, a);
  let c: number;
  if (rank(x) !== rank(y)) c = rank(x) - rank(y);
  else if (typeof x === 'string' && typeof y === 'string') c = x.toLowerCase().localeCompare(y.toLowerCase());
  else c = Number(x) - Number(y);
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '>':
      return c > 0;
    case '<=':
      return c <= 0;
    default:
      return c >= 0;
  }
}

/** The cells of a range, limited to the used part of the sheet (whole columns stay cheap). */
function cellsOf(area: SheetArea, env: FormulaEnv): Scalar[] {
  const { rows, cols } = env.extent(area.sheet);
  const out: Scalar[] = [];
  for (let r = area.r1; r <= Math.min(area.r2, rows); r++) {
    for (let c = area.c1; c <= Math.min(area.c2, cols); c++) out.push(env.value(area.sheet, r, c));
  }
  return out;
}

/**
 * Aggregates follow Excel: numbers in ranges count, text and booleans in ranges are skipped;
 * typed arguments are converted (a text that is no number is #VALUE!). An error anywhere wins.
 */
function numbers(
  args: Array<() => Value>,
  env: FormulaEnv,
  scalar: (v: Value) => Scalar,
): number[] | ExcelError {
  const out: number[] = [];
  for (const arg of args) {
    const v = arg();
    if (isArea(v)) {
      for (const cell of cellsOf(v, env)) {
        if (isError(cell)) return cell;
        if (typeof cell === 'number') out.push(cell);
      }
      continue;
    }
    const n = toNumber(scalar(v));
    if (isError(n)) return n;
    out.push(n);
  }
  return out;
}

function callFunction(
  name: string,
  args: Array<() => Value>,
  env: FormulaEnv,
  scalar: (v: Value) => Scalar,
): Value {
  const need = (min: number, max = min) => args.length >= min && args.length <= max;
  switch (name) {
    case 'SUM': {
      const ns = numbers(args, env, scalar);
      return isError(ns) ? ns : ns.reduce((s, n) => s + n, 0);
    }
    case 'AVERAGE': {
      const ns = numbers(args, env, scalar);
      if (isError(ns)) return ns;
      return ns.length === 0 ? err('#DIV/0!') : ns.reduce((s, n) => s + n, 0) / ns.length;
    }
    case 'MIN':
    case 'MAX': {
      const ns = numbers(args, env, scalar);
      if (isError(ns)) return ns;
      return ns.length === 0 ? 0 : name === 'MIN' ? Math.min(...ns) : Math.max(...ns);
    }
    case 'COUNT':
    case 'COUNTA': {
      let count = 0;
      for (const arg of args) {
        const v = arg();
        const cells = isArea(v) ? cellsOf(v, env) : [scalar(v)];
        for (const c of cells) {
          if (name === 'COUNTA' ? c !== null : typeof c === 'number') count++;
          else if (name === 'COUNT' && !isArea(v) && typeof c === 'string' && !isError(toNumber(c))) count++;
        }
      }
      return count;
    }
    case 'IF': {
      if (!need(1, 3)) return err('#VALUE!');
      const cond = scalar((args[0] as () => Value)());
      if (isError(cond)) return cond;
      const truth = typeof cond === 'string' ? toNumber(cond) : cond;
      if (isError(truth)) return truth;
      const chosen = truth ? args[1] : args[2];
      if (!chosen) return !truth && args.length < 3 ? false : 0;
      const v = chosen();
      return v === null ? 0 : v;
    }
    case 'AND':
    case 'OR': {
      const bools: boolean[] = [];
      for (const arg of args) {
        const v = arg();
        const cells = isArea(v)
          ? cellsOf(v, env).filter((c) => typeof c !== 'string' && c !== null)
          : [scalar(v)];
        for (const c of cells) {
          const n = toNumber(c);
          if (isError(n)) return n;
          bools.push(n !== 0);
        }
      }
      if (bools.length === 0) return err('#VALUE!');
      return name === 'AND' ? bools.every(Boolean) : bools.some(Boolean);
    }
    case 'NOT': {
      if (!need(1)) return err('#VALUE!');
      const n = toNumber(scalar((args[0] as () => Value)()));
      return isError(n) ? n : n === 0;
    }
    case 'ROUND':
    case 'ABS': {
      if (name === 'ROUND' ? !need(2) : !need(1)) return err('#VALUE!');
      const n = toNumber(scalar((args[0] as () => Value)()));
      if (isError(n)) return n;
      if (name === 'ABS') return Math.abs(n);
      const d = toNumber(scalar((args[1] as () => Value)()));
      if (isError(d)) return d;
      const f = Math.pow(10, Math.trunc(d));
      return (Math.sign(n) * Math.round(Math.abs(n) * f + Number.EPSILON)) / f;
    }
    case 'LEN':
    case 'UPPER':
    case 'LOWER': {
      if (!need(1)) return err('#VALUE!');
      const v = scalar((args[0] as () => Value)());
      if (isError(v)) return v;
      const s = text(v);
      return name === 'LEN' ? s.length : name === 'UPPER' ? s.toUpperCase() : s.toLowerCase();
    }
    case 'CONCATENATE': {
      let out = '';
      for (const arg of args) {
        const v = scalar(arg());
        if (isError(v)) return v;
        out += text(v);
      }
      return out;
    }
    default:
      return err('#NAME?');
  }
}

/** Calculates a formula (without its leading "="). A formula that does not parse is #NAME?. */
export function evaluate(formula: string, env: FormulaEnv): Scalar {
  const tokens = tokenize(formula);
  if (!tokens || tokens.length === 0) return err('#NAME?');
  try {
    const parser = new Parser(tokens, env);
    const v = parser.parse();
    return parser.scalar(v);
  } catch (e) {
    if (e instanceof SyntaxError) return err('#NAME?');
    throw e;
  }
}

/** True when `formula` (without "=") can be read: Excel refuses to store one that cannot. */
export function parses(formula: string): boolean {
  const tokens = tokenize(formula);
  if (!tokens || tokens.length === 0) return false;
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'lparen') depth++;
    if (t.type === 'rparen' && --depth < 0) return false;
  }
  return depth === 0;
}

/**
 * Rewrites a formula's references when rows are inserted in `sheet` at `atRow` (count rows) for
 * columns c1..c2 (a table growing inside its columns): a reference at or below the insertion
 * moves down, a range that spans it grows (Excel's rule). `formulaSheet` is where the formula is.
 */
export function shiftReferences(
  formula: string,
  formulaSheet: string,
  insert: { sheet: string; atRow: number; count: number; c1: number; c2: number },
): string {
  const tokens = tokenize(formula);
  if (!tokens) return formula;
  const shift = (row: number) => (row >= insert.atRow ? row + insert.count : row);
  let out = '';
  let last = 0;
  for (const t of tokens) {
    if (t.type !== 'ref') continue;
    const area = parseArea(t.text.replace(/\$/g, ''));
    if (!area || (area.sheet ?? formulaSheet) !== insert.sheet) continue;
    if (area.c1 < insert.c1 || area.c2 > insert.c2 || area.r2 === MAX_ROW) continue;
    if (shift(area.r1) === area.r1 && shift(area.r2) === area.r2) continue;
    // Each end moves on its own: a range spanning the insertion grows, one below it moves.
    const bang = t.text.lastIndexOf('!') + 1;
    const cells = t.text
      .slice(bang)
      .replace(
        /(\$?[A-Za-z]{1,3}\$?)(\d+)/g,
        (_m, col: string, row: string) => `${col}${shift(Number(row))}`,
      );
    out += formula.slice(last, t.start) + t.text.slice(0, bang) + cells;
    last = t.end;
  }
  return out + formula.slice(last);
}
