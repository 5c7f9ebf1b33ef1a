// Reveal in Explorer View.
import * as vscode from 'vscode';
import type { ExplorerCommand } from './shared';
import { resolveTarget } from './shared';

export const revealCertificateFile: ExplorerCommand = {
  id: 'mtls.revealCertificateFile',
  async run(ctx, arg?: unknown): Promise<string | undefined> {
    const t = await resolveTarget(ctx, arg, 'mTLS: Reveal in Explorer View');
    const uri = vscode.Uri.file(t.certPath);
    if (vscode.workspace.getWorkspaceFolder(uri)) await vscode.commands.executeCommand('revealInExplorer', uri);
    else await vscode.window.showTextDocument(uri, { preview: true });
    return uri.fsPath;
  },
};
