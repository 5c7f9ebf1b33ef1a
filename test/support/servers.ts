// Real nginx and Apache on 127.0.0.1 for tests: config checks (`nginx -t`, `apache2 -t`), servers started
// in a temp prefix with their own config, and curl as a second client. Every server is stopped by its
// `stop()`; tests call it in after/afterEach hooks.
//
// Config text may use the tokens __PORT__ (the listen port) and __DIR__ (the temp prefix, where `files`
// are written), e.g. `ssl_certificate __DIR__/server.pem;`.
import { execFile, spawn, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const NGINX = process.env.MTLS_NGINX ?? '/usr/sbin/nginx';
export const APACHE = process.env.MTLS_APACHE ?? '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';

export interface ConfigTestResult {
  ok: boolean;
  output: string;
}

export interface RunningServer {
  port: number;
  dir: string;
  /** The full config file that was started. */
  configFile: string;
  errorLog(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Files written into the prefix before start: relative name -> content. */
  files?: Record<string, string | Buffer>;
  port?: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 30000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function makePrefix(kind: string, files: ServerOptions['files'] = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mtls-${kind}-`));
  // Worker processes run as www-data: they must be able to traverse the prefix and read the docroot.
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'htdocs'));
  fs.writeFileSync(path.join(dir, 'htdocs/index.html'), 'origin ok\n');
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}

function substitute(text: string, dir: string, port: number): string {
  return text.replace(/__DIR__/g, dir).replace(/__PORT__/g, String(port));
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>(resolve => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
  try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ }
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 3000);
  await exited;
  clearTimeout(timer);
}

/** Starts a server in its own process group and waits until it listens; its error log explains a failed start. */
async function startServer(cmd: string, args: string[], where: { port: number; dir: string; conf: string }): Promise<RunningServer> {
  return waitForServer(spawn(cmd, args, { detached: true, stdio: 'ignore' }), where);
}

// ---------------------------------------------------------------- nginx

/** A complete nginx.conf around `httpContent` (the inside of the http block). */
export function nginxMainConfig(httpContent: string, dir: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
user www-data;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log off;
  default_type text/plain;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${httpContent}
}
`;
}

function prepareNginx(httpContent: string, options: ServerOptions, port: number): { dir: string; conf: string } {
  const dir = makePrefix('nginx', options.files);
  fs.mkdirSync(path.join(dir, 'tmp'));
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, nginxMainConfig(substitute(httpContent, dir, port), dir));
  return { dir, conf };
}

/** `nginx -t` on a config built around `httpContent`. */
export async function nginxConfigTest(httpContent: string, options: ServerOptions = {}): Promise<ConfigTestResult> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareNginx(httpContent, options, port);
  try {
    const r = await run(NGINX, ['-t', '-q', '-p', dir + '/', '-e', path.join(dir, 'error.log'), '-c', conf]);
    return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `nginx -t` on a complete config file that already exists (e.g. a fixed corpus file). */
export async function nginxTestFile(configFile: string): Promise<ConfigTestResult> {
  const r = await run(NGINX, ['-t', '-q', '-p', path.dirname(configFile) + '/', '-e', '/dev/null', '-c', configFile]);
  return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
}

export async function startNginx(httpContent: string, options: ServerOptions = {}): Promise<RunningServer> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareNginx(httpContent, options, port);
  return startServer(NGINX, ['-p', dir + '/', '-e', path.join(dir, 'error.log'), '-c', conf], { port, dir, conf });
}

// ---------------------------------------------------------------- Apache

/** A complete httpd config around `content` (vhosts and directives at server level). */
export function apacheMainConfig(content: string, dir: string, port: number): string {
  const mods = ['mpm_event', 'authz_core', 'authz_host', 'ssl', 'socache_shmcb', 'mime', 'dir', 'alias', 'headers', 'rewrite', 'env', 'setenvif'];
  return `ServerRoot /etc/apache2
DefaultRuntimeDir ${dir}
PidFile ${dir}/httpd.pid
ErrorLog ${dir}/error.log
LogLevel info
Mutex file:${dir} default
User www-data
Group www-data
ServerName localhost
${mods.map(m => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`).join('\n')}
TypesConfig /etc/mime.types
DocumentRoot ${dir}/htdocs
<Directory ${dir}/htdocs>
  Require all granted
</Directory>
Listen 127.0.0.1:${port}
${content}
`;
}

function prepareApache(content: string, options: ServerOptions, port: number): { dir: string; conf: string } {
  const dir = makePrefix('apache', options.files);
  const conf = path.join(dir, 'httpd.conf');
  fs.writeFileSync(conf, apacheMainConfig(substitute(content, dir, port), dir, port));
  return { dir, conf };
}

/** `apache2 -t` (what `apache2ctl -t` runs) on a config built around `content`. */
export async function apacheConfigTest(content: string, options: ServerOptions = {}): Promise<ConfigTestResult> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareApache(content, options, port);
  try {
    const r = await run(APACHE, ['-t', '-f', conf]);
    return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `apache2 -t` on a complete config file that already exists. */
export async function apacheTestFile(configFile: string): Promise<ConfigTestResult> {
  const r = await run(APACHE, ['-t', '-f', configFile]);
  return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
}

export async function startApache(content: string, options: ServerOptions = {}): Promise<RunningServer> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareApache(content, options, port);
  return startServer(APACHE, ['-DFOREGROUND', '-f', conf], { port, dir, conf });
}

// ---------------------------------------------------------------- curl

export interface CurlOptions {
  /** Host name used for SNI, Host and certificate checks; the connection goes to 127.0.0.1:port. */
  hostname?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  path?: string;
  headers?: Record<string, string>;
  timeoutS?: number;
}

export interface CurlResult {
  /** curl's exit code: 0 on an HTTP answer, 35/56/... on TLS failures. */
  exitCode: number;
  /** HTTP status, 0 when there was no HTTP answer. */
  status: number;
  body: string;
  stderr: string;
}

/** HTTPS GET through curl, resolving `hostname` to 127.0.0.1. */
export async function curl(port: number, options: CurlOptions = {}): Promise<CurlResult> {
  const host = options.hostname ?? 'localhost';
  const args = ['-sS', '--max-time', String(options.timeoutS ?? 10), '--resolve', `${host}:${port}:127.0.0.1`, '-o', '-', '-w', '\n__STATUS__%{http_code}'];
  if (options.cacert) args.push('--cacert', options.cacert);
  if (options.insecure) args.push('-k');
  if (options.cert) args.push('--cert', options.cert);
  if (options.key) args.push('--key', options.key);
  for (const [k, v] of Object.entries(options.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(`https://${host}:${port}${options.path ?? '/'}`);
  const r = await run('curl', args);
  const m = /\n__STATUS__(\d{3})$/.exec(r.stdout);
  return { exitCode: r.code, status: m ? Number(m[1]) : 0, body: m ? r.stdout.slice(0, m.index) : r.stdout, stderr: r.stderr };
}

