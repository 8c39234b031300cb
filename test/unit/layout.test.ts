/**
 * The layout keeps its shape as services are added (docs/architecture.md, "Layers"): no import
 * circles anywhere (type-only imports included), shared/ imports only downwards through its
 * layers, the actions framework never names a service, and the product and the sandbox never
 * import each other.
 */
import { join } from 'node:path';
import { importCycles, importGraph, type ImportEdge } from '../support/imports';

const root = join(__dirname, '..', '..');
const edges = importGraph(root, ['functions', 'shared', 'sandbox', 'scripts', 'bench']);

/**
 * shared/'s layers, lowest first. A folder (or top-level module) imports its own files and those
 * of lower layers only; folders on one layer do not import each other.
 */
const SHARED_LAYERS: readonly (readonly string[])[] = [
  ['cloud'],
  ['config'],
  ['telemetry'],
  ['correlation'],
  ['meter'],
  ['shards'],
  ['crypto', 'secrets'],
  ['storage', 'http', 'runtime'],
  ['audit', 'privacy', 'health', 'content'],
  ['auth'],
  ['graph'],
  ['actions', 'sync'],
  ['services', 'events'],
  ['webhooks', 'mcp'],
  ['fanout'],
];

/** `shared/http/caller.ts` → `http`; `shared/config.ts` → `config`. */
function sharedPart(path: string): string | undefined {
  const m = /^shared\/([^/]+?)(?:\.ts)?(?:\/|$)/.exec(path);
  return m?.[1];
}

function layerOf(part: string): number {
  return SHARED_LAYERS.findIndex((layer) => layer.includes(part));
}

function upwardImports(all: readonly ImportEdge[]): string[] {
  const bad: string[] = [];
  for (const e of all) {
    const from = sharedPart(e.from);
    const to = sharedPart(e.to);
    if (!from || !to || from === to) continue;
    if (layerOf(from) <= layerOf(to)) bad.push(`${e.from} → ${e.to}`);
  }
  return bad;
}

test('every folder of shared/ has a layer', () => {
  const parts = new Set(edges.flatMap((e) => [sharedPart(e.from), sharedPart(e.to)]).filter(Boolean));
  expect([...parts].filter((p) => layerOf(p!) < 0)).toEqual([]);
});

test('no import circles (type-only imports count)', () => {
  expect(importCycles(edges)).toEqual([]);
});

test('shared/ imports downwards only: storage, crypto, config and http never import actions, services, sync or webhooks', () => {
  expect(upwardImports(edges)).toEqual([]);
});

test('the product and the sandbox do not import each other; functions/ and shared/ never import scripts/', () => {
  const crossing = edges.filter(
    (e) =>
      ((e.from.startsWith('shared/') || e.from.startsWith('functions/')) &&
        /^(sandbox|scripts|bench|test)\//.test(e.to)) ||
      (e.from.startsWith('sandbox/') && /^(shared|functions|scripts)\//.test(e.to)),
  );
  expect(crossing.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
});

test('sandbox modules take the Sandbox from context.ts; only entry points import sandbox/index.ts', () => {
  const intoIndex = edges.filter((e) => e.to === 'sandbox/index.ts' && e.from.startsWith('sandbox/'));
  expect(intoIndex.map((e) => e.from)).toEqual(['sandbox/main.ts']);
});

describe('the checks themselves fail when they should', () => {
  test('a circle through a type-only import is found', () => {
    const cycles = importCycles([
      { from: 'a.ts', to: 'b.ts', typeOnly: false },
      { from: 'b.ts', to: 'c.ts', typeOnly: true },
      { from: 'c.ts', to: 'a.ts', typeOnly: false },
      { from: 'c.ts', to: 'd.ts', typeOnly: false },
    ]);
    expect(cycles).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  test('storage importing actions, and actions importing a service, are upward imports', () => {
    expect(
      upwardImports([
        { from: 'shared/storage/tables.ts', to: 'shared/actions/types.ts', typeOnly: true },
        { from: 'shared/actions/http.ts', to: 'shared/services/index.ts', typeOnly: false },
        { from: 'shared/services/mail/read.ts', to: 'shared/actions/registry.ts', typeOnly: false },
      ]),
    ).toEqual([
      'shared/storage/tables.ts → shared/actions/types.ts',
      'shared/actions/http.ts → shared/services/index.ts',
    ]);
  });

  test('the graph is the real one: it sees the imports this layout is built on', () => {
    expect(edges).toEqual(
      expect.arrayContaining([
        { from: 'functions/actions.ts', to: 'shared/services/index.ts', typeOnly: false },
        { from: 'shared/services/index.ts', to: 'shared/services/mail/index.ts', typeOnly: false },
        { from: 'sandbox/graph/mail/model.ts', to: 'sandbox/context.ts', typeOnly: true },
      ]),
    );
  });
});
