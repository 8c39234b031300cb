/**
 * Loads local.settings.json (or, on a fresh clone, local.settings.sample.json, whose values work
 * against the sandbox) into process.env the way Core Tools does: values already in the
 * environment win.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadLocalSettings(root = process.cwd()): { file: string; values: Record<string, string> } {
  const own = join(root, 'local.settings.json');
  const sample = join(root, 'local.settings.sample.json');
  const file = existsSync(own) ? own : sample;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { Values?: Record<string, string> };
  const values = parsed.Values ?? {};
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
  return { file, values };
}

export function isLoopbackUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}
