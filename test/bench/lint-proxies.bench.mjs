// Bench: lint time of generated Caddyfiles and haproxy.cfg files (sites / frontends cycling through the
// client-auth variations, the CA file read for real) at 10,000 and 20,000 lines, beside `caddy validate`
// and `haproxy -c` on the same 10,000-line files. Prints the 20k/10k ratio (about 2 when the parsers and
// rules are linear) and the linter's time as a fraction of the server's own check. Medians after warm-up.
// Run after `npx tsc -p .` (or `npm run bench`):   node test/bench/lint-proxies.bench.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const compiled = path.join(root, 'out/src/core/lint/index.js');
if (!fs.existsSync(compiled)) {
  console.error(`lint-proxies bench: ${compiled} is missing; run \`npx tsc -p .\` first.`);
  process.exit(1);
}
const { lintText } = require(compiled);
const RUNS = Number(process.env.MTLS_BENCH_RUNS ?? 15);
const CADDY = process.env.MTLS_CADDY ?? '/usr/bin/caddy';
const HAPROXY = process.env.MTLS_HAPROXY ?? '/usr/sbin/haproxy';
const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-lint-proxies-bench-'));
const ossl = args => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '30', '-subj', '/CN=Bench AOP CA',
  '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.pem', '-days', '30', '-subj', '/CN=bench.example']);
fs.writeFileSync(path.join(dir, 'bundle.pem'), fs.readFileSync(path.join(dir, 'server.pem'), 'utf8') + fs.readFileSync(path.join(dir, 'server.key'), 'utf8'));
const ca = path.join(dir, 'ca.pem');

function caddyfile(lines) {
  const modes = [['mode require_and_verify', `trusted_ca_cert_file ${ca}`], [`trusted_ca_cert_file ${ca}`], ['mode require', `trusted_ca_cert_file ${ca}`], ['mode verify_if_given', `trusted_ca_cert_file ${ca}`], []];
  const out = [`{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/caddy-data\n}`];
  let n = 5;
  for (let i = 0; n < lines; i++) {
    const m = modes[i % modes.length];
    const auth = m.length ? `\n\t\tclient_auth {\n${m.map(l => `\t\t\t${l}`).join('\n')}\n\t\t}` : '\n\t\tprotocols tls1.2';
    const block = `\n# site ${i}\nhttps://site${i}.example.com:${20000 + (i % 50)} {\n\ttls ${dir}/server.pem ${dir}/server.key {${auth}\n\t}\n\treverse_proxy 127.0.0.1:8080\n}`;
    out.push(block);
    n += block.split('\n').length;
  }
  return out.join('\n') + '\n';
}

function haproxyCfg(lines) {
  const variants = [
    [`ca-file ${ca} verify required`, ''],
    [`ca-file ${ca} verify optional`, '\thttp-request deny unless { ssl_c_used }'],
    [`ca-file ${ca} verify optional crt-ignore-err all`, '\tacl has_cert ssl_c_used\n\tacl ok ssl_c_verify 0\n\thttp-request deny if !has_cert || !ok'],
    ['', ''],
  ];
  const out = ['global\n\tlog stdout local0\ndefaults\n\tmode http\n\ttimeout connect 5s\n\ttimeout client 30s\n\ttimeout server 30s\nbackend app\n\tserver a 127.0.0.1:8080'];
  let n = 9;
  for (let i = 0; n < lines; i++) {
    const [bind, rules] = variants[i % variants.length];
    const block = `\n# frontend ${i}\nfrontend fe${i}\n\tbind 127.0.0.1:${20000 + i} ssl crt ${dir}/bundle.pem ${bind}\n${rules ? rules + '\n' : ''}\tdefault_backend app`;
    out.push(block);
    n += block.split('\n').length;
  }
  return out.join('\n') + '\n';
}

/** Median wall and CPU milliseconds (CPU time too: wall time suffers on a busy machine). */
function time(fn) {
  for (let k = 0; k < 3; k++) fn();
  const wall = [], cpu = [];
  for (let k = 0; k < RUNS; k++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function serverCheck(cmd, args, env) {
  const xs = [];
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) return { ms: median(xs), ok: false };
  }
  return { ms: median(xs), ok: true };
}

try {
  for (const [name, make, file, check] of [
    ['Caddyfile', caddyfile, 'Caddyfile', f => fs.existsSync(CADDY) ? serverCheck(CADDY, ['validate', '--config', f, '--adapter', 'caddyfile'], { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }) : undefined],
    ['haproxy.cfg', haproxyCfg, 'haproxy.cfg', f => fs.existsSync(HAPROXY) ? serverCheck(HAPROXY, ['-c', '-q', '-f', f]) : undefined],
  ]) {
    const small = make(10000);
    const big = make(20000);
    const f = path.join(dir, file);
    fs.writeFileSync(f, small);
    const findings = lintText(small, { file: f }).length;
    const t10 = time(() => lintText(small, { file: f }));
    const t20 = time(() => lintText(big, { file: f }));
    const ref = check(f);
    console.log(`${name}: ${small.split('\n').length - 1} lines linted in ${t10.wall.toFixed(1)} ms (CPU ${t10.cpu.toFixed(1)} ms, ${findings} findings); ${big.split('\n').length - 1} lines in ${t20.wall.toFixed(1)} ms (CPU ${t20.cpu.toFixed(1)} ms); ratio 20k/10k ${(t20.cpu / t10.cpu).toFixed(2)} (CPU)`);
    if (ref) console.log(`  ${name === 'Caddyfile' ? 'caddy validate' : 'haproxy -c'} on the 10k-line file: ${ref.ms.toFixed(0)} ms wall${ref.ok ? '' : ' (refused it)'}; linter/server ratio ${(t10.wall / ref.ms).toFixed(3)}`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
