// Open PEM File.
import * as vscode from 'vscode';
import type { ExplorerCommand } from './shared';
import { resolveTarget } from './shared';

export const openCertificateFile: ExplorerCommand = {
  id: 'mtls.openCertificateFile',
  async run(ctx, arg?: unknown): Promise<string | undefined> {
    const t = await resolveTarget(ctx, arg, 'mTLS: Open PEM File');
    const uri = vscode.Uri.file(t.certPath);
    await vscode.window.showTextDocument(uri, { preview: true });
    return uri.fsPath;
  },
};
