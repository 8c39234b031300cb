/**
 * The delegated permissions a newcomer registers come from one place, shared/auth/scopes.ts: the
 * README, docs/deployment.md (its table and its `az` script) and the sandbox's consent page may
 * not drift from it. Every scope the app can request is documented per feature, and the consent
 * page describes each in words (never the bare scope name twice).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeScope } from '../../sandbox/identity/scopes';
import { ADMIN_CONSENT_SCOPES, BASE_SCOPES, FEATURE_SCOPES } from '../../shared/auth/scopes';

const root = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const ALL = [...new Set([...BASE_SCOPES, ...Object.values(FEATURE_SCOPES).flat()])];

test('the README names every scope the app requests', () => {
  const readme = read('README.md');
  expect(ALL.filter((s) => !readme.includes(`\`${s}\``))).toEqual([]);
});

test("docs/deployment.md's table lists each feature's scopes exactly, with admin consent where needed", () => {
  const doc = read('docs/deployment.md');
  for (const [feature, scopes] of Object.entries(FEATURE_SCOPES)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${feature}\``));
    expect(row).toBeDefined();
    const listed = [...row!.split('|')[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    expect({ feature, listed: listed.sort() }).toEqual({ feature, listed: [...scopes].sort() });
    const admin = scopes.some((s) => ADMIN_CONSENT_SCOPES.includes(s));
    expect({ feature, admin: /yes/.test(row!.split('|')[3]!) }).toEqual({ feature, admin });
  }
  const base = doc.split('\n').find((l) => l.startsWith('| (always)'))!;
  expect([...base.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort()).toEqual([...BASE_SCOPES].sort());
});

test("docs/deployment.md's az script adds every scope", () => {
  const doc = read('docs/deployment.md');
  const script = /SCOPES="([^"]+)"/.exec(doc)?.[1] ?? '';
  const words = script.replace(/\\\n/g, ' ').split(/\s+/).filter(Boolean);
  expect(words.sort()).toEqual([...ALL].sort());
});

test('the consent page describes every requested scope in words', () => {
  for (const scope of ALL) {
    const text = describeScope(scope);
    expect({ scope, described: text.toLowerCase() !== scope.toLowerCase() && text.length > 5 }).toEqual({
      scope,
      described: true,
    });
  }
});
