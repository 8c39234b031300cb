/**
 * Runs `npm start` (or another npm script) as a newcomer does, in its own process group, on ports
 * and data directories chosen by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Settings whose URLs follow PORT / SANDBOX_PORT when unset (tests set the ports only). */
export const URL_SETTINGS = [
  'MICROSOFT_AUTHORITY_HOST',
  'GRAPH_BASE_URL',
  'MICROSOFT_REDIRECT_URI',
  'PUBLIC_BASE_URL',
  'RETURN_URL_ALLOWLIST',
  'LOCAL_SETTINGS_PATH',
];

export interface RunningScript {
  child: ChildProcess;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  exited: Promise<number | null>;
  /** Ctrl-C: SIGINT to the process group, then waits for the exit. */
  interrupt(): Promise<number | null>;
}

export function runNpm(args: string[], env: Record<string, string | undefined>): RunningScript {
  const merged: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const name of URL_SETTINGS) delete merged[name];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete merged[k];
    else merged[k] = v;
  }
  const child = spawn('npm', args, {
    cwd: root,
    env: merged,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async interrupt() {
      try {
        process.kill(-child.pid!, 'SIGINT');
      } catch {
        // already gone
      }
      return await exited;
    },
  };
}

/** Polls GET /api/health until it answers 200; fails with the script's output otherwise. */
export async function waitHealthy(run: RunningScript, port: number, timeoutMs = 30000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void run.exited.then((code) => (exitCode = code));
  while (Date.now() < until) {
    if (exitCode !== undefined) throw new Error(`npm exited (${exitCode}):\n${run.output()}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not healthy within ${timeoutMs} ms:\n${run.output()}`);
}
