// What the extension-host suites share: the extension's id, the test workspace, and polling for a condition.
import * as vscode from 'vscode';

export const EXTENSION_ID = 'mtls-workbench.mtls-workbench';

export function workspaceRoot(): string {
  return process.env.MTLS_TEST_WORKSPACE ?? vscode.workspace.workspaceFolders![0].uri.fsPath;
}

/** Polls `fn` every 50 ms until it gives a truthy value, or fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(fn: () => T | undefined | false, what: string, timeoutMs = 20000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 50));
  }
}
