// Issuing a client or origin-pull certificate from a CA of the store (two commands share it).
import * as vscode from 'vscode';
import type { CertProfile, KeyAlgorithm, StoredCertificate } from '../../../core/pki';
import { askDays, inputBox, normalizeKey, parseDays, pickKey, splitSans, validateCommonName } from '../prompts';
import type { ExplorerCommandContext } from './shared';
import { withCaPassphrase } from '../passphrase';
import { core, str, sansOf, storeRoot, rel, progress, afterChange, resolveIssuingCa, commandInput } from './shared';

export interface IssueArgs {
  ca?: string; commonName?: string; cn?: string; org?: string; name?: string; key?: string; days?: number | string; sans?: string[] | string;
  /** The CA key's passphrase (automation); else the session's, the remembered one, or asked. */
  caPassphrase?: string;
}

export async function issueCertificate(ctx: ExplorerCommandContext, profile: CertProfile, arg?: unknown): Promise<StoredCertificate | undefined> {
  const root = storeRoot(ctx);
  const { args: a, interactive } = commandInput<IssueArgs>(arg);
  const what = profile === 'client' ? 'Client Certificate' : 'Origin-Pull Certificate';
  const title = `mTLS: Issue ${what}`;
  const total = 4;
  const caName = await resolveIssuingCa(ctx, arg, str(a.ca), title, root);
  const cn = str(a.commonName) ?? str(a.cn) ?? await inputBox({
    title, step: 1, totalSteps: total,
    prompt: profile === 'client' ? `Common name (CN) of the person or device (signed by ${caName})` : `Common name (CN) of the origin-pull certificate (signed by ${caName})`,
    placeHolder: profile === 'client' ? 'e.g. alice@example.com or laptop-42' : 'e.g. origin-pull.example.com',
    validateInput: validateCommonName,
  });
  let sans = sansOf(a.sans);
  if (sans === undefined && interactive) {
    sans = splitSans(await inputBox({
      title, step: 2, totalSteps: total, prompt: 'Subject alternative names, optional (comma-separated: DNS names, IPs, e-mails, URIs)',
      placeHolder: profile === 'client' ? 'e.g. alice@example.com' : 'e.g. origin.example.com',
    }));
  }
  const key: KeyAlgorithm = a.key ? normalizeKey(a.key) : interactive ? await pickKey('rsa2048', { title, step: 3, totalSteps: total }) : 'rsa2048';
  const days = a.days !== undefined ? parseDays(a.days) : interactive ? await askDays(365, { title, step: 4, totalSteps: total }) : 365;

  const pki = await core();
  const issued = await withCaPassphrase(ctx.shared, caPassphrase => progress(`mTLS: Issuing ${profile} certificate ${cn}`, report =>
    pki.issueToStore(root, caName, { cn, org: str(a.org), profile, key, days, sans: sans?.length ? sans : undefined, name: str(a.name), onProgress: report, caPassphrase })), a.caPassphrase);
  ctx.shared.log.info(`Issued ${profile} certificate ${cn}: ${issued.certPath}`);
  await afterChange(ctx, issued.certPath);
  const exportP12 = 'Export PKCS#12...';
  const actions = profile === 'client' ? [exportP12] : [];
  void vscode.window.showInformationMessage(`mTLS: issued ${profile} certificate ${cn} (${rel(issued.certPath)}), valid ${days} days.`, ...actions).then(c => {
    if (c === exportP12) void vscode.commands.executeCommand('mtls.exportPkcs12', vscode.Uri.file(issued.certPath));
  });
  return issued;
}
