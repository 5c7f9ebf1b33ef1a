// Import CA or Certificate: a PEM or DER file (with its key, when there is one) into the store.
import { readRegularFile } from '../../../core/fsutil';
import * as path from 'path';
import * as vscode from 'vscode';
import type { StoredCertificate } from '../../../core/pki';
import { UserCancelled } from '../../../core/errors';
import { quickPick } from '../prompts';
import type { ExplorerCommand } from './shared';
import { core, str, storeRoot, rel, afterChange, commandInput } from './shared';

export interface ImportArgs { cert?: string; key?: string; name?: string; caName?: string }

export const importCertificate: ExplorerCommand = {
  id: 'mtls.importCertificate',
  trust: 'Importing a certificate',
  async run(ctx, arg?: unknown): Promise<StoredCertificate | undefined> {
    const root = storeRoot(ctx);
    const { args: a, interactive } = commandInput<ImportArgs>(arg);
    const title = 'mTLS: Import CA or Certificate';
    let certFile = arg instanceof vscode.Uri ? arg.fsPath : typeof arg === 'string' ? arg : str(a.cert);
    if (!certFile) {
      const picked = await vscode.window.showOpenDialog({
        title: `${title}: choose the certificate (PEM or DER; a PEM may hold the key too)`, canSelectMany: false, openLabel: 'Import',
        filters: { Certificates: ['pem', 'crt', 'cer', 'der'], 'All files': ['*'] }, defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
      });
      if (!picked?.[0]) throw new UserCancelled();
      certFile = picked[0].fsPath;
    }
    certFile = path.resolve(certFile);
    const certData = await readRegularFile(certFile);
    let keyFile = str(a.key);
    if (!keyFile && interactive && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(certData.toString('latin1'))) {
      const choice = await quickPick([
        { label: 'No private key', detail: 'Only the certificate (a CA you trust, or a certificate you only inspect and verify).', choose: false },
        { label: 'Choose the private key file...', detail: 'Needed to issue from a CA or to export a PKCS#12.', choose: true },
      ], { title, placeHolder: 'Import a private key with it?' });
      if (choice.choose) {
        const picked = await vscode.window.showOpenDialog({
          title: `${title}: choose the private key`, canSelectMany: false, openLabel: 'Use this key',
          filters: { 'Private keys': ['key', 'pem', 'der'], 'All files': ['*'] }, defaultUri: vscode.Uri.file(path.dirname(certFile)),
        });
        if (!picked?.[0]) throw new UserCancelled();
        keyFile = picked[0].fsPath;
      }
    }
    const keyData = keyFile ? await readRegularFile(path.resolve(keyFile)) : undefined;
    const pki = await core();
    const imported = await pki.importToStore(root, {
      cert: certData, key: keyData, name: str(a.name), caName: str(a.caName), certSource: certFile, keySource: keyFile,
    });
    ctx.shared.log.info(`Imported ${certFile}${keyFile ? ' with its key' : ''}: ${imported.certPath}`);
    await afterChange(ctx, imported.certPath);
    void vscode.window.showInformationMessage(`mTLS: imported ${imported.info.isCa ? 'CA' : 'certificate'} ${imported.info.subjectCn ?? imported.name} (${rel(imported.certPath)})${imported.keyPath ? ' with its key' : ''}.`);
    return imported;
  },
};
