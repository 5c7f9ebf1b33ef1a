import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic, writeFilesAtomic } from '../../src/core/fsutil';
import { MtlsError } from '../../src/core/errors';

describe('fsutil', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-fs-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes with the requested mode and leaves no temp file', async () => {
    const f = path.join(dir, 'k.pem');
    await writeFileAtomic(f, 'secret', { mode: 0o600 });
    assert.strictEqual(fs.statSync(f).mode & 0o777, 0o600);
    assert.deepStrictEqual(fs.readdirSync(dir), ['k.pem']);
  });

  it('never overwrites an existing file unless asked', async () => {
    const f = path.join(dir, 'k.pem');
    fs.writeFileSync(f, 'original');
    await assert.rejects(writeFileAtomic(f, 'new'), (e: MtlsError) => e.code === 'exists');
    assert.strictEqual(fs.readFileSync(f, 'utf8'), 'original');
    assert.deepStrictEqual(fs.readdirSync(dir), ['k.pem']);
    await writeFileAtomic(f, 'new', { overwrite: true });
    assert.strictEqual(fs.readFileSync(f, 'utf8'), 'new');
  });

  it('writes a set of files all or nothing', async () => {
    fs.writeFileSync(path.join(dir, 'b'), 'keep');
    await assert.rejects(writeFilesAtomic([{ path: path.join(dir, 'a'), data: '1' }, { path: path.join(dir, 'b'), data: '2' }]), /already exists/);
    assert.deepStrictEqual(fs.readdirSync(dir), ['b']);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'b'), 'utf8'), 'keep');
  });

  it('reports an unwritable folder clearly', async () => {
    await assert.rejects(writeFileAtomic(path.join(dir, 'missing/x'), 'y'), (e: MtlsError) => e.code === 'fs-unwritable' && /Cannot write/.test(e.message));
  });
});
