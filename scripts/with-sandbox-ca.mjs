#!/usr/bin/env node
// Runs a command with the sandbox CA trusted: generates the CA on first use, then spawns the
// command with NODE_EXTRA_CA_CERTS set (Node reads it only at start-up, so it cannot be set
// from inside the process that needs it). Signals are forwarded so Ctrl-C stops everything.
import { spawn } from 'node:child_process';
import { ensureSandboxCertificates } from './certs.mjs';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/with-sandbox-ca.mjs <command> [args...]');
  process.exit(2);
}
const paths = ensureSandboxCertificates();
const env = { ...process.env, NODE_EXTRA_CA_CERTS: paths.caCert, SANDBOX_CERT_DIR: paths.dir };
const child = spawn(command, args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal);
  else process.exit(code ?? 1);
});
