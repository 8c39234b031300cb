/**
 * Where `npm start` keeps its data between runs, and wiping it: the sandbox tenant
 * (SANDBOX_STATE_DIR, default .local/sandbox; sandbox/persist.ts) and Azurite's tables and queues
 * (AZURITE_LOCATION, default .local/azurite) belong together: a connection in one names refresh
 * tokens and ids in the other, so they are reset together (`npm start -- --reset`, `npm run reset`).
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { lockHolder, readSnapshot } from '../sandbox/persist';

export interface LocalStateDirs {
  sandbox: string;
  azurite: string;
}

export function localStateDirs(root: string, env: NodeJS.ProcessEnv = process.env): LocalStateDirs {
  return {
    sandbox: resolve(root, env.SANDBOX_STATE_DIR || join('.local', 'sandbox')),
    azurite: resolve(root, env.AZURITE_LOCATION || join('.local', 'azurite')),
  };
}

function sizeOf(path: string): { files: number; bytes: number } {
  const stat = statSync(path);
  if (!stat.isDirectory()) return { files: 1, bytes: stat.size };
  let files = 0;
  let bytes = 0;
  for (const name of readdirSync(path)) {
    const inner = sizeOf(join(path, name));
    files += inner.files;
    bytes += inner.bytes;
  }
  return { files, bytes };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A line about the saved tenant: when it was saved, how many users and signed-in sessions. */
function describeSandbox(dir: string): string {
  try {
    const snapshot = readSnapshot(dir);
    if (!snapshot) return 'no saved tenant';
    const sessions = [...snapshot.directory.refreshTokens.values()].filter((t) => !t.revoked).length;
    return `saved ${snapshot.savedAt}: ${snapshot.directory.users.size} users, ${sessions} refresh tokens issued`;
  } catch {
    return 'unreadable state';
  }
}

/**
 * Deletes both stores and returns one line per store saying what was removed. Refuses (throws)
 * while an `npm start` holds the sandbox state: it would write it back on its next save.
 */
export function resetLocalState(root: string, dirs: LocalStateDirs): string[] {
  const holder = existsSync(dirs.sandbox) ? lockHolder(dirs.sandbox) : undefined;
  if (holder)
    throw new Error(
      `npm start (pid ${holder}) is using ${relative(root, dirs.sandbox) || dirs.sandbox}: stop it (Ctrl-C), then reset.`,
    );
  const lines: string[] = [];
  const stores: Array<[string, string, () => string]> = [
    ['sandbox tenant', dirs.sandbox, () => describeSandbox(dirs.sandbox)],
    ['Azurite tables and queues', dirs.azurite, () => 'connections, sign-in states, sync and audit data'],
  ];
  for (const [what, dir, describe] of stores) {
    const shown = relative(root, dir) || dir;
    if (!existsSync(dir)) {
      lines.push(`reset: ${what}: nothing to remove (${shown} does not exist)`);
      continue;
    }
    const detail = describe();
    const { files, bytes } = sizeOf(dir);
    rmSync(dir, { recursive: true, force: true });
    lines.push(`reset: removed the ${what} in ${shown} (${detail}; ${files} files, ${formatBytes(bytes)})`);
  }
  return lines;
}
