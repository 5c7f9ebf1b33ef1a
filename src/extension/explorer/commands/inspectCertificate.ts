// Inspect Certificate: a read-only document with what the certificate says.
import * as path from 'path';
import * as vscode from 'vscode';
import { isEntryNode } from '../tree';
import { inspectUri } from '../inspectDocument';
import type { ExplorerCommand } from './shared';
import { labelOf, resolveTarget } from './shared';

export interface InspectResult { uri: string; certPath: string }

export const inspectCertificate: ExplorerCommand = {
  id: 'mtls.inspectCertificate',
  async run(ctx, arg?: unknown): Promise<InspectResult | undefined> {
    const t = await resolveTarget(ctx, arg, 'mTLS: Inspect Certificate');
    const label = t.entry ? labelOf(t.entry) : path.basename(t.certPath);
    const uri = inspectUri(t.certPath, label);
    const doc = await vscode.workspace.openTextDocument(uri);
    ctx.inspect.refreshOpen();
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: isEntryNode(arg) });
    return { uri: uri.toString(), certPath: t.certPath };
  },
};
