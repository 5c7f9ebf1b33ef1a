// Verify Against CA: signature, issuer name and validity against a CA of the store.
import { readRegularFile } from '../../../core/fsutil';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CaEntry, VerifyResult } from '../../../core/pki';
import { MtlsError } from '../../../core/errors';
import { quickPick } from '../prompts';
import type { ExplorerCommand, TargetArgs } from './shared';
import { core, str, storeRoot, labelOf, resolveTarget, commandInput } from './shared';

export interface VerifyArgs extends TargetArgs { ca?: string }

export const verifyCertificate: ExplorerCommand = {
  id: 'mtls.verifyCertificate',
  async run(ctx, arg?: unknown): Promise<VerifyResult | undefined> {
    const { args: a } = commandInput<VerifyArgs>(arg);
    const t = await resolveTarget(ctx, arg, 'mTLS: Verify Against CA', n => n.kind === 'cert');
    const pki = await core();
    const certPem = t.entry?.info.pem ?? pki.parseCertificate(await readRegularFile(t.certPath), t.certPath);
    const model = ctx.tree.model;
    let ca: CaEntry | undefined;
    const explicit = str(a.ca);
    if (explicit) {
      ca = [...model.cas.values()].find(c => c.name === explicit || c.certPath === path.resolve(explicit) || path.relative(storeRoot(ctx), c.dir) === explicit);
      if (!ca) throw new MtlsError('not-found', `No CA ${explicit} in the store.`);
    } else if (t.entry?.issuerPath && model.cas.has(t.entry.issuerPath) && t.entry.issuerPath !== t.certPath) {
      ca = model.cas.get(t.entry.issuerPath);
    } else if (t.node?.kind === 'cert' && t.node.ca) {
      ca = t.node.ca;
    } else {
      const cas = [...model.cas.values()];
      if (!cas.length) throw new MtlsError('not-found', 'There is no CA in the store to verify against.');
      ca = (await quickPick(cas.map(c => ({ label: `$(verified) ${c.name}`, detail: c.info.subject, ca: c })), { title: 'mTLS: Verify Against CA', placeHolder: 'Which CA?' })).ca;
    }
    const result = pki.verifyCertificate(certPem, ca!.info.pem);
    const name = t.entry ? labelOf(t.entry) : path.basename(t.certPath);
    const revoked = t.entry?.revoked ? ` It is revoked (${t.entry.revoked.reason}, ${t.entry.revoked.revokedAt.slice(0, 10)}).` : '';
    if (result.ok && !revoked) {
      void vscode.window.showInformationMessage(`mTLS: ${name} verifies against ${ca!.name}: signature, issuer name and validity are OK.`);
    } else {
      void vscode.window.showWarningMessage(`mTLS: ${name} ${result.ok ? 'verifies against' : 'does not verify against'} ${ca!.name}.${result.problems.length ? ' ' + result.problems.join(' ') : ''}${revoked}`);
    }
    return result;
  },
};
