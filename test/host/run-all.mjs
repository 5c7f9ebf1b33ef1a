// `npm run test:host`: the mocha suite in the real extension host, the UI tests, the smoke suite against the
// packaged .vsix installed into code-server (MTLS_SKIP_VSIX=1 skips it), and `npm start`'s address.
import { ensureCodeServer } from './codeServer.mjs';
import { runExtensionHostSuite } from './run-ext-tests.mjs';
import { runUiTests } from './run-ui-tests.mjs';
import { runVsixSuite } from './run-vsix-tests.mjs';
import { runStartTest } from './run-start-test.mjs';

ensureCodeServer();
const suite = await runExtensionHostSuite();
const ui = process.env.MTLS_SKIP_UI ? { code: 0, passed: 0, failed: 0 } : await runUiTests();
// A run narrowed with MTLS_HOST_GREP includes the .vsix suite only when the pattern names it.
const grep = process.env.MTLS_HOST_GREP;
const skipVsix = process.env.MTLS_SKIP_VSIX || (grep && !new RegExp(grep).test('installed .vsix (smoke)'));
const vsix = skipVsix ? { code: 0, passed: 0, failed: 0 } : await runVsixSuite();
const start = grep || process.env.MTLS_SKIP_UI ? { code: 0, passed: 0, failed: 0 } : await runStartTest();
const failed = suite.failed + ui.failed + vsix.failed + start.failed + (suite.code && !suite.failed ? 1 : 0) + (vsix.code && !vsix.failed ? 1 : 0);
console.log(`host: ${suite.passed + ui.passed + vsix.passed + start.passed} passed, ${failed} failed`);
process.exit(suite.code || ui.code || vsix.code || start.code);
