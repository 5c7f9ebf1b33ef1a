// Bench: listing a store of 5,000 certificates (one CA, EC P-256 leaves as the workbench issues them), cold
// (the first scan in a fresh process: every file read, parsed and its signature checked, with a helper thread
// for the checks on a machine with a second core) and after one file changed (the scan cache keyed on device,
// inode, size and times re-reads only that file), in-process (what the Certificate Explorer does) and through
// `mtls cert list --json` (a fresh process: always cold). Each figure is printed beside listing an EMPTY store
// the same way, as a ratio; the cold figure also beside the same scan without the helper thread.
// Targets: cold under 1 s, after one change under 100 ms. CPU time is printed too, because wall time suffers
// on a busy machine.
// Run after `npm run build && npx tsc -p .` (or `npm run bench`):   node test/bench/store.bench.mjs
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const compiled = path.join(root, 'out/src/core/pki/index.js');
const cli = path.join(root, 'dist/cli.js');
for (const f of [compiled, cli]) {
  if (!fs.existsSync(f)) {
    console.error(`store bench: ${f} is missing; run \`npm run build && npx tsc -p .\` first.`);
    process.exit(1);
  }
}
const pki = require(compiled);
const COUNT = Number(process.env.MTLS_BENCH_CERTS ?? 5000);
const RUNS = Number(process.env.MTLS_BENCH_RUNS ?? 7);
const COLD_MS = 1000;
const CHANGED_MS = 100;

const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const now = () => Number(process.hrtime.bigint()) / 1e6;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-store-bench-'));
const store = path.join(work, 'store');
const empty = path.join(work, 'empty');
fs.mkdirSync(empty);
try {
  // --- a store of COUNT certificates: one CA, leaves issued for real (EC P-256 keys, generated in parallel batches)
  const t0 = now();
  const ca = await pki.createCa(store, 'bench', { cn: 'Bench Root', key: 'ec-p256' });
  const caKeyPem = fs.readFileSync(ca.keyPath, 'utf8');
  const certs = path.join(store, 'bench', 'certs');
  fs.mkdirSync(certs, { recursive: true, mode: 0o700 });
  for (let i = 0; i < COUNT; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, COUNT - i) }, (_, k) =>
      pki.issueCertificate({ certPem: ca.info.pem, keyPem: caKeyPem }, { cn: `user-${i + k}`, key: 'ec-p256', days: 365 })));
    batch.forEach((one, k) => {
      fs.writeFileSync(path.join(certs, `user-${i + k}.pem`), one.certPem);
      fs.writeFileSync(path.join(certs, `user-${i + k}.key`), one.keyPem, { mode: 0o600 });
    });
  }
  console.log(`generated ${COUNT} certificates in ${((now() - t0) / 1000).toFixed(1)} s`);

  // --- in-process: the explorer's path
  const emptyRuns = [];
  for (let i = 0; i < RUNS; i++) { const t = now(); await pki.listStore(empty); emptyRuns.push(now() - t); }
  const tEmpty = median(emptyRuns);

  const cpuMs = u => (u.user + u.system) / 1000;
  // Cold: a fresh process whose JIT has not run the scan yet, timing listStore alone (not process start).
  const coldRun = (dir, threads) => {
    const script = `const pki = require(${JSON.stringify(compiled)}); const t = performance.now(); const c = process.cpuUsage();
      pki.listStore(${JSON.stringify(dir)}, ${threads === undefined ? '{}' : `{ threads: ${threads} }`}).then(tree => {
        const u = process.cpuUsage(c); console.log(JSON.stringify({ ms: performance.now() - t, cpu: (u.user + u.system) / 1000, certs: tree.cas[0]?.certs.length ?? 0, problems: tree.problems.length }));
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout);
    if (dir === store && (out.certs !== COUNT || out.problems)) throw new Error(`expected ${COUNT} certificates, got ${out.certs} (${out.problems} problems)`);
    return out;
  };
  const coldRuns = [];
  const oneThreadRuns = [];
  for (let i = 0; i < 3; i++) { coldRuns.push(coldRun(store)); oneThreadRuns.push(coldRun(store, 0)); }
  const byMs = runs => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
  const { ms: cold, cpu: coldCpu } = byMs(coldRuns);
  const oneThread = byMs(oneThreadRuns).ms;

  // After one change: this process lists once (cold) and then again after each change.
  await pki.listStore(store);

  const changedRuns = [];
  const changedCpu = [];
  for (let i = 0; i < RUNS; i++) {
    // one file changes: a certificate is replaced by another one (new content, size or mtime)
    const victim = path.join(certs, `user-${(i * 97) % COUNT}.pem`);
    const replacement = fs.readFileSync(path.join(certs, `user-${(i * 97 + 1) % COUNT}.pem`));
    fs.writeFileSync(victim + '.new', replacement);
    fs.renameSync(victim + '.new', victim);
    const t = now();
    const cu = process.cpuUsage();
    const again = await pki.listStore(store);
    changedCpu.push(cpuMs(process.cpuUsage(cu)));
    changedRuns.push(now() - t);
    if (again.cas[0].certs.length !== COUNT) throw new Error('a certificate went missing after the change');
  }
  const changed = median(changedRuns);

  // --- the CLI: a fresh process each time (always cold), against the same command on an empty store
  const runCli = dir => {
    const s = now();
    const r = spawnSync(process.execPath, [cli, 'cert', 'list', '--json', '--store', dir], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = now() - s;
    if (r.status !== 0) throw new Error(r.stderr);
    return ms;
  };
  const cliEmpty = [];
  const cliFull = [];
  for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) { cliEmpty.push(runCli(empty)); cliFull.push(runCli(store)); }
  const tCliEmpty = median(cliEmpty);
  const tCliFull = median(cliFull);

  const r = (a, b) => `${(a / b).toFixed(1)}x`;
  console.log(`listStore, empty store:                    ${tEmpty.toFixed(2)} ms (median of ${RUNS})`);
  console.log(`listStore, ${COUNT} certificates, cold:      ${cold.toFixed(0)} ms  = ${r(cold, tEmpty)} the empty store (target < ${COLD_MS} ms; median of 3 fresh processes)`);
  console.log(`  the same without the helper thread:        ${oneThread.toFixed(0)} ms  (helper thread: ${(cold / oneThread).toFixed(2)}x)`);
  console.log(`listStore, ${COUNT}, after one file changed: ${changed.toFixed(1)} ms  = ${r(changed, tEmpty)} the empty store (target < ${CHANGED_MS} ms; median of ${RUNS})`);
  console.log(`(CPU time of this process: cold ${coldCpu.toFixed(0)} ms, after one change ${median(changedCpu).toFixed(1)} ms; wall time suffers on a busy machine)`);
  console.log(`mtls cert list --json, empty store:        ${tCliEmpty.toFixed(0)} ms (process start included)`);
  console.log(`mtls cert list --json, ${COUNT}, cold:        ${tCliFull.toFixed(0)} ms  = ${r(tCliFull, tCliEmpty)} the empty store; ${(tCliFull - tCliEmpty).toFixed(0)} ms more (target < ${COLD_MS} ms more)`);
  const ok = cold < COLD_MS && changed < CHANGED_MS && tCliFull - tCliEmpty < COLD_MS;
  console.log(`store: cold ${r(cold, tEmpty)}, after one change ${r(changed, tEmpty)}, CLI ${r(tCliFull, tCliEmpty)} vs the empty store${ok ? '' : ' MISSED'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
