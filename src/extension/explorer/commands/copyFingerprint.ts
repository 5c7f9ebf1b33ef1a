// Copy SHA-256 Fingerprint, in Cloudflare or OpenSSL format.
import { readRegularFile } from '../../../core/fsutil';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExplorerCommand, TargetArgs } from './shared';
import { core, resolveTarget, commandInput } from './shared';

export interface CopyArgs extends TargetArgs { format?: 'cloudflare' | 'openssl' }

export const copyFingerprint: ExplorerCommand = {
  id: 'mtls.copyFingerprint',
  async run(ctx, arg?: unknown): Promise<string | undefined> {
    const { args: a } = commandInput<CopyArgs>(arg);
    const t = await resolveTarget(ctx, arg, 'mTLS: Copy SHA-256 Fingerprint');
    const info = t.entry?.info ?? (await core()).inspectCertificate(await readRegularFile(t.certPath), t.certPath);
    const value = a.format === 'openssl' ? info.fingerprintSha256 : info.sha256;
    await vscode.env.clipboard.writeText(value);
    vscode.window.setStatusBarMessage(`$(copy) SHA-256 of ${info.subjectCn ?? path.basename(t.certPath)} copied (${a.format === 'openssl' ? 'OpenSSL' : 'Cloudflare'} format)`, 4000);
    return value;
  },
};
