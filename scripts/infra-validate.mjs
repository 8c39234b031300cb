#!/usr/bin/env node
// Full validation of the deployment definitions with the real tools, where they exist:
//   Bicep:     `bicep build` (or `az bicep build`) of infra/main.bicep
//   Terraform: `terraform fmt -check`, then `terraform init -backend=false`, `terraform validate`
//              and `terraform test` (mocked providers) in infra/terraform
// Each step that cannot run says so and why. The exit code is non-zero only when a tool that
// exists reports an error in our files; a missing tool or an unreachable provider registry is a
// skip, not a failure (these machines have neither, see ../shared/reference/toolchain.md).
// The offline checks (HCL parse, settings vs shared/config.ts, roles) are in test/unit/infra.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mainBicep = join(root, 'infra', 'main.bicep');
const tfDir = join(root, 'infra', 'terraform');
// Provider downloads and plugin caches stay out of the tree (.local/ is git-ignored).
const tfDataDir = join(root, '.local', 'terraform');

const results = [];
const record = (step, status, detail = '') => {
  results.push({ step, status, detail });
  console.log(`[infra-validate] ${step}: ${status}${detail ? ` (${detail})` : ''}`);
};

function run(cmd, args, options = {}) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    shell: process.platform === 'win32', // az, bicep and terraform are .cmd/.exe shims there
    ...options,
  });
  return {
    ok: !res.error && res.status === 0,
    missing: res.error?.code === 'ENOENT',
    out: `${res.stdout ?? ''}${res.stderr ?? ''}`,
    res,
  };
}

const exists = (cmd, args) => {
  const r = run(cmd, args);
  return !r.missing && r.ok;
};

function show(output) {
  const text = output.trim();
  if (text) console.log(text.replace(/^/gm, '    '));
}

// --- Bicep -------------------------------------------------------------------------------------
function bicep() {
  if (exists('bicep', ['--version'])) {
    const r = run('bicep', ['build', mainBicep, '--stdout']);
    if (!r.ok) show(r.out);
    return record('bicep build', r.ok ? 'ok' : 'FAILED');
  }
  if (exists('az', ['version'])) {
    // `az bicep build` would try to download the compiler when it is not installed: check first.
    if (!exists('az', ['bicep', 'version'])) {
      return record(
        'bicep build',
        'skipped',
        'az is installed but its Bicep compiler is not: run `az bicep install`',
      );
    }
    const r = run('az', ['bicep', 'build', '--file', mainBicep, '--stdout']);
    if (!r.ok) show(r.out);
    return record('az bicep build', r.ok ? 'ok' : 'FAILED');
  }
  return record('bicep build', 'skipped', 'neither `bicep` nor `az` is on PATH');
}

// --- Terraform ---------------------------------------------------------------------------------
// What `terraform init` prints when it cannot reach the registry (offline machines, proxies).
const REGISTRY_UNREACHABLE =
  /could not connect to registry|Failed to query available provider packages[\s\S]*(no such host|dial tcp|i\/o timeout|connection refused|TLS handshake)|Failed to install provider[\s\S]*(no such host|dial tcp|i\/o timeout)/i;

function terraform() {
  if (!exists('terraform', ['version'])) {
    record('terraform fmt -check', 'skipped', '`terraform` is not on PATH');
    record('terraform validate', 'skipped', '`terraform` is not on PATH');
    return record('terraform test', 'skipped', '`terraform` is not on PATH');
  }
  const fmt = run('terraform', ['fmt', '-check', '-recursive', '-diff'], { cwd: tfDir });
  if (!fmt.ok) show(fmt.out);
  record('terraform fmt -check', fmt.ok ? 'ok' : 'FAILED');

  mkdirSync(tfDataDir, { recursive: true });
  const env = { ...process.env, TF_DATA_DIR: tfDataDir, TF_IN_AUTOMATION: '1' };
  const init = run('terraform', ['init', '-backend=false', '-input=false', '-no-color'], { cwd: tfDir, env });
  if (!init.ok) {
    if (REGISTRY_UNREACHABLE.test(init.out)) {
      const reason = 'providers cannot be downloaded: registry.terraform.io is unreachable from here';
      record('terraform validate', 'skipped', reason);
      return record('terraform test', 'skipped', reason);
    }
    show(init.out);
    record('terraform init', 'FAILED');
    return;
  }
  const validate = run('terraform', ['validate', '-no-color'], { cwd: tfDir, env });
  if (!validate.ok) show(validate.out);
  record('terraform validate', validate.ok ? 'ok' : 'FAILED');

  const test = run('terraform', ['test', '-no-color'], { cwd: tfDir, env });
  if (!test.ok) show(test.out);
  record('terraform test', test.ok ? 'ok' : 'FAILED');
}

bicep();
terraform();

const failed = results.filter((r) => r.status === 'FAILED');
const skipped = results.filter((r) => r.status === 'skipped');
console.log(
  `[infra-validate] ${results.length - failed.length - skipped.length} ok, ${skipped.length} skipped, ${failed.length} failed`,
);
process.exit(failed.length > 0 ? 1 : 0);
