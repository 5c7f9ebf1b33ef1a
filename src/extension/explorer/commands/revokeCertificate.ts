// Revoke Certificate: recorded in the CA's revoked.json; the WAF expression that blocks it goes to the clipboard.
import * as vscode from 'vscode';
import type { RevokeResult } from '../../../core/pki';
import { quickPick, REVOKE_REASONS } from '../prompts';
import type { ExplorerCommand, TargetArgs } from './shared';
import { core, str, storeRoot, afterChange, labelOf, resolveTarget, requireEntry, commandInput } from './shared';

export interface RevokeArgs extends TargetArgs { reason?: string }

export const revokeCertificate: ExplorerCommand = {
  id: 'mtls.revokeCertificate',
  trust: 'Revoking a certificate',
  async run(ctx, arg?: unknown): Promise<RevokeResult | undefined> {
    const root = storeRoot(ctx);
    const { args: a, interactive } = commandInput<RevokeArgs>(arg);
    const title = 'mTLS: Revoke Certificate';
    const t = await resolveTarget(ctx, arg, title, n => n.kind === 'cert' && !!n.entry.issuerPath && !n.entry.revoked);
    const entry = requireEntry(ctx, t);
    const reason = str(a.reason) ?? (interactive
      ? (await quickPick(REVOKE_REASONS.map(r => ({ ...r })), { title: `${title}: ${labelOf(entry)}`, placeHolder: 'Reason (recorded in the CA\'s revoked.json)' })).label
      : 'unspecified');
    const pki = await core();
    const result = await pki.revokeCertificate(root, entry.certPath, reason);
    const done = result.alreadyRevoked
      ? `${labelOf(entry)} was already revoked on ${result.record.revokedAt} (${result.record.reason}); nothing changed`
      : `revoked ${labelOf(entry)}`;
    ctx.shared.log.info(result.alreadyRevoked ? `${entry.certPath} was already revoked (${result.record.reason})` : `Revoked ${entry.certPath} (${reason}); recorded in ${result.revokedPath}`);
    await vscode.env.clipboard.writeText(result.expression);
    await afterChange(ctx);
    const show = 'Show Expression';
    void vscode.window.showWarningMessage(
      `mTLS: ${done}. Cloudflare does not read revocations from your CA: block it with a WAF custom rule. The expression is on the clipboard: ${result.expression}`, show,
    ).then(async c => {
      if (c !== show) return;
      const doc = await vscode.workspace.openTextDocument({
        language: 'plaintext',
        content: `# Cloudflare WAF custom rule (action: Block) for the certificates revoked by this CA\n# Recorded in ${result.revokedPath}\n${result.expression}\n`,
      });
      await vscode.window.showTextDocument(doc);
    });
    return result;
  },
};
