// The fake Cloudflare API (out/test/support/fakeCloudflare.js) as its own process, for the UI tests that
// drive the setup guide: started with a token and the zone example.com, stopped in their teardown.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT } from '../host/codeServer.mjs';

/** Starts the fake API; resolves with its base URL and a stop() that ends the process. */
export function startFakeCloudflare(token) {
  const script = path.join(ROOT, 'out/test/support/fakeCloudflare.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: run "npx tsc -p ." first`);
  const fake = spawn(process.execPath, [script, '--token', token, '--zone', 'example.com'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = async () => {
    if (fake.exitCode !== null) return;
    fake.kill('SIGTERM');
    await new Promise(r => { fake.once('exit', r); setTimeout(r, 3000); });
  };
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: fake.stdout });
    const timer = setTimeout(() => reject(new Error('the fake Cloudflare API did not start')), 15000);
    lines.once('line', line => { clearTimeout(timer); resolve({ url: line.trim(), stop }); });
    fake.once('exit', code => reject(new Error(`the fake Cloudflare API exited (${code})`)));
  });
}
