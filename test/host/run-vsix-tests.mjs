// The packaged extension, as a user installs it: builds the .vsix (`npm run package`, unless MTLS_VSIX names
// one), installs it with `code-server --install-extension` into a fresh extensions folder, and runs the smoke
// suite (out/test/host/vsixSuite) in the extension host against that installed copy. The suite is started by
// a tiny runner extension (test/host/vsix-runner) in development mode, so the extension under test is never
// loaded from the sources.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, CS_ENTRY, ensureCodeServer, startCodeServer, makeWorkspace, runSuiteInWorkbench } from './codeServer.mjs';

/** Builds the .vsix; the release build replaces dist/, so the development build is put back afterwards. */
function buildVsix() {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    execFileSync(npm, ['run', 'package', '--silent'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'inherit' });
  }
  return path.join(ROOT, 'mtls-workbench.vsix');
}

export async function runVsixSuite({ timeoutS = Number(process.env.MTLS_HOST_TIMEOUT ?? 300) } = {}) {
  ensureCodeServer();
  const vsix = process.env.MTLS_VSIX ? path.resolve(process.env.MTLS_VSIX) : buildVsix();
  const sizeMb = fs.statSync(vsix).size / 1024 / 1024;
  console.log(`vsix: ${path.relative(ROOT, vsix)} ${sizeMb.toFixed(2)} MB`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-vsix-'));
  const extensionsDir = path.join(tmp, 'extensions');
  execFileSync(process.execPath, [CS_ENTRY, '--install-extension', vsix, '--extensions-dir', extensionsDir, '--user-data-dir', path.join(tmp, 'user-data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const workspace = makeWorkspace();
  const resultFile = path.join(tmp, 'result.json');
  const server = await startCodeServer({ workspace, extensionsDir, env: { MTLS_RESULT_FILE: resultFile, MTLS_VSIX_EXTENSIONS_DIR: extensionsDir } });
  const result = await runSuiteInWorkbench({
    server, workspace, resultFile, timeoutS, label: 'vsix smoke suite',
    urlOptions: { ext: path.join(ROOT, 'test/host/vsix-runner'), tests: path.join(ROOT, 'out/test/host/vsixSuite/index.js') },
  });
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
  return { sizeMb, ...result };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await runVsixSuite()).code);
}
