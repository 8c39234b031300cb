/**
 * The docs a newcomer reads stay true to the code: docs/api.md is exactly what
 * scripts/gen-api-docs.ts renders from the OpenAPI document (run `npm run docs:api` after changing
 * an action), every problem code and every symptom of the product brief's troubleshooting list is
 * in docs/troubleshooting.md, and every setting is in docs/configuration.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiDocs } from '../../scripts/gen-api-docs';
import { configSchema } from '../../shared/config';
import { PROBLEM_TYPES } from '../../shared/http/problem';

const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

/** Settings read only by scripts/ (npm start, tests, the demo), documented with the others. */
const LOCAL_SETTINGS = [
  'LOCAL_FUNCTION_KEY',
  'LOCAL_SETTINGS_PATH',
  'LOCAL_MASTER_KEY',
  'SANDBOX_PORT',
  'SANDBOX_BROWSER_PORT',
  'SANDBOX_STATE_DIR',
  'PORT',
  'AZURITE_LOCATION',
  'AZURITE_QUEUE_PORT',
  'AZURITE_TABLE_PORT',
];
/** Optional sync knobs parsed by shared/sync/settings.ts. */
const SYNC_SETTINGS = [
  'SYNC_MAIL_FOLDERS',
  'SYNC_CALENDAR_DAYS_BACK',
  'SYNC_CALENDAR_DAYS_AHEAD',
  'SYNC_PAGE_SIZE',
];

test('docs/api.md is up to date with the OpenAPI document (run `npm run docs:api`)', () => {
  const rendered = renderApiDocs();
  const committed = read('docs/api.md');
  // Compare line by line first so a failure names the first stale line, not a 2000-line diff.
  const a = committed.split('\n');
  const b = rendered.split('\n');
  const first = b.findIndex((line, i) => line !== a[i]);
  expect({
    firstDifferentLine: first === -1 ? null : first + 1,
    committed: a[first],
    expected: b[first],
  }).toEqual({ firstDifferentLine: null, committed: undefined, expected: undefined });
  expect(committed).toBe(rendered);
});

test('docs/api.md documents every operation of the OpenAPI document', () => {
  const doc = require('../../shared/actions/openapi').openApiDocument() as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const md = read('docs/api.md');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      expect(md).toContain(`\`${method.toUpperCase()} /api${path}\``);
      expect(md).toContain(`### ${op.operationId}`);
    }
  }
});

test('every problem code defined in the code is explained in docs/troubleshooting.md', () => {
  const md = read('docs/troubleshooting.md');
  const table = md.slice(md.indexOf('## Problem codes'));
  const missing = Object.entries(PROBLEM_TYPES).filter(
    ([code, { status }]) => !new RegExp(`^\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`, 'm').test(table),
  );
  expect(missing.map(([code]) => code)).toEqual([]);
});

test("docs/troubleshooting.md covers every symptom of the product brief's troubleshooting list", () => {
  const md = read('docs/troubleshooting.md');
  const headings = [...md.matchAll(/^### (.+)$/gm)].map((m) => m[1]!.toLowerCase());
  for (const symptom of [
    /invalid client/,
    /expired client secret/,
    /missing api permissions/,
    /admin consent/,
    /licen[cs]es/,
    /403 forbidden/,
    /throttling/,
    /microsoft service issues|outage/,
  ]) {
    expect(headings.some((h) => symptom.test(h))).toBe(true);
  }
  for (const code of [
    'access_denied',
    'consent_required',
    'interaction_required',
    'temporarily_unavailable',
  ]) {
    expect(md).toMatch(new RegExp(`^\\|\\s*\`${code}\``, 'm'));
  }
});

test('every setting is documented in docs/configuration.md', () => {
  const md = read('docs/configuration.md');
  const sample = JSON.parse(read('local.settings.sample.json')) as { Values: Record<string, string> };
  const settings = [
    ...Object.keys(configSchema.shape),
    ...LOCAL_SETTINGS,
    ...SYNC_SETTINGS,
    ...Object.keys(sample.Values),
  ];
  // A row of a settings table starts with the setting's name (tables may be column-aligned).
  const missing = [...new Set(settings)].filter(
    (name) => !new RegExp(`^\\|\\s*\`${name}\`\\s*\\|`, 'm').test(md),
  );
  expect(missing).toEqual([]);
});
