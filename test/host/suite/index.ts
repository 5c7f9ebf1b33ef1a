import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

function findTests(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? findTests(p) : e.name.endsWith('.test.js') ? [p] : [];
  });
}

/** Entry point the extension host calls (extensionTestsPath): runs every *.test.js beside this file. */
export function run(): Promise<void> {
  return runSuite(__dirname);
}

/** Runs every *.test.js under `dir` with mocha and hands the counts to the runner (MTLS_RESULT_FILE). */
export function runSuite(dir: string): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, reporter: 'spec' });
  const grep = process.env.MTLS_HOST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of findTests(dir).sort()) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    mocha.run(failures => {
      const total = mocha.suite.total();
      console.log(`extension host: ${total - failures} passed, ${failures} failed`);
      // The extension host inherits code-server's environment: hand the counts to the runner.
      if (process.env.MTLS_RESULT_FILE) fs.writeFileSync(process.env.MTLS_RESULT_FILE, JSON.stringify({ passed: total - failures, failed: failures }));
      if (failures > 0) reject(new Error(`${failures} extension-host tests failed.`));
      else resolve();
    });
  });
}
