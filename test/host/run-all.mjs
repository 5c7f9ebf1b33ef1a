// `npm run test:host`: the mocha suite in the real extension host, then the UI tests.
import { ensureCodeServer } from './codeServer.mjs';
import { runExtensionHostSuite } from './run-ext-tests.mjs';
import { runUiTests } from './run-ui-tests.mjs';

ensureCodeServer();
const suite = await runExtensionHostSuite();
const ui = process.env.MTLS_SKIP_UI ? { code: 0, passed: 0, failed: 0 } : await runUiTests();
const failed = suite.failed + ui.failed + (suite.code && !suite.failed ? 1 : 0);
console.log(`host: ${suite.passed + ui.passed} passed, ${failed} failed`);
process.exit(suite.code || ui.code);
