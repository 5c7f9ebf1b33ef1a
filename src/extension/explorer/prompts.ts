// Input boxes and quick picks with validation. A value passed as a command argument skips its prompt;
// a dismissed prompt throws UserCancelled, which ends the command quietly.
import * as vscode from 'vscode';
import type { CertProfile, KeyAlgorithm, P12Flavor } from '../../core/pki';
import { UserCancelled } from '../../core/errors';

export interface Step { title: string; step?: number; totalSteps?: number }

function stepTitle(s: Step): string {
  return s.step && s.totalSteps ? `${s.title} (${s.step}/${s.totalSteps})` : s.title;
}

// ---- validators (exported for tests) -------------------------------------------------------------

/** A CA name becomes a folder name: letters, digits, dot, dash, underscore; no leading dot. */
export function validateCaName(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'Enter a name for the CA folder, e.g. acme-root.';
  if (v.length > 64) return 'Use at most 64 characters.';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v)) return 'Use letters, digits, ".", "-" and "_" only, starting with a letter or digit (it becomes a folder name).';
  return undefined;
}

/** File basenames follow the same rule. */
export const validateFileName = validateCaName;

export function validateCommonName(value: string): string | undefined {
  const v = value.trim();
  if (!v) return 'The common name (CN) cannot be empty.';
  if (v.length > 64) return 'A common name has at most 64 characters (X.520).';
  return undefined;
}

export function validateDays(value: string): string | undefined {
  const v = value.trim();
  if (!/^\d+$/.test(v) || Number(v) < 1) return 'Enter a whole number of days, 1 or more.';
  if (Number(v) > 36500) return 'At most 36500 days (100 years).';
  return undefined;
}

export function parseDays(value: string | number): number {
  const n = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new Error(`Validity must be a whole number of days between 1 and 36500, not ${value}.`);
  return n;
}

export function splitSans(value: string): string[] {
  return value.split(/[\s,;]+/).map(s => s.trim()).filter(Boolean);
}

// ---- prompts -----------------------------------------------------------------------------------

export async function inputBox(options: vscode.InputBoxOptions & Step): Promise<string> {
  const { title, step, totalSteps, ...rest } = options;
  const value = await vscode.window.showInputBox({ ignoreFocusOut: true, ...rest, title: stepTitle({ title, step, totalSteps }) });
  if (value === undefined) throw new UserCancelled();
  return options.password ? value : value.trim();
}

export async function quickPick<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions & Step): Promise<T> {
  const { title, step, totalSteps, ...rest } = options;
  const picked = await vscode.window.showQuickPick(items, { ignoreFocusOut: true, ...rest, title: stepTitle({ title, step, totalSteps }) });
  if (!picked) throw new UserCancelled();
  return picked;
}

export const KEY_CHOICES: { id: KeyAlgorithm; label: string; detail: string }[] = [
  { id: 'rsa4096', label: 'RSA 4096', detail: 'Widest support; the usual choice for a CA. Slowest to generate.' },
  { id: 'rsa3072', label: 'RSA 3072', detail: 'NIST strength through 2030.' },
  { id: 'rsa2048', label: 'RSA 2048', detail: 'The usual choice for client certificates; every browser and OS.' },
  { id: 'ec-p256', label: 'ECDSA P-256', detail: 'Small and fast; accepted by Cloudflare and modern clients.' },
  { id: 'ec-p384', label: 'ECDSA P-384', detail: 'Stronger curve, signed with SHA-384.' },
];

