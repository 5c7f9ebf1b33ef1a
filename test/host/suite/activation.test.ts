import * as assert from 'assert';
import * as vscode from 'vscode';

import { EXTENSION_ID } from './support';

describe('extension activation', () => {
  it('loads in the real extension host and activates', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not loaded (engines.vscode too new?)`);
    await ext.activate();
    assert.strictEqual(ext.isActive, true);
  });

  it('contributes every command it declares, all under the "mTLS" category', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const declared: { command: string; category?: string }[] = ext.packageJSON.contributes.commands;
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const c of declared) {
      assert.ok(registered.has(c.command), `${c.command} is declared but not registered`);
      assert.strictEqual(c.category, 'mTLS', `${c.command} has category ${c.category}`);
    }
  });
});
