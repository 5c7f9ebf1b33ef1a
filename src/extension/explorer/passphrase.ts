// Passphrases of CA keys in VS Code: asked when a CA is created (empty allowed, after a warning), asked once
// per session per CA when it signs, and remembered in the SecretStorage (the OS keychain) only when the
// person says so. A wrong passphrase is forgotten at once, wherever it was kept.
import * as vscode from 'vscode';
import type { PassphraseProvider } from '../../core/pki';
import { MtlsError, UserCancelled } from '../../core/errors';
import type { Shared } from '../context';
import { inputBox } from './prompts';

const SECRET_PREFIX = 'mtls.caPassphrase:';
/** keyPath -> passphrase typed or read in this session. */
const session = new Map<string, string>();

/**
 * The passphrase for a new CA key: typed twice, without echo. Empty means "store the key unencrypted",
 * accepted only after a warning. Returns '' for unencrypted.
 */
export async function askNewCaPassphrase(title: string, step?: { step: number; totalSteps: number }): Promise<string> {
  const first = await inputBox({
    title, ...step, password: true,
    prompt: 'Passphrase that encrypts the CA key at rest (scrypt + AES-256). Leave empty to store the key unencrypted.',
  });
  if (!first) {
    const plain = 'Store Unencrypted';
    const choice = await vscode.window.showWarningMessage(
      'Store the CA key unencrypted?',
      { modal: true, detail: 'Anyone who can read the workspace folder (a backup, a synced folder, another program) could then issue certificates that Cloudflare accepts. You can encrypt it later with "mTLS: Encrypt CA Key".' },
      plain,
    );
    if (choice !== plain) throw new UserCancelled();
    return '';
  }
  const again = await inputBox({ title, ...step, password: true, prompt: 'Repeat the passphrase', validateInput: v => (v === first ? undefined : 'The two passphrases differ.') });
  if (again !== first) throw new UserCancelled();
  return first;
}

function secretKey(keyPath: string): string {
  return SECRET_PREFIX + keyPath;
}

/**
 * Runs `fn` with a PassphraseProvider for the CA keys it signs with: the session's passphrase, else the
 * remembered one, else an input box (and, after it worked, the offer to remember it). A wrong passphrase is
 * forgotten from the session and the SecretStorage before the error goes on. `given` (automation, tests)
 * answers without asking.
 */
export async function withCaPassphrase<T>(shared: Shared, fn: (provider: PassphraseProvider) => PromiseLike<T>, given?: string): Promise<T> {
  const used: { keyPath: string; passphrase: string; typed: boolean; name: string }[] = [];
  const provider: PassphraseProvider = async ca => {
    let passphrase = given ?? session.get(ca.keyPath);
    let typed = false;
    if (passphrase === undefined) passphrase = await shared.context.secrets.get(secretKey(ca.keyPath));
    if (passphrase === undefined) {
      passphrase = await inputBox({ title: `mTLS: CA ${ca.name}`, password: true, prompt: `Passphrase of the key of the CA "${ca.name}" (asked once per session)` });
      typed = true;
    }
    used.push({ keyPath: ca.keyPath, passphrase, typed, name: ca.name });
    return passphrase;
  };
  let result: T;
  try {
    result = await fn(provider);
  } catch (err) {
    if (err instanceof MtlsError && (err.code === 'bad-passphrase' || err.code === 'no-passphrase')) {
      for (const u of used) {
        session.delete(u.keyPath);
        await shared.context.secrets.delete(secretKey(u.keyPath));
      }
    }
    throw err;
  }
  for (const u of used) {
    session.set(u.keyPath, u.passphrase);
    if (u.typed && given === undefined) {
      const remember = 'Remember in Secret Storage';
      void vscode.window.showInformationMessage(`mTLS: keep the passphrase of the CA "${u.name}" for this session only, or remember it in the OS keychain (VS Code's secret storage)?`, remember).then(async c => {
        if (c === remember) {
          await shared.context.secrets.store(secretKey(u.keyPath), u.passphrase);
          shared.log.info(`Remembered the passphrase of the CA ${u.name} in the secret storage.`);
        }
      });
    }
  }
  return result;
}

/** The passphrase just chosen for a new CA key serves this session's signing without asking again. */
export function rememberForSession(keyPath: string, passphrase: string): void {
  if (passphrase) session.set(keyPath, passphrase);
}

/** Forgets what this session and the SecretStorage know of a CA key's passphrase (after it changed). */
export async function forgetCaPassphrase(shared: Shared, keyPath: string): Promise<void> {
  session.delete(keyPath);
  await shared.context.secrets.delete(secretKey(keyPath));
}
