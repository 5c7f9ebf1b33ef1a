// Sign CSR: a certificate for someone else's key; the private key stays with the requester.
import { readRegularFile } from '../../../core/fsutil';
import * as path from 'path';
import * as vscode from 'vscode';
import type { CertProfile, StoredCertificate } from '../../../core/pki';
import { MtlsError, UserCancelled } from '../../../core/errors';
import { askDays, parseDays, pickProfile, PROFILE_CHOICES } from '../prompts';
import type { ExplorerCommand } from './shared';
import { withCaPassphrase } from '../passphrase';
import { core, str, sansOf, storeRoot, rel, progress, afterChange, resolveIssuingCa, commandInput } from './shared';

export interface SignCsrArgs {
  csr?: string; ca?: string; profile?: CertProfile; days?: number | string; name?: string; sans?: string[] | string;
  caPassphrase?: string;
  /** Show the subject and SANs and ask before signing (default: when run interactively). */
  confirm?: boolean;
}

export const signCsr: ExplorerCommand = {
  id: 'mtls.signCsr',
  trust: 'Signing a CSR',
  async run(ctx, arg?: unknown): Promise<StoredCertificate | undefined> {
    const root = storeRoot(ctx);
    const { args: a, interactive } = commandInput<SignCsrArgs>(arg);
    const title = 'mTLS: Sign CSR';
    let csr: string | Buffer;
    let source: string;
    if (arg instanceof vscode.Uri) {
      source = arg.fsPath;
      csr = await readRegularFile(source);
    } else if (str(a.csr)) {
      const v = a.csr!;
      if (v.includes('-----BEGIN')) { csr = v; source = 'the CSR'; } else { source = path.resolve(v); csr = await readRegularFile(source); }
    } else {
      const picked = await vscode.window.showOpenDialog({
        title: `${title}: choose the certificate signing request`, canSelectMany: false, openLabel: 'Sign',
        filters: { 'Certificate signing requests': ['csr', 'req', 'pem'], 'All files': ['*'] },
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      if (!picked?.[0]) throw new UserCancelled();
      source = picked[0].fsPath;
      csr = await readRegularFile(source);
    }
    const pki = await core();
    const request = pki.parseCsr(csr, source); // fails early, before any more questions
    const caName = await resolveIssuingCa(ctx, arg, str(a.ca), title, root);
    const profile: CertProfile = a.profile ?? (interactive ? await pickProfile({ title }) : 'client');
    if (!PROFILE_CHOICES.some(p => p.id === profile)) throw new MtlsError('bad-option', `Unknown profile ${profile}.`);
    const days = a.days !== undefined ? parseDays(a.days) : interactive ? await askDays(365, { title }) : 365;
    const sans = sansOf(a.sans);
    const granted = sans ? sans.map(pki.parseSan) : request.sans;
    if (a.confirm ?? interactive) {
      // What the certificate will grant, exactly (JSON-escaped, so hidden characters show), before anything is signed.
      const show = (v: string) => JSON.stringify(v).slice(1, -1);
      const sign = 'Sign';
      const choice = await vscode.window.showWarningMessage(`Sign this request with the CA ${caName}?`, {
        modal: true,
        detail: [
          `Subject: ${show(request.subject) || '(empty)'}`,
          `Subject alternative names${sans ? ' (yours)' : ' (from the CSR)'}: ${granted.map(x => `${x.type.toUpperCase()}:${show(x.value)}`).join(', ') || '(none)'}`,
          `Key: ${request.keyType} ${request.curve ?? request.keyBits ?? ''}`,
          `Profile: ${profile}, valid ${days} days.`,
        ].join('\n'),
      }, sign);
      if (choice !== sign) throw new UserCancelled();
    }
    const signed = await withCaPassphrase(ctx.shared, caPassphrase => progress(`mTLS: Signing the CSR of ${request.subjectCn ?? request.subject}`, report =>
      pki.signCsrToStore(root, caName, csr, { profile, days, name: str(a.name), sans, onProgress: report, caPassphrase })), a.caPassphrase);
    ctx.shared.log.info(`Signed CSR ${source} with ${caName}: ${signed.certPath}`);
    await afterChange(ctx, signed.certPath);
    void vscode.window.showInformationMessage(`mTLS: signed ${request.subjectCn ?? request.subject} with ${caName} (${rel(signed.certPath)}). The private key stays with the requester.`);
    return signed;
  },
};
