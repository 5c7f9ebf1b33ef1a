import * as vscode from 'vscode';
import { setCommandLog } from './commands';
import { createShared } from './context';
import { registerExplorer } from './explorer';
import { registerLint } from './lint';
import { registerTestLeg } from './testLeg';
import { registerGuide } from './guide';
import { noteCloudflareLegs, walkthroughSteps } from './walkthrough';

// Activation only wires commands and views; node-forge, the Cloudflare SDK and the parsers load on first use.
export function activate(context: vscode.ExtensionContext) {
  const log = vscode.window.createOutputChannel('mTLS Workbench', { log: true });
  context.subscriptions.push(log);
  setCommandLog(log);
  const shared = createShared(context, log);
  const explorer = registerExplorer(shared);
  registerLint(shared);
  const testLeg = registerTestLeg(shared);
  const guide = registerGuide(shared);
  // The tree shows each leg's Cloudflare status next to the CA it concerns.
  explorer.setCloudflareStatus(guide.legStatus());
  context.subscriptions.push(guide.onDidChangeLegStatus(status => { explorer.setCloudflareStatus(status); noteCloudflareLegs(status); }));
  log.info('mTLS Workbench activated');
  // The extension's API (tests and other extensions): `vscode.extensions.getExtension(...).exports`.
  return { explorer, guide, testLeg, walkthroughSteps };
}

export function deactivate() {
  // Everything is disposed through context.subscriptions.
}
