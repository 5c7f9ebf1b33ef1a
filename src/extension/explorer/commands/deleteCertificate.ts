// Delete: a certificate or CA (and its key) from the store, after asking.
import * as path from 'path';
import * as vscode from 'vscode';
import { UserCancelled } from '../../../core/errors';
import type { CaNode } from '../tree';
import type { ExplorerCommand, TargetArgs } from './shared';
import { core, storeRoot, afterChange, labelOf, resolveTarget, commandInput } from './shared';

export interface DeleteArgs extends TargetArgs { confirm?: boolean }

export const deleteCertificate: ExplorerCommand = {
  id: 'mtls.deleteCertificate',
  trust: 'Deleting from the certificate store',
  async run(ctx, arg?: unknown): Promise<string[] | undefined> {
    const root = storeRoot(ctx);
    const { args: a } = commandInput<DeleteArgs>(arg);
    const t = await resolveTarget(ctx, arg, 'mTLS: Delete');
    const entry = t.entry;
    const isCa = t.node?.kind === 'ca';
    const name = entry ? labelOf(entry) : path.basename(t.certPath);
    const files = [t.certPath, ...(entry?.keyPath ? [entry.keyPath] : [])].map(p => path.basename(p)).join(' and ');
    if (a.confirm !== false) {
      const issuedCount = isCa ? (t.node as CaNode).entry.certs.filter(c => c.certPath !== t.certPath).length : 0;
      const detail = isCa
        ? `This removes ${files}. ${issuedCount ? `The ${issuedCount} certificate(s) it issued stay, but can no longer be renewed or revoked here. ` : ''}Clients and Cloudflare that trust this CA keep trusting it until you remove it there. This cannot be undone.`
        : `This removes ${files}${entry?.keyPath ? ' (the private key is gone for good)' : ''}. Revoke it first if someone still holds a copy. This cannot be undone.`;
      const ok = await vscode.window.showWarningMessage(`Delete ${isCa ? 'the CA' : ''} ${name}?`.replace('  ', ' '), { modal: true, detail }, 'Delete');
      if (ok !== 'Delete') throw new UserCancelled();
    }
    const pki = await core();
    const removed = await pki.deleteCertificate(root, t.certPath);
    ctx.shared.log.info(`Deleted ${removed.join(', ')}`);
    await afterChange(ctx);
    vscode.window.setStatusBarMessage(`$(trash) Deleted ${name}`, 4000);
    return removed;
  },
};
