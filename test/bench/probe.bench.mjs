// Bench: Test Leg runs every probe in parallel, so a full both-legs run should cost about as much as its
// slowest probe alone. Local setup: a real nginx origin requiring the origin-pull CA, and the local edge
// in its own process (`mtls edge`, as the real edge is another machine), both on loopback. Measured:
// the wall time of a full both-legs run, and of each check run alone (`only: [id]`, with the
// connections that check needs); medians over interleaved runs. Target: full / slowest single < 1.5.
//
// On loopback nothing waits on the network: every probe is TLS handshakes, i.e. CPU, and the probes, the
// edge and nginx share the machine's cores, so the full run (7 probe connections, 3 edge handshakes, 4
// origin handshakes) cannot be as fast as one probe however parallel it is. The same setup is therefore
// also measured behind a delay proxy (MTLS_BENCH_DELAY_MS one-way, default 10: a nearby edge and origin),
// where the probes wait on the network as they do against a real edge and origin.
// Run after `npm run build && npx tsc -p .`:   MTLS_BENCH_RUNS=15 node test/bench/probe.bench.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const RUNS = Number(process.env.MTLS_BENCH_RUNS ?? 15);
const DELAY = Number(process.env.MTLS_BENCH_DELAY_MS ?? 10);
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
const children = [];

/** Runs a child process until it prints `ready`; it is killed at the end. */
function startChild(args, ready) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', d => { out += d; if (out.includes(ready)) resolve(out); });
    child.once('exit', code => reject(new Error(`${args.join(' ')} exited (${code}): ${out}`)));
  });
}

function startEdge(port, originPort, p) {
  return startChild([cli, 'edge', '--listen', `127.0.0.1:${port}`, '--origin', `127.0.0.1:${originPort}`, '--host', HOST,
    '--ca', p.caCert, '--pull-cert', p.pull.cert, '--pull-key', p.pull.key, '--origin-ca', p.caCert], 'Press Ctrl+C');
}

// A TCP proxy in its own process that delays every chunk by DELAY ms in each direction (order kept).
const PROXY = `
const net = require('net');
const [delay, ...pairs] = process.argv.slice(1).map(Number);
// One queue per direction, drained in order by one timer: separate timers may fire out of order.
const later = (q, fn) => { q.items.push([Date.now() + delay, fn]); if (!q.timer) drain(q); };
const drain = q => {
  q.timer = undefined;
  while (q.items.length && q.items[0][0] <= Date.now()) q.items.shift()[1]();
  if (q.items.length) q.timer = setTimeout(() => drain(q), q.items[0][0] - Date.now());
};
for (let i = 0; i < pairs.length; i += 2) {
  net.createServer(c => {
    const u = net.connect(pairs[i + 1], '127.0.0.1');
    c.setNoDelay(true); u.setNoDelay(true);
    const up = { items: [] }, down = { items: [] };
    c.on('data', d => later(up, () => u.write(d)));
    u.on('data', d => later(down, () => c.write(d)));
    c.on('end', () => later(up, () => u.end())); u.on('end', () => later(down, () => c.end()));
    c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
    c.on('close', () => later(up, () => u.destroy())); u.on('close', () => later(down, () => c.destroy()));
  }).listen(pairs[i], '127.0.0.1');
}
console.log('proxy ready');
`;

async function timed(o) {
  const t0 = performance.now();
  const report = await runProbes(o);
  const ms = performance.now() - t0;
  if (!report.ok) throw new Error(`the local setup does not pass: ${JSON.stringify(report.legs.map(l => l.checks.filter(c => c.status !== 'pass')))}`);
  return ms;
}

async function measure(label, options) {
  for (let i = 0; i < 3; i++) await timed({ ...options, legs: 'both' }); // warm-up: JIT, foreign certificate, caches
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
  const sum = singles.reduce((a, [, ms]) => a + ms, 0);
  console.log(`\n${label}: ${RUNS} interleaved runs, medians`);
  for (const [id, ms] of singles) console.log(`  ${id.padEnd(28)} alone ${ms.toFixed(1).padStart(6)} ms`);
  console.log(`  ${'sum of the nine alone'.padEnd(28)}       ${sum.toFixed(1).padStart(6)} ms`);
  console.log(`  ${'both legs, all nine checks'.padEnd(28)}       ${fullMs.toFixed(1).padStart(6)} ms`);
  return { fullMs, slowestId: singles[0][0], slowest: singles[0][1] };
}

const line = (what, m) => {
  const ratio = m.fullMs / m.slowest;
  return { ratio, text: `probe${what}: both legs ${m.fullMs.toFixed(0)} ms, slowest single ${m.slowest.toFixed(0)} ms (${m.slowestId}), ratio ${ratio.toFixed(2)}x (target < ${TARGET}x)${ratio < TARGET ? '' : ' MISSED'}` };
};

const p = makeProbePki();
let origin;
try {
  origin = await startNginx(`server { listen 127.0.0.1:__PORT__ ssl; server_name ${HOST}; ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate ${p.serverCert}; ssl_certificate_key ${p.serverKey};
    ssl_client_certificate ${p.pullCa.cert}; ssl_verify_client on; location / { return 200 "ok\\n"; } }`);
  const [edgePort, edge2Port, pEdge, pOrigin] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  // Loopback: probes -> edge -> origin, probes -> origin.
  await startEdge(edgePort, origin.port, p);
  // With latency: probes -> proxy -> edge2 -> proxy -> origin, probes -> proxy -> origin.
  await startChild(['-e', PROXY, String(DELAY), String(pEdge), String(edge2Port), String(pOrigin), String(origin.port)], 'proxy ready');
  await startEdge(edge2Port, pOrigin, p);
  const base = { hostname: HOST, client: pem(p.clientCert, p.clientKey), pull: pem(p.pull.cert, p.pull.key), originCa: read(p.caCert), timeoutMs: 10000 };
  console.log(`probe bench on ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}; edge: \`mtls edge\` process; origin: nginx`);
  const delayed = await measure(`with ${DELAY} ms one-way delay on every hop`, { ...base, edgeAddress: `127.0.0.1:${pEdge}`, originAddress: `127.0.0.1:${pOrigin}` });
  const loop = await measure('loopback', { ...base, edgeAddress: `127.0.0.1:${edgePort}`, originAddress: `127.0.0.1:${origin.port}` });
  const d = line(` (${DELAY} ms delay)`, delayed);
  const l = line('', loop);
  console.log('');
  console.log(d.text);
  console.log(l.text);
  process.exitCode = l.ratio < TARGET ? 0 : 1;
} finally {
  for (const c of children) c.kill('SIGINT');
  await origin?.stop();
  p.remove();
}
