// Create CA: a new CA folder in the store, its key kept out of git.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { KeyAlgorithm, StoredCertificate } from '../../../core/pki';
import { askDays, inputBox, normalizeKey, parseDays, pickKey, validateCaName, validateCommonName } from '../prompts';
import type { ExplorerCommand } from './shared';
import { askNewCaPassphrase, rememberForSession } from '../passphrase';
import { core, str, storeRoot, rel, progress, afterChange, commandInput } from './shared';

export interface CreateCaArgs {
  name?: string; commonName?: string; cn?: string; org?: string; organization?: string; key?: string; days?: number | string;
  /** Encrypts the CA key; '' stores it unencrypted. Asked when absent (interactive) ; absent in an options object: unencrypted. */
  passphrase?: string;
}

export const createCa: ExplorerCommand = {
  id: 'mtls.createCa',
  trust: 'Creating a CA',
  async run(ctx, arg?: unknown): Promise<StoredCertificate | undefined> {
    const root = storeRoot(ctx);
    const { args: a, interactive } = commandInput<CreateCaArgs>(arg);
    const title = 'mTLS: Create CA';
    const total = 6;
    const name = str(a.name) ?? await inputBox({
      title, step: 1, totalSteps: total, prompt: 'Name of the CA (its folder in the store)', placeHolder: 'e.g. acme-clients',
      validateInput: v => validateCaName(v) ?? (fs.existsSync(path.join(root, v.trim(), 'ca.pem')) ? `A CA named ${v.trim()} already exists in the store.` : undefined),
    });
    const cn = str(a.commonName) ?? str(a.cn) ?? await inputBox({
      title, step: 2, totalSteps: total, prompt: 'Common name (CN) of the CA, as clients and Cloudflare show it', value: `${name} Root CA`, validateInput: validateCommonName,
    });
    let org = str(a.org) ?? str(a.organization);
    if (org === undefined && interactive) {
      org = await inputBox({ title, step: 3, totalSteps: total, prompt: 'Organization (O), optional', placeHolder: 'e.g. Acme Inc. (leave empty to skip)' }) || undefined;
    }
    const key: KeyAlgorithm = a.key ? normalizeKey(a.key) : interactive ? await pickKey('rsa4096', { title, step: 4, totalSteps: total }) : 'rsa4096';
    const days = a.days !== undefined ? parseDays(a.days) : interactive ? await askDays(3650, { title, step: 5, totalSteps: total }) : 3650;

    const passphrase = typeof a.passphrase === 'string' ? a.passphrase : interactive ? await askNewCaPassphrase(title, { step: 6, totalSteps: total }) : '';

    const pki = await core();
    const created = await progress(`mTLS: Creating CA ${name}`, report =>
      pki.createCa(root, name, { cn, org, key, days, passphrase, onProgress: report }));
    ctx.shared.log.info(`Created CA ${name}: ${created.certPath} (key ${created.keyEncrypted ? 'encrypted' : 'NOT encrypted'})`);
    if (created.keyEncrypted && created.keyPath) rememberForSession(created.keyPath, passphrase);
    if (!created.keyEncrypted) {
      const encrypt = 'Encrypt CA Key...';
      void vscode.window.showWarningMessage(`mTLS: the key of the CA ${name} is stored unencrypted.`, encrypt).then(c => {
        if (c === encrypt) void vscode.commands.executeCommand('mtls.encryptCaKey', { ca: name });
      });
    }
    await afterChange(ctx, created.certPath);
    const issue = 'Issue Client Certificate...';
    void vscode.window.showInformationMessage(`mTLS: created CA ${name} (${rel(created.certPath)}). Its key stays in ${rel(path.dirname(created.certPath))}, out of git.`, issue).then(c => {
      if (c === issue) void vscode.commands.executeCommand('mtls.issueClientCert', { ca: name });
    });
    return created;
  },
};
