// Where Test Leg and the local edge get their inputs: command arguments first, then the mtls.* settings,
// then the workspace store, then (when a person is there) a prompt. Paths are relative to the first
// workspace folder. Nothing here loads the probes: credentials are read with core/probe's loader on demand.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { MtlsError, UserCancelled } from '../../core/errors';
import type { Credential } from '../../core/probe/types';
import type { Shared } from '../context';

/** Arguments of `mtls.testLeg` (the guide, tests, scripts); every field overrides its setting. */
export interface TestLegArgs {
  legs?: 'leg1' | 'leg2' | 'both' | '1' | '2';
  hostname?: string;
  edgeAddress?: string;
  originAddress?: string;
  clientCertificate?: string;
  clientKey?: string;
  /** Password of a .p12 client certificate (otherwise SecretStorage, then a password box). */
  p12Password?: string;
  originPullCertificate?: string;
  originPullKey?: string;
  trustedOriginCa?: string;
  /** PEM file of the CA the origin should name (default: the pull certificate's issuer, else Cloudflare's). */
  expectedPullCa?: string;
  timeoutMs?: number;
  /** Show a notification with the fix actions when a check fails (default: true from the palette, false with arguments). */
  notify?: boolean;
  /** Ask for missing values (default true). */
  interactive?: boolean;
}

/**
 * What Test Leg asks a person (quick picks, input boxes, file dialogs), in one place: the host tests answer
 * through it instead of a person.
 */
export const asker = {
  pick: <T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Thenable<T | undefined> => vscode.window.showQuickPick(items, options),
  input: (options: vscode.InputBoxOptions): Thenable<string | undefined> => vscode.window.showInputBox(options),
  openFile: (options: vscode.OpenDialogOptions): Thenable<vscode.Uri[] | undefined> => vscode.window.showOpenDialog(options),
};

export function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('mtls', vscode.workspace.workspaceFolders?.[0]?.uri);
}

export function workspaceDir(): string | undefined {
  const f = vscode.workspace.workspaceFolders?.[0];
  return f && f.uri.scheme === 'file' ? f.uri.fsPath : undefined;
}

/** A setting or argument path, absolute (relative ones from the first workspace folder; ~ expanded). */
export function resolvePath(p: string | undefined): string | undefined {
  if (!p) return undefined;
  const home = process.env.HOME ?? process.env.USERPROFILE ?? '';
  const expanded = p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
  if (path.isAbsolute(expanded)) return expanded;
  const dir = workspaceDir();
  return dir ? path.resolve(dir, expanded) : path.resolve(expanded);
}

export function setting<T>(key: string): T | undefined {
  const v = config().get<T>(key);
  return v === '' || v === null ? undefined : v;
}

/** mtls.hostname, else the first of the guide's mtls.cloudflare.hostnames. */
export function configuredHostname(): string | undefined {
  return setting<string>('hostname') ?? setting<string[]>('cloudflare.hostnames')?.[0];
}

export async function askAndSave(key: string, prompt: string, placeHolder: string, validate?: (v: string) => string | undefined): Promise<string | undefined> {
  const value = await asker.input({ title: 'mTLS: Test Leg', prompt, placeHolder, ignoreFocusOut: true, validateInput: v => (v.trim() ? validate?.(v.trim()) : 'Required') });
  if (!value) return undefined;
  await config().update(key, value.trim(), vscode.ConfigurationTarget.Workspace);
  return value.trim();
}

export function validateAddress(v: string): string | undefined {
  return /^(\[[0-9a-fA-F:.]+\]|[^\s:/]+)(:\d{1,5})?$/.test(v) || /^[0-9a-fA-F:]+$/.test(v) ? undefined : 'ADDR or ADDR:PORT, e.g. 203.0.113.7:443';
}

const P12_SECRET = (file: string) => `mtls.p12Password:${file}`;

const KEY_SECRET = (file: string) => `mtls.keyPassword:${file}`;

/**
 * Loads a certificate for the probes: PEM + key, or a .p12. A .p12 password or an encrypted PEM key's
 * passphrase comes from the argument, SecretStorage, MTLS_P12_PASSWORD / MTLS_KEY_PASSWORD or, when a
 * person is there, a password box naming the file (kept in SecretStorage once it worked).
 */
export async function loadCredentialFor(shared: Shared, certFile: string | undefined, keyFile: string | undefined, password: string | undefined, what: string, interactive: boolean): Promise<Credential | undefined> {
  const cert = resolvePath(certFile);
  if (!cert) return undefined;
  const key = resolvePath(keyFile);
  const { loadCredential, isPkcs12Path } = await import('../../core/probe/credentials');
  const p12 = isPkcs12Path(cert);
  const secretKey = p12 ? P12_SECRET(cert) : KEY_SECRET(key ?? cert);
  const wrongCode = p12 ? 'p12-password' : 'no-password';
  const fileName = path.basename(p12 ? cert : key ?? cert);
  const secrets = shared.context.secrets;
  // A working password is kept in SecretStorage; only a missing or wrong password is worth another try.
  const tryPassword = async (pw: string | undefined) => {
    try {
      const c = await loadCredential(cert, p12 ? undefined : key, pw);
      if (pw !== undefined) await secrets.store(secretKey, pw);
      return c;
    } catch (err) {
      if ((err as MtlsError).code !== wrongCode) throw err;
      return undefined;
    }
  };
  if (!p12) {
    // Most keys are not encrypted: no secret is looked up for them.
    const plain = await tryPassword(password);
    if (plain) return plain;
  }
  const env = p12 ? process.env.MTLS_P12_PASSWORD : process.env.MTLS_KEY_PASSWORD;
  const candidates = [password, await secrets.get(secretKey), env].filter((pw): pw is string => pw !== undefined);
  for (const pw of candidates) {
    const c = await tryPassword(pw);
    if (c) return c;
  }
  if (!interactive) {
    throw new MtlsError(wrongCode, p12 ? `No working password for ${fileName} (${what}).` : `The private key ${fileName} of the ${what} is encrypted (passphrase-protected) and no working passphrase was found.`,
      p12 ? 'Pass p12Password or run Test Leg from the palette to enter it.' : 'Set MTLS_KEY_PASSWORD or run Test Leg from the palette to enter it.');
  }
  for (;;) {
    const pw = await asker.input({
      title: `mTLS: ${p12 ? 'password' : 'passphrase'} of ${fileName}`,
      prompt: p12 ? `PKCS#12 password for the ${what}` : `The private key ${fileName} of the ${what} is encrypted: enter its passphrase`,
      password: true, ignoreFocusOut: true,
    });
    if (pw === undefined) throw new UserCancelled();
    const c = await tryPassword(pw);
    if (c) return c;
    void vscode.window.showWarningMessage(`mTLS: wrong ${p12 ? 'password' : 'passphrase'} for ${fileName}.`);
  }
}

export async function readPemFile(file: string | undefined): Promise<string | undefined> {
  const p = resolvePath(file);
  if (!p) return undefined;
  try {
    return await fs.promises.readFile(p, 'utf8');
  } catch (err) {
    throw new MtlsError('fs-unreadable', `Cannot read ${p}: ${(err as NodeJS.ErrnoException).code ?? err}.`, 'Check the path in the settings.');
  }
}

/** The workspace settings (folder settings without a workspace) filtered to `query`, e.g. one setting's id. */
export async function openWorkspaceSettings(query: string): Promise<void> {
  if (vscode.workspace.workspaceFolders?.length) await vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', { query });
  else await vscode.commands.executeCommand('workbench.action.openSettings', query);
}
