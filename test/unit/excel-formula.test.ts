/**
 * The sandbox's formula evaluator and A1 addresses (sandbox/graph/excel): what Excel shows for
 * the functions the sandbox supports, its errors, and how references follow inserted rows.
 */
import { formatArea, parseArea } from '../../sandbox/graph/excel/a1';
import {
  evaluate,
  parses,
  shiftReferences,
  type FormulaEnv,
  type Scalar,
} from '../../sandbox/graph/excel/formula';

/** A sheet "S" of constants and formulas, evaluated like the workbook does (no caching). */
function sheet(cells: Record<string, Scalar | string>): FormulaEnv {
  const env: FormulaEnv = {
    sheet: 'S',
    hasSheet: (name) => name.toLowerCase() === 's',
    value: (_s, row, col) => {
      const v = cells[`${String.fromCharCode(64 + col)}${row}`];
      if (v === undefined) return null;
      return typeof v === 'string' && v.startsWith('=') ? evaluate(v.slice(1), env) : v;
    },
    tableArea: (name, column) =>
      name === 'T' && (column === undefined || column === 'Amount')
        ? { sheet: 'S', r1: 2, c1: 2, r2: 4, c2: 2 }
        : undefined,
    extent: () => ({ rows: 10, cols: 5 }),
  };
  return env;
}

describe('formula evaluation', () => {
  const env = sheet({ A1: 'x', B2: 10, B3: 20, B4: 'text', B5: true, D1: 0 });

  it.each([
    ['SUM(B2:B5)', 30],
    ['AVERAGE(B2:B4)', 15],
    ['COUNT(B:B)', 2],
    ['COUNTA(B2:B5)', 4],
    ['IF(SUM(B2:B3)>25,"big","small")', 'big'],
    ['IF(B2<5,"yes")', false],
    ['MAX(B2:B3)-MIN(B2:B3)', 10],
    ['ROUND(2/3,2)', 0.67],
    ['"a"&B2&TRUE', 'a10TRUE'],
    ['SUM(T[Amount])*10%', 3],
    ['2^3*-1', -8],
    ['AND(B2>1,OR(FALSE,B3=20))', true],
    ['LEN(UPPER(A1))', 1],
    ['B2="10"', false],
  ])('%s = %p', (formula, expected) => {
    expect(evaluate(formula, env)).toEqual(expected);
  });

  it.each([
    ['B2/D1', '#DIV/0!'],
    ['B4+1', '#VALUE!'],
    ['NOPE(1)', '#NAME?'],
    ['SUM(T[Missing])', '#REF!'],
    ['Other!A1', '#REF!'],
    ['AVERAGE(A2:A3)', '#DIV/0!'],
    ['B2:B3', '#VALUE!'],
  ])('%s is the error %s', (formula, error) => {
    expect(evaluate(formula, env)).toEqual({ error });
  });

  it('tells formulas Excel would refuse to store', () => {
    expect(parses('SUM(A1:A3)')).toBe(true);
    expect(parses('SUM(A1')).toBe(false);
    expect(parses('A1+)')).toBe(false);
    expect(parses('"open')).toBe(false);
  });
});

describe('references follow inserted rows', () => {
  const insert = { sheet: 'Data', atRow: 4, count: 2, c1: 1, c2: 3 };
  it.each([
    ['SUM(C2:C5)', 'Data', 'SUM(C2:C7)'], // spans the insertion: grows
    ['SUM(C2:C3)', 'Data', 'SUM(C2:C3)'], // ends above: stays
    ['$C$4*2', 'Data', '$C$6*2'], // at or below: moves, $ kept
    ['Data!B9+Other!B9', 'Other', 'Data!B11+Other!B9'], // only the sheet with the insertion
    ['E9', 'Data', 'E9'], // outside the table's columns
    ["'Data'!A4", 'Summary', "'Data'!A6"],
  ])('%s on %s becomes %s', (formula, where, expected) => {
    expect(shiftReferences(formula, where, insert)).toBe(expected);
  });
});

describe('A1 addresses', () => {
  it('parses cells, ranges, sheets, whole columns and rows', () => {
    expect(parseArea('B2')).toEqual({ r1: 2, c1: 2, r2: 2, c2: 2 });
    expect(parseArea("'Q3 Budget'!$A$1:C10")).toEqual({ sheet: 'Q3 Budget', r1: 1, c1: 1, r2: 10, c2: 3 });
    expect(parseArea('C:A')).toMatchObject({ r1: 1, c1: 1, c2: 3 });
    expect(parseArea('2:5')).toMatchObject({ r1: 2, r2: 5, c1: 1 });
    for (const bad of ['', 'A0', 'A1:', 'ZZZZ1', 'A1048577', '1A', 'A1:B2:C3'])
      expect(parseArea(bad)).toBeUndefined();
  });

  it('writes addresses as Graph does', () => {
    expect(formatArea('Sheet1', { r1: 1, c1: 1, r2: 3, c2: 28 })).toBe('Sheet1!A1:AB3');
    expect(formatArea('Q3 Budget', { r1: 5, c1: 2, r2: 5, c2: 2 })).toBe("'Q3 Budget'!B5");
  });
});