// ---------------------------------------------------------------- raw TLS requests

export interface RawTlsOptions {
  /** SNI (omitted for an IP). */
  servername?: string;
  cert?: string;
  key?: string;
  timeoutMs?: number;
}

/**
 * Sends `request` byte for byte over TLS to 127.0.0.1:port (no client library rewriting the Host header
 * or the HTTP version) and returns everything the server answered until it closed the connection.
 */
export function rawTlsRequest(port: number, request: string, options: RawTlsOptions = {}): Promise<{ raw: string; status: number; body: string }> {
  const tls = require('tls') as typeof import('tls');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect({
      host: '127.0.0.1', port, servername: options.servername, rejectUnauthorized: false,
      cert: options.cert ? fs.readFileSync(options.cert) : undefined, key: options.key ? fs.readFileSync(options.key) : undefined,
    }, () => socket.write(request));
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no end of answer within ${options.timeoutMs ?? 5000} ms: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`)); }, options.timeoutMs ?? 5000);
    socket.on('data', d => chunks.push(d));
    socket.on('error', err => { clearTimeout(timer); reject(err); });
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/\d\.\d (\d{3})/.exec(raw);
      const i = raw.indexOf('\r\n\r\n');
      resolve({ raw, status: m ? Number(m[1]) : 0, body: i >= 0 ? raw.slice(i + 4) : '' });
    });
  });
}

// ---------------------------------------------------------------- Caddy and HAProxy

export const CADDY = process.env.MTLS_CADDY ?? '/usr/bin/caddy';
export const HAPROXY = process.env.MTLS_HAPROXY ?? '/usr/sbin/haproxy';

/**
 * A complete Caddyfile around `sites`: no admin endpoint, no automatic HTTPS (no ACME, no network), and
 * Caddy's storage in the prefix. Sites should bind 127.0.0.1 and name their certificates.
 */
export function caddyMainConfig(sites: string, dir: string): string {
  return `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}/data\n}\n${sites}\n`;
}

function caddyEnv(dir: string): NodeJS.ProcessEnv {
  return { HOME: dir, XDG_DATA_HOME: path.join(dir, 'data'), XDG_CONFIG_HOME: path.join(dir, 'config') };
}

function prepareCaddy(sites: string, options: ServerOptions, port: number): { dir: string; conf: string } {
  const dir = makePrefix('caddy', options.files);
  const conf = path.join(dir, 'Caddyfile');
  fs.writeFileSync(conf, caddyMainConfig(substitute(sites, dir, port), dir));
  return { dir, conf };
}

/** `caddy validate` on a Caddyfile built around `sites`. */
export async function caddyConfigTest(sites: string, options: ServerOptions = {}): Promise<ConfigTestResult> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareCaddy(sites, options, port);
  try {
    const r = await run(CADDY, ['validate', '--config', conf, '--adapter', 'caddyfile'], caddyEnv(dir));
    return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `caddy run` on a Caddyfile built around `sites`; its log is the prefix's error.log. */
export async function startCaddy(sites: string, options: ServerOptions = {}): Promise<RunningServer> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareCaddy(sites, options, port);
  const log = fs.openSync(path.join(dir, 'error.log'), 'a');
  const child = spawn(CADDY, ['run', '--config', conf, '--adapter', 'caddyfile'], { detached: true, stdio: ['ignore', log, log], env: { ...process.env, ...caddyEnv(dir) } });
  fs.closeSync(log);
  return waitForServer(child, { port, dir, conf });
}

/** A complete haproxy.cfg around `proxies` (frontends/listens): logs to stderr, mode http, short timeouts. */
export function haproxyMainConfig(proxies: string): string {
  return `global\n\tlog stderr local0 info\ndefaults\n\tmode http\n\tlog global\n\ttimeout connect 5s\n\ttimeout client 10s\n\ttimeout server 10s\n${proxies}\n`;
}

function prepareHaproxy(proxies: string, options: ServerOptions, port: number): { dir: string; conf: string } {
  const dir = makePrefix('haproxy', options.files);
  const conf = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(conf, haproxyMainConfig(substitute(proxies, dir, port)));
  return { dir, conf };
}

/** `haproxy -c` on a haproxy.cfg built around `proxies`. */
export async function haproxyConfigTest(proxies: string, options: ServerOptions = {}): Promise<ConfigTestResult> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareHaproxy(proxies, options, port);
  try {
    const r = await run(HAPROXY, ['-c', '-f', conf]);
    return { ok: r.code === 0, output: (r.stdout + r.stderr).trim() };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `haproxy -f X -db` (foreground) on a haproxy.cfg built around `proxies`. */
export async function startHaproxy(proxies: string, options: ServerOptions = {}): Promise<RunningServer> {
  const port = options.port ?? await freePort();
  const { dir, conf } = prepareHaproxy(proxies, options, port);
  const log = fs.openSync(path.join(dir, 'error.log'), 'a');
  const child = spawn(HAPROXY, ['-f', conf, '-db'], { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  return waitForServer(child, { port, dir, conf });
}

/** Waits until a spawned server listens; stops it (with its log in the error) when it does not. */
async function waitForServer(child: ChildProcess, where: { port: number; dir: string; conf: string }): Promise<RunningServer> {
  const { port, dir, conf } = where;
  const server: RunningServer = {
    port, dir, configFile: conf,
    errorLog: () => { try { return fs.readFileSync(path.join(dir, 'error.log'), 'utf8'); } catch { return ''; } },
    async stop() { await stopChild(child); fs.rmSync(dir, { recursive: true, force: true }); },
  };
  try {
    await waitForPort(port, child);
  } catch (err) {
    const log = server.errorLog();
    await server.stop();
    throw new Error(`${(err as Error).message}\n${log}`, { cause: err });
  }
  return server;
}
