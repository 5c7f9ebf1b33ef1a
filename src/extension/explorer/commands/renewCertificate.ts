// Renew Certificate: new key and serial from the same CA; the previous pair is archived.
import * as path from 'path';
import * as vscode from 'vscode';
import type { RenewResult } from '../../../core/pki';
import { normalizeKey, parseDays } from '../prompts';
import type { ExplorerCommand, TargetArgs } from './shared';
import { withCaPassphrase } from '../passphrase';
import { core, storeRoot, rel, progress, afterChange, labelOf, resolveTarget, requireEntry, commandInput } from './shared';

export interface RenewArgs extends TargetArgs { days?: number | string; key?: string; caPassphrase?: string }

export const renewCertificate: ExplorerCommand = {
  id: 'mtls.renewCertificate',
  trust: 'Renewing a certificate',
  async run(ctx, arg?: unknown): Promise<RenewResult | undefined> {
    const root = storeRoot(ctx);
    const { args: a } = commandInput<RenewArgs>(arg);
    const t = await resolveTarget(ctx, arg, 'mTLS: Renew Certificate', n => n.kind === 'cert' && !!n.entry.issuerPath && !n.entry.archived);
    const entry = requireEntry(ctx, t);
    const pki = await core();
    const result = await withCaPassphrase(ctx.shared, caPassphrase => progress(`mTLS: Renewing ${labelOf(entry)}`, report =>
      pki.renewCertificate(root, entry.certPath, { days: a.days !== undefined ? parseDays(a.days) : undefined, key: a.key ? normalizeKey(a.key) : undefined, onProgress: report, caPassphrase })), a.caPassphrase);
    ctx.shared.log.info(`Renewed ${entry.certPath}: ${result.renewed.certPath}; archived ${result.archived.join(', ')}`);
    await afterChange(ctx, result.renewed.certPath);
    void vscode.window.showInformationMessage(`mTLS: renewed ${labelOf(entry)}: new key and serial, valid until ${result.renewed.info.notAfter.toISOString().slice(0, 10)}. The previous pair moved to ${rel(path.dirname(result.archived[0] ?? entry.certPath))}. Export a new PKCS#12 for browsers.`);
    return result;
  },
};
