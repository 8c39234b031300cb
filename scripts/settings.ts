/**
 * Loads local.settings.json (or, on a fresh clone, local.settings.sample.json, whose values work
 * against the sandbox) into process.env the way Core Tools does: values already in the
 * environment win. `LOCAL_SETTINGS_PATH` names another file (tests, several setups side by side).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export class SettingsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsFileError';
  }
}

/** Line and column (1-based) of a character offset in a text. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Where JSON.parse stopped: its message names a position (Node 20) or a line and column (22+). */
function jsonErrorAt(text: string, err: Error): { line: number; column: number } {
  const lc = /line (\d+) column (\d+)/.exec(err.message);
  if (lc) return { line: Number(lc[1]), column: Number(lc[2]) };
  const pos = /position (\d+)/.exec(err.message);
  if (pos) return lineColumn(text, Number(pos[1]));
  // "Unexpected end of JSON input" and similar: at the end of the file.
  return lineColumn(text, text.length);
}

export interface LoadedSettings {
  file: string;
  values: Record<string, string>;
  /** Whether the values are the sample's defaults (not chosen by the user). */
  sample: boolean;
}

export function loadLocalSettings(root = process.cwd()): LoadedSettings {
  const own = process.env.LOCAL_SETTINGS_PATH ?? join(root, 'local.settings.json');
  const sampleFile = join(root, 'local.settings.sample.json');
  const file = existsSync(own) ? own : sampleFile;
  const text = readFileSync(file, 'utf8');
  let parsed: { Values?: Record<string, unknown> };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (err) {
    const { line, column } = jsonErrorAt(text, err as Error);
    throw new SettingsFileError(
      `${file}:${line}:${column}: not valid JSON (${(err as Error).message.split('\n')[0]}). Fix the file, or delete it to use local.settings.sample.json.`,
    );
  }
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed?.Values ?? {})) {
    if (typeof value !== 'string') {
      throw new SettingsFileError(
        `${file}: Values.${key} must be a string (settings are strings, as in Azure).`,
      );
    }
    values[key] = value;
  }
  for (const [key, value] of Object.entries(values)) {
    if (process.env[key] === undefined) process.env[key] = value;
  }
  return { file, values, sample: file === sampleFile };
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

/** The URL with its port replaced (loopback URLs only). */
function withPort(url: string, port: number): string {
  if (!isLoopbackUrl(url)) return url;
  const u = new URL(url);
  u.port = String(port);
  return url.endsWith('/') || u.pathname !== '/' ? u.toString() : u.toString().replace(/\/$/, '');
}

/**
 * The sample's URLs carry the default ports (7071, 7443): with PORT / SANDBOX_PORT set, the ones
 * that did not come from the environment follow them, so `PORT=8080 npm start` just works.
 * Values set in the environment are the user's choice and stay as they are (checked below).
 */
export function alignPorts(loaded: LoadedSettings, explicit: ReadonlySet<string>): void {
  const port = Number(process.env.PORT ?? 7071);
  const sandboxPort = process.env.SANDBOX_PORT ? Number(process.env.SANDBOX_PORT) : undefined;
  if (!loaded.sample) return;
  for (const name of ['MICROSOFT_REDIRECT_URI', 'PUBLIC_BASE_URL']) {
    const v = process.env[name];
    if (v && !explicit.has(name)) process.env[name] = withPort(v, port);
  }
  const list = process.env.RETURN_URL_ALLOWLIST;
  if (list && !explicit.has('RETURN_URL_ALLOWLIST')) {
    process.env.RETURN_URL_ALLOWLIST = list
      .split(',')
      .map((u) => (u.includes(':7071') ? withPort(u.trim(), port) : u.trim()))
      .join(',');
  }
  if (sandboxPort) {
    for (const name of ['MICROSOFT_AUTHORITY_HOST', 'GRAPH_BASE_URL']) {
      const v = process.env[name];
      if (v && !explicit.has(name)) process.env[name] = withPort(v, sandboxPort);
    }
  }
}

/** Problems only `npm start` can see: where the local host listens versus what the URLs say. */
export function localUrlProblems(): string[] {
  const problems: string[] = [];
  const port = Number(process.env.PORT ?? 7071);
  const redirect = process.env.MICROSOFT_REDIRECT_URI;
  if (redirect && isLoopbackUrl(redirect)) {
    const u = new URL(redirect);
    const redirectPort = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    if (redirectPort !== port) {
      problems.push(
        `MICROSOFT_REDIRECT_URI is ${redirect}, but the local host listens on port ${port} (PORT): Microsoft would send the browser where nothing answers. Use http://localhost:${port}${u.pathname}, or set PORT=${redirectPort}.`,
      );
    }
  }
  const sandboxPort = process.env.SANDBOX_PORT;
  for (const name of ['MICROSOFT_AUTHORITY_HOST', 'GRAPH_BASE_URL']) {
    const v = process.env[name];
    if (sandboxPort && v && isLoopbackUrl(v) && new URL(v).port !== sandboxPort) {
      problems.push(`${name} is ${v}, but the sandbox listens on port ${sandboxPort} (SANDBOX_PORT).`);
    }
  }
  return problems;
}
