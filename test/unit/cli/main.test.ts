import * as assert from 'assert';
import { main } from '../../../src/cli/main';
import { CliIO } from '../../../src/cli/io';
import { version } from '../../../package.json';

function capture() {
  let out = '', err = '';
  const io: CliIO = { stdout: t => { out += t; }, stderr: t => { err += t; }, env: {}, cwd: process.cwd() };
  return { io, out: () => out, err: () => err };
}

describe('mtls (top level)', () => {
  it('--version prints the version of package.json', async () => {
    const c = capture();
    assert.strictEqual(await main(['--version'], c.io), 0);
    assert.strictEqual(c.out(), version + '\n');
  });

  it('--help lists every command with a summary in one style (lower case start, no final period)', async () => {
    const c = capture();
    assert.strictEqual(await main(['--help'], c.io), 0);
    const lines = c.out().split('\n').filter(l => /^ {2}\S/.test(l));
    assert.deepStrictEqual(lines.map(l => l.trim().split(/\s+/)[0]), ['ca', 'cert', 'lint', 'probe', 'edge', 'cloudflare']);
    for (const line of lines) {
      const summary = line.slice(14);
      assert.match(summary, /^[a-z]/, `summary starts in lower case: ${line}`);
      assert.doesNotMatch(summary, /\.$/, `summary has no final period: ${line}`);
    }
  });
});
