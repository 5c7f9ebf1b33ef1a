// The Certificate Explorer's commands, one per file, registered through the extension's command wrapper.
import type * as vscode from 'vscode';
import { registerMtlsCommand } from '../../commands';
import type { ExplorerCommand, ExplorerCommandContext } from './shared';
import { copyFingerprint } from './copyFingerprint';
import { cleanupStore } from './cleanupStore';
import { createCa } from './createCa';
import { deleteCertificate } from './deleteCertificate';
import { encryptCaKey } from './encryptCaKey';
import { exportPkcs12 } from './exportPkcs12';
import { importCertificate } from './importCertificate';
import { inspectCertificate } from './inspectCertificate';
import { issueClientCert } from './issueClientCert';
import { issueOriginPullCert } from './issueOriginPullCert';
import { openCertificateFile } from './openCertificateFile';
import { refreshCertificates } from './refreshCertificates';
import { renewCertificate } from './renewCertificate';
import { revealCertificateFile } from './revealCertificateFile';
import { revokeCertificate } from './revokeCertificate';
import { showMoreCertificates } from './showMoreCertificates';
import { signCsr } from './signCsr';
import { verifyCertificate } from './verifyCertificate';

export type { ExplorerCommandContext } from './shared';

const EXPLORER_COMMANDS: readonly ExplorerCommand[] = [
  createCa, issueClientCert, issueOriginPullCert, signCsr, importCertificate, inspectCertificate, exportPkcs12,
  verifyCertificate, renewCertificate, revokeCertificate, deleteCertificate, copyFingerprint, openCertificateFile,
  revealCertificateFile, refreshCertificates, showMoreCertificates, encryptCaKey, cleanupStore,
];

export function registerCommands(ctx: ExplorerCommandContext): vscode.Disposable[] {
  return EXPLORER_COMMANDS.map(command =>
    registerMtlsCommand(command.id, { trust: command.trust }, (arg?: unknown) => command.run(ctx, arg)));
}