export function normalizeKey(value: string): KeyAlgorithm {
  const v = value.trim().toLowerCase().replace(/[\s_]/g, '');
  const aliases: Record<string, KeyAlgorithm> = {
    rsa4096: 'rsa4096', 'rsa-4096': 'rsa4096', rsa3072: 'rsa3072', 'rsa-3072': 'rsa3072', rsa2048: 'rsa2048', 'rsa-2048': 'rsa2048',
    'ec-p256': 'ec-p256', ecp256: 'ec-p256', p256: 'ec-p256', 'p-256': 'ec-p256', 'ecdsa-p256': 'ec-p256', ecdsap256: 'ec-p256', 'ecdsap-256': 'ec-p256',
    'ec-p384': 'ec-p384', ecp384: 'ec-p384', p384: 'ec-p384', 'p-384': 'ec-p384', 'ecdsa-p384': 'ec-p384', ecdsap384: 'ec-p384', 'ecdsap-384': 'ec-p384',
  };
  const k = aliases[v];
  if (!k) throw new Error(`Unknown key type "${value}": use one of ${KEY_CHOICES.map(c => c.id).join(', ')}.`);
  return k;
}

/** Key type quick pick with the default first and marked. */
export async function pickKey(defaultKey: KeyAlgorithm, step: Step): Promise<KeyAlgorithm> {
  const ordered = [...KEY_CHOICES.filter(c => c.id === defaultKey), ...KEY_CHOICES.filter(c => c.id !== defaultKey)];
  const picked = await quickPick(ordered.map(c => ({ label: c.label, description: c.id === defaultKey ? 'default' : undefined, detail: c.detail, id: c.id })),
    { ...step, placeHolder: 'Key type' });
  return picked.id;
}

export async function askDays(defaultDays: number, step: Step, what = 'Validity in days'): Promise<number> {
  const v = await inputBox({ ...step, prompt: what, value: String(defaultDays), validateInput: validateDays });
  return parseDays(v);
}

export const PROFILE_CHOICES: { id: CertProfile; label: string; detail: string }[] = [
  { id: 'client', label: 'Client', detail: 'A person or device proving itself to Cloudflare (Leg 1): EKU clientAuth.' },
  { id: 'origin-pull', label: 'Origin-pull', detail: 'What Cloudflare presents to your origin with own-certificate Authenticated Origin Pulls (Leg 2).' },
  { id: 'server', label: 'Server', detail: 'A TLS server certificate (EKU serverAuth), e.g. for a local test origin.' },
];

export async function pickProfile(step: Step): Promise<CertProfile> {
  return (await quickPick(PROFILE_CHOICES.map(c => ({ ...c, label: c.label })), { ...step, placeHolder: 'What is the certificate for?' })).id;
}

export const P12_CHOICES: { id: P12Flavor; label: string; description: string; detail: string }[] = [
  { id: 'modern', label: 'Modern (AES-256)', description: 'default', detail: 'Firefox, Chrome and Edge on Windows 10+/Linux, OpenSSL 3, Node, Java 8u301+.' },
  { id: 'legacy', label: 'Legacy (3DES)', description: 'macOS Keychain / older Windows', detail: 'For the macOS keychain (Safari, Chrome on macOS), Windows before 10 (1709) and old Java: 3DES + SHA-1 MAC.' },
];

/** Asks for a new password twice (never echoed, never stored). */
export async function askNewPassword(title: string): Promise<string> {
  const first = await inputBox({
    title, step: 2, totalSteps: 3, password: true,
    prompt: 'Password for the PKCS#12 file (you type it again when importing it into a browser or keychain)',
    validateInput: v => (v.length === 0 ? 'Enter a password: browsers and keychains refuse a PKCS#12 file without one.' : undefined),
  });
  await inputBox({
    title, step: 3, totalSteps: 3, password: true, prompt: 'Type the password again',
    validateInput: v => (v !== first ? 'The passwords do not match.' : undefined),
  });
  return first;
}

export const REVOKE_REASONS = [
  { label: 'unspecified', detail: 'No particular reason' },
  { label: 'keyCompromise', detail: 'The private key leaked or may have leaked' },
  { label: 'superseded', detail: 'Replaced by a new certificate' },
  { label: 'cessationOfOperation', detail: 'The person or device no longer needs access' },
  { label: 'affiliationChanged', detail: 'The holder changed role or left' },
];
