// Runs the mocha suite (out/test/host/suite) inside the real extension host of code-server.
// Exit code: the suite's. The suite prints "N passed, N failed".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startCodeServer, makeWorkspace, runSuiteInWorkbench } from './codeServer.mjs';

export async function runExtensionHostSuite({ timeoutS = Number(process.env.MTLS_HOST_TIMEOUT ?? 600), env = {} } = {}) {
  const workspace = makeWorkspace();
  const resultFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-result-')), 'result.json');
  const server = await startCodeServer({ workspace, env: { MTLS_TEST_WORKSPACE: workspace, MTLS_RESULT_FILE: resultFile, ...env } });
  const result = await runSuiteInWorkbench({
    server, workspace, resultFile, timeoutS, label: 'extension-host suite',
    urlOptions: { tests: path.join(ROOT, 'out/test/host/suite/index.js') },
  });
  fs.rmSync(workspace, { recursive: true, force: true });
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit((await runExtensionHostSuite()).code);
}
