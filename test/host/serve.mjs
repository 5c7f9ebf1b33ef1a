// `npm start`: a browser VS Code on 127.0.0.1 with this extension installed and a demo workspace open, at one
// plain address. The port comes from `--port N`, else PORT, else 8080.
// The extension is installed as a link to this checkout (rebuild and reload the window to pick up changes);
// the demo workspace lives outside the clone (~/.cache/mtls-workbench/demo-workspace), so VS Code does not
// offer this repository's git state in it, and keeps what you create there between runs.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startCodeServer, makeWorkspace } from './codeServer.mjs';

function parsePort(argv, env) {
  const i = argv.findIndex(a => a === '--port' || a.startsWith('--port='));
  const raw = i < 0 ? env.PORT ?? '8080' : argv[i].includes('=') ? argv[i].slice('--port='.length) : argv[i + 1];
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`npm start: "${raw}" is not a port. Use npm start -- --port 9000 (or PORT=9000 npm start).`);
    process.exit(2);
  }
  return port;
}

function portFree(port) {
  return new Promise(resolve => {
    const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const port = parsePort(process.argv.slice(2), process.env);
if (!(await portFree(port))) {
  console.error(`npm start: port ${port} on 127.0.0.1 is in use. Pick another: npm start -- --port ${port + 1} (or PORT=${port + 1} npm start).`);
  process.exit(1);
}

const cache = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'mtls-workbench');
const demo = path.join(cache, 'demo-workspace');
if (!fs.existsSync(demo)) {
  fs.mkdirSync(cache, { recursive: true });
  const fresh = makeWorkspace();
  fs.cpSync(fresh, demo, { recursive: true });
  fs.rmSync(fresh, { recursive: true, force: true });
}

// The extension, "installed" as a link to this checkout.
const { name, publisher, version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const extensionsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-extensions-'));
fs.symlinkSync(ROOT, path.join(extensionsDir, `${publisher}.${name}-${version}`), 'dir');

const server = await startCodeServer({ workspace: demo, port, extensionsDir });
if (server.child.exitCode !== null) {
  console.error('npm start: code-server did not start:\n' + server.serverLog().split('\n').slice(-20).join('\n'));
  process.exit(1);
}
console.log(`\nmTLS Workbench is running in VS Code at:\n\n  ${server.url}\n\n` +
  `Open that address in a browser. Demo workspace: ${demo}\n` +
  `Another port: npm start -- --port 9000 (or PORT=9000 npm start). Ctrl+C stops the server.`);
const stop = async () => {
  await server.stop();
  fs.rmSync(extensionsDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
