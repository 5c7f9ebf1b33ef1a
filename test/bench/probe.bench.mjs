// Bench: Test Leg runs every probe in parallel, so a full both-legs run should cost about as much as its
// slowest probe alone. Local setup: a real nginx origin requiring the origin-pull CA, and the local edge
// in its own process (`mtls edge`, as the real edge is another machine), both on loopback. Measured:
// the wall time of a full both-legs run, and of each check run alone (`only: [id]`, with the
// connections that check needs); medians over interleaved runs. Target: full / slowest single < 1.5.
// Run after `npm run build && npx tsc -p .`:   MTLS_BENCH_RUNS=15 node test/bench/probe.bench.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const RUNS = Number(process.env.MTLS_BENCH_RUNS ?? 15);
const TARGET = 1.5;
const cli = path.join(root, 'dist/cli.js');
for (const f of [cli, path.join(root, 'out/src/core/probe/index.js')]) {
  if (!fs.existsSync(f)) {
    console.error(`probe bench: ${f} is missing; run \`npm run build && npx tsc -p .\` first.`);
    process.exit(1);
  }
}
const { runProbes, CHECK_IDS, CHECKS } = require(path.join(root, 'out/src/core/probe/index.js'));
const { startNginx, freePort } = require(path.join(root, 'out/test/support/servers.js'));
const { makeProbePki, pem, read, HOST } = require(path.join(root, 'out/test/unit/probe/helpers.js'));

const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const p = makeProbePki();
const origin = await startNginx(`server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST}; ssl_protocols TLSv1.2 TLSv1.3;
  ssl_certificate ${p.serverCert}; ssl_certificate_key ${p.serverKey};
  ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on; location / { return 200 "ok\\n"; } }`);
const edgePort = await freePort();
const edge = spawn(process.execPath, [cli, 'edge', '--listen', `127.0.0.1:${edgePort}`, '--origin', `127.0.0.1:${origin.port}`, '--host', HOST,
  '--ca', p.caCert, '--pull-cert', p.pull.cert, '--pull-key', p.pull.key, '--origin-ca', p.caCert], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  let out = '';
  edge.stdout.on('data', d => { out += d; if (out.includes('Press Ctrl+C')) resolve(); });
  edge.once('exit', code => reject(new Error(`mtls edge exited (${code}): ${out}`)));
});

const options = {
  hostname: HOST, edgeAddress: `127.0.0.1:${edgePort}`, originAddress: `127.0.0.1:${origin.port}`,
  client: pem(p.clientCert, p.clientKey), pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), timeoutMs: 10000,
};

async function timed(o) {
  const t0 = performance.now();
  const report = await runProbes(o);
  const ms = performance.now() - t0;
  if (!report.ok) throw new Error(`the local setup does not pass: ${JSON.stringify(report.legs.map(l => l.checks.filter(c => c.status !== 'pass')))}`);
  return ms;
}

try {
  // Warm-up: JIT, the foreign certificate, nginx's session caches.
  for (let i = 0; i < 3; i++) await timed({ ...options, legs: 'both' });
  const full = [];
  const single = Object.fromEntries(CHECK_IDS.map(id => [id, []]));
  for (let r = 0; r < RUNS; r++) {
    // Interleaved: one full run, then each check alone, in an order that rotates.
    full.push(await timed({ ...options, legs: 'both' }));
    const ids = [...CHECK_IDS.slice(r % CHECK_IDS.length), ...CHECK_IDS.slice(0, r % CHECK_IDS.length)];
    for (const id of ids) single[id].push(await timed({ ...options, legs: CHECKS[id].leg, only: [id] }));
  }
  const fullMs = median(full);
  const singles = Object.entries(single).map(([id, xs]) => [id, median(xs)]).sort((a, b) => b[1] - a[1]);
  console.log(`probe bench: ${RUNS} interleaved runs, medians (edge: mtls edge process; origin: nginx; loopback)`);
  for (const [id, ms] of singles) console.log(`  ${id.padEnd(28)} alone ${ms.toFixed(1).padStart(6)} ms`);
  console.log(`  ${'both legs, all 9 checks'.padEnd(28)}       ${fullMs.toFixed(1).padStart(6)} ms`);
  const [slowestId, slowest] = singles[0];
  const ratio = fullMs / slowest;
  console.log(`probe: both legs ${fullMs.toFixed(0)} ms, slowest single ${slowest.toFixed(0)} ms (${slowestId}), ratio ${ratio.toFixed(2)}x (target < ${TARGET}x)`);
  process.exitCode = ratio < TARGET ? 0 : 1;
} finally {
  edge.kill('SIGINT');
  await origin.stop();
  p.remove();
}
