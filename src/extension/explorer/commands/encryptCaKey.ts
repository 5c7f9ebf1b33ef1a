// Encrypt CA Key: encrypts the plaintext key of a CA of the store in place (an atomic rename over the old
// file; no plaintext copy is kept anywhere).
import * as path from 'path';
import * as vscode from 'vscode';
import { MtlsError } from '../../../core/errors';
import type { ExplorerCommand } from './shared';
import { core, str, storeRoot, rel, afterChange, resolveIssuingCa, commandInput } from './shared';
import { askNewCaPassphrase, forgetCaPassphrase, rememberForSession } from '../passphrase';

export interface EncryptCaKeyArgs { ca?: string; passphrase?: string }

export const encryptCaKey: ExplorerCommand = {
  id: 'mtls.encryptCaKey',
  trust: 'Encrypting a CA key',
  async run(ctx, arg?: unknown): Promise<string | undefined> {
    const root = storeRoot(ctx);
    const { args: a } = commandInput<EncryptCaKeyArgs>(arg);
    const title = 'mTLS: Encrypt CA Key';
    const caName = await resolveIssuingCa(ctx, arg, str(a.ca), title, root);
    const passphrase = typeof a.passphrase === 'string' ? a.passphrase : await askNewCaPassphrase(title);
    if (!passphrase) throw new MtlsError('no-passphrase', 'An empty passphrase does not encrypt anything; the key was left as it was.');
    const pki = await core();
    await pki.encryptCaKey(root, caName, passphrase);
    const keyPath = pki.caPaths(root, caName).keyPath;
    await forgetCaPassphrase(ctx.shared, keyPath);
    rememberForSession(keyPath, passphrase);
    ctx.shared.log.info(`Encrypted the key of the CA ${caName}: ${keyPath}`);
    await afterChange(ctx, path.join(root, caName, 'ca.pem'));
    void vscode.window.showInformationMessage(`mTLS: the key of the CA ${caName} (${rel(keyPath)}) is now encrypted; signing asks for its passphrase once per session.`);
    return keyPath;
  },
};
