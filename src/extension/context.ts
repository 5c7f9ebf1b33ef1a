import * as vscode from 'vscode';
import * as path from 'path';

/** What every feature adapter shares: the log, and where the workspace store lives. */
export interface Shared {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  /** Absolute path of the certificate store for the first workspace folder, or undefined without a folder. */
  storeRoot(): string | undefined;
}

export function createShared(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Shared {
  return {
    context,
    log,
    storeRoot() {
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder || folder.uri.scheme !== 'file') return undefined;
      const configured = vscode.workspace.getConfiguration('mtls', folder.uri).get<string>('storePath') || '.mtls';
      return path.resolve(folder.uri.fsPath, configured);
    },
  };
}

/** Mutating actions (keys, probes, Cloudflare calls) need a trusted workspace. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`mTLS: ${action} needs a trusted workspace.`, 'Manage Workspace Trust').then(choice => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}
