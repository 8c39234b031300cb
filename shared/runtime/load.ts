/**
 * Loads every function file so that each registers itself, as the Functions host does with the
 * package.json `main` glob. Works on compiled output (dist/functions/**\/*.js) and, under Jest,
 * on the TypeScript sources.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { registrations, type TriggerSpec } from './register';

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (/\.(js|ts)$/.test(name) && !name.endsWith('.d.ts') && !/\.test\.(js|ts)$/.test(name))
      out.push(full);
  }
}

export function loadFunctions(
  functionsDir: string = join(__dirname, '..', '..', 'functions'),
): TriggerSpec[] {
  const files: string[] = [];
  walk(functionsDir, files);
  for (const file of files) require(file);
  return registrations();
}
