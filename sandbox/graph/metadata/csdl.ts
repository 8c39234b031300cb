/**
 * Reading the vendored Graph v1.0 API description (v1.0.xml.gz, see README.md here): for the
 * generator of actions.ts (scripts/gen-graph-actions.ts) and the tests that hold the sandbox to
 * it. Not loaded by the sandbox at run time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** The CSDL document as text (about 3.5 MB), from the sources (also when run from dist/). */
export function readMetadata(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return gunzipSync(readFileSync(join(dir, 'sandbox', 'graph', 'metadata', 'v1.0.xml.gz'))).toString('utf8');
}

/** Every bound action and its parameter names as declared (binding parameter left out), sorted. */
export function boundActions(xml: string): Record<string, string[]> {
  const actions: Record<string, string[]> = {};
  for (const m of xml.matchAll(/<Action Name="(\w+)"[^>]*IsBound="true"[^>]*>([\s\S]*?)<\/Action>/g)) {
    const params = [...m[2]!.matchAll(/<Parameter Name="(\w+)"/g)].map((p) => p[1]!).slice(1);
    actions[m[1]!] = [...new Set([...(actions[m[1]!] ?? []), ...params])].sort();
  }
  return Object.fromEntries(Object.entries(actions).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
