import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Cloudflare } from '../../../src/core/cloudflare/sdkSubset';

// The packaged extension and CLI load the SDK subset instead of the whole `cloudflare` package: every SDK call
// the Cloudflare core makes must exist on it.
describe('Cloudflare SDK subset (dist/cloudflare.js)', () => {
  it('has every client method the Cloudflare core calls', () => {
    const dir = path.resolve(__dirname, '../../../../src/core/cloudflare');
    const calls = new Set<string>();
    for (const f of fs.readdirSync(dir).filter(n => n.endsWith('.ts'))) {
      for (const m of fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/\bclient((?:\.[A-Za-z]+)+)\(/g)) calls.add(m[1].slice(1));
    }
    assert.ok(calls.size >= 10, `found the SDK calls (${[...calls].join(', ')})`);
    const client = new Cloudflare({ apiToken: 'x'.repeat(40), baseURL: 'http://127.0.0.1:9/client/v4' }) as unknown as Record<string, unknown>;
    for (const call of calls) {
      const parts = call.split('.');
      let target: unknown = client;
      for (const p of parts) target = (target as Record<string, unknown> | undefined)?.[p];
      assert.strictEqual(typeof target, 'function', `client.${call} exists on the subset`);
    }
  });
});
