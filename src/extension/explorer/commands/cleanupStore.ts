// Clean Up Interrupted Writes: removes the temporary files and staging folders an interrupted create,
// issue or renewal left in the store (listed under "Leftovers" in the tree), after a confirmation.
import * as vscode from 'vscode';
import { UserCancelled } from '../../../core/errors';
import type { ExplorerCommand } from './shared';
import { core, isPlainObject, storeRoot, rel, afterChange } from './shared';

export const cleanupStore: ExplorerCommand = {
  id: 'mtls.cleanupStore',
  trust: 'Cleaning up the store',
  async run(ctx, arg?: unknown): Promise<string[] | undefined> {
    const root = storeRoot(ctx);
    const pki = await core();
    const tree = await pki.listStore(root);
    if (tree.leftovers.length === 0) {
      void vscode.window.showInformationMessage('mTLS: the store holds no leftovers of interrupted writes.');
      return [];
    }
    if (!isPlainObject(arg) || (arg as { confirm?: boolean }).confirm !== false) {
      const remove = 'Remove';
      const detail = tree.leftovers.map(l => `${rel(l.path)}${l.partial ? ` (and ${rel(l.partial)})` : ''}`).join('\n');
      const choice = await vscode.window.showWarningMessage(`Remove ${tree.leftovers.length} leftover${tree.leftovers.length === 1 ? '' : 's'} of interrupted writes?`, { modal: true, detail }, remove);
      if (choice !== remove) throw new UserCancelled();
    }
    const removed = await pki.cleanupStore(root);
    ctx.shared.log.info(`Cleaned up the store: removed ${removed.join(', ')}`);
    await afterChange(ctx);
    void vscode.window.showInformationMessage(`mTLS: removed ${removed.length} leftover file${removed.length === 1 ? '' : 's'} of interrupted writes.`);
    return removed;
  },
};
