// Export PKCS#12 (Browsers): certificate, key and chain in one password-protected file.
import { readRegularFile } from '../../../core/fsutil';
import * as path from 'path';
import * as vscode from 'vscode';
import type { P12Flavor, StoreEntry } from '../../../core/pki';
import { MtlsError, UserCancelled } from '../../../core/errors';
import { KEY_MODE, writeFileAtomic } from '../../../core/fsutil';
import { askNewPassword, P12_CHOICES, quickPick } from '../prompts';
import type { ExplorerCommand, ExplorerCommandContext, TargetArgs } from './shared';
import { core, str, rel, progress, afterChange, labelOf, resolveTarget, requireEntry, commandInput } from './shared';
import { markWalkthroughStep } from '../../walkthrough';

export interface ExportArgs extends TargetArgs { key?: string; out?: string; password?: string; flavor?: P12Flavor; legacy?: boolean }
export interface ExportResult { out: string; flavor: P12Flavor }

/** The issuing CA certificates, nearest first, as far as the store knows them. */
function chainOf(ctx: ExplorerCommandContext, entry: StoreEntry): string[] {
  const chain: string[] = [];
  const seen = new Set<string>([entry.certPath]);
  let next = entry.issuerPath;
  while (next && !seen.has(next)) {
    const ca = ctx.tree.model.cas.get(next);
    if (!ca) break;
    chain.push(ca.info.pem);
    seen.add(next);
    next = ca.issuerPath;
  }
  return chain;
}

export const exportPkcs12: ExplorerCommand = {
  id: 'mtls.exportPkcs12',
  trust: 'Exporting a PKCS#12 file',
  async run(ctx, arg?: unknown): Promise<ExportResult | undefined> {
    const { args: a, interactive } = commandInput<ExportArgs>(arg);
    const title = 'mTLS: Export PKCS#12 (Browsers)';
    const t = await resolveTarget(ctx, arg, title, n => !!n.entry.keyPath, 'certificate with a private key');
    const entry = requireEntry(ctx, t);
    const keyPath = str(a.key) ?? entry.keyPath;
    if (!keyPath) throw new MtlsError('not-found', `The store has no private key for ${labelOf(entry)}, so there is nothing to put in a PKCS#12.`, 'Import the key with the certificate, or issue a new certificate.');
    const flavor: P12Flavor = a.flavor ?? (a.legacy === true ? 'legacy' : a.legacy === false ? 'modern'
      : interactive ? (await quickPick(P12_CHOICES.map(c => ({ ...c })), { title, step: 1, totalSteps: 3, placeHolder: 'Which browsers or keychains will import it?' })).id : 'modern');
    if (flavor !== 'modern' && flavor !== 'legacy') throw new MtlsError('bad-option', `Unknown PKCS#12 flavour ${flavor}: use modern or legacy.`);
    const password = a.password ?? (await askNewPassword(title));
    const base = path.basename(entry.certPath).replace(/\.(pem|crt|cer)$/i, '');
    const suggested = path.join(path.dirname(entry.certPath), `${base}${flavor === 'legacy' ? '-legacy' : ''}.p12`);
    let out = str(a.out) ? path.resolve(a.out!) : undefined;
    let overwrite = false;
    if (!out) {
      const picked = await vscode.window.showSaveDialog({
        title: `${title}: save as`, defaultUri: vscode.Uri.file(suggested), saveLabel: 'Export', filters: { 'PKCS#12': ['p12', 'pfx'] },
      });
      if (!picked) throw new UserCancelled();
      out = picked.fsPath;
      overwrite = true; // the save dialog asked before replacing a file
    }
    const pki = await core();
    const [certPem, keyPem] = await Promise.all([readRegularFile(entry.certPath).then(b => b.toString('utf8')), readRegularFile(keyPath).then(b => b.toString('utf8'))]);
    const data = await progress(`mTLS: Exporting ${path.basename(out)}`, async () =>
      pki.exportPkcs12({ certPem, keyPem, chainPems: chainOf(ctx, entry), password, flavor, friendlyName: entry.info.subjectCn }));
    await writeFileAtomic(out, data, { mode: KEY_MODE, overwrite });
    ctx.shared.log.info(`Exported ${flavor} PKCS#12 of ${entry.certPath} to ${out}`); // never the password
    markWalkthroughStep('mtls.exportedP12');
    await afterChange(ctx);
    const reveal = 'Reveal';
    void vscode.window.showInformationMessage(`mTLS: wrote ${rel(out)} (${flavor === 'legacy' ? 'legacy 3DES' : 'modern AES-256'}). Import it into the browser or keychain with the password you typed; keep it out of git.`, reveal).then(c => {
      if (c === reveal && out) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(out));
    });
    return { out, flavor };
  },
};
