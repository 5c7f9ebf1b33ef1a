// Test Leg asks for a missing probe input instead of skipping its check: the client certificate (Leg 1),
// the origin-pull certificate and the trusted origin CA (Leg 2). The person picks one of the Certificates
// view's certificates or a file, or skips, and may remember the choice in the workspace settings.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { describeError, UserCancelled } from '../../core/errors';
import { INPUT_SETTINGS } from '../../core/probe/checks';
import type { Shared } from '../context';
import { asker, config } from './inputs';

export type InputKind = 'client' | 'pull' | 'originCa';

export interface ChosenInput {
  cert: string;
  key?: string;
}

/** workspaceState key: the person chose the system roots (a public origin certificate) and asked to remember it. */
export const SYSTEM_ROOTS_KEY = 'mtls.testLeg.originCaSystemRoots';

interface Item extends vscode.QuickPickItem {
  choice: 'store' | 'file' | 'skip' | 'roots';
  cert?: string;
  key?: string;
}

const settingKey = (s: string) => s.replace(/^mtls\./, '');

async function storeItems(shared: Shared, kind: InputKind): Promise<Item[]> {
  const root = shared.storeRoot();
  if (!root) return [];
  try {
    const { listStore } = await import('../../core/pki');
    const store = await listStore(root);
    if (kind === 'originCa') {
      return store.cas.filter(c => !c.archived).map(c => ({ label: `$(verified) ${c.name}`, description: c.info.subject, detail: c.certPath, choice: 'store' as const, cert: c.certPath }));
    }
    const profile = kind === 'client' ? 'client' : 'origin-pull';
    return store.cas.flatMap(c => c.certs)
      .filter(c => c.info.profile === profile && c.keyPath && !c.archived && !c.revoked)
      .map(c => ({ label: `$(key) ${c.name}`, description: c.info.subject, detail: `issued by ${c.info.issuer}`, choice: 'store' as const, cert: c.certPath, key: c.keyPath }));
  } catch (err) {
    shared.log.warn(`Test Leg: cannot read the store: ${describeError(err)}`);
    return [];
  }
}

/** The key of a PEM certificate file: in the same file, else NAME.key beside it, else asked for. */
async function keyFor(cert: string, what: string): Promise<string | undefined> {
  if (/\.(p12|pfx)$/i.test(cert)) return undefined;
  const text = await fs.promises.readFile(cert, 'utf8').catch(() => '');
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return undefined;
  const beside = cert.replace(/\.(pem|crt|cer)$/i, '') + '.key';
  if (beside !== cert && fs.existsSync(beside)) return beside;
  const picked = await asker.openFile({ title: `The private key of the ${what} (${path.basename(cert)})`, canSelectMany: false, openLabel: 'Use this key', filters: { 'PEM keys': ['key', 'pem'] } });
  if (!picked?.[0]) throw new UserCancelled();
  return picked[0].fsPath;
}

/**
 * Asks for one missing input. Undefined means "skip" (or, for the origin CA, the system roots only);
 * Escape cancels the run.
 */
export async function askForInput(shared: Shared, kind: InputKind): Promise<ChosenInput | undefined> {
  const meta = INPUT_SETTINGS[kind];
  const items: Item[] = [...await storeItems(shared, kind)];
  items.push({ label: '$(folder-opened) Choose a file…', description: kind === 'originCa' ? 'PEM' : 'PEM certificate (and key) or .p12', choice: 'file' });
  if (kind === 'originCa') {
    items.push({ label: '$(globe) Public CA only', description: 'the origin certificate is from a public CA: the system roots suffice', choice: 'roots' });
  } else {
    items.push({ label: '$(debug-step-over) Skip', description: kind === 'client' ? 'edge-allows-with-cert is skipped' : 'origin-accepts-pull-cert is skipped', choice: 'skip' });
  }
  const why = kind === 'client' ? 'Leg 1 presents it to prove the edge lets it through'
    : kind === 'pull' ? 'Leg 2 presents it as Cloudflare would (Authenticated Origin Pulls)'
      : 'the CA that signed the origin certificate, when it is not a public CA (e.g. the Cloudflare Origin CA)';
  const pick = await asker.pick(items, { title: `mTLS: Test Leg needs the ${meta.what} (${meta.setting} is not set)`, placeHolder: `The ${meta.what}: ${why}`, ignoreFocusOut: true });
  if (!pick) throw new UserCancelled();
  if (pick.choice === 'skip') return undefined;
  let chosen: ChosenInput | undefined;
  if (pick.choice === 'store') chosen = { cert: pick.cert!, key: pick.key };
  if (pick.choice === 'file') {
    const files = await asker.openFile({ title: `The ${meta.what}`, canSelectMany: false, openLabel: 'Use this file', filters: kind === 'originCa' ? { 'PEM certificates': ['pem', 'crt', 'cer'] } : { 'Certificates': ['pem', 'crt', 'cer', 'p12', 'pfx'] } });
    if (!files?.[0]) throw new UserCancelled();
    const cert = files[0].fsPath;
    chosen = { cert, key: kind === 'originCa' ? undefined : await keyFor(cert, meta.what) };
  }
  const remember = await asker.pick([
    { label: 'Remember in the workspace settings', description: pick.choice === 'roots' ? 'do not ask again in this workspace' : meta.setting, remember: true },
    { label: 'Only for this run', remember: false },
  ], { title: `mTLS: keep the ${meta.what}?`, ignoreFocusOut: true });
  if (remember?.remember) {
    if (!chosen) {
      await shared.context.workspaceState.update(SYSTEM_ROOTS_KEY, true);
    } else {
      await config().update(settingKey(meta.setting), chosen.cert, vscode.ConfigurationTarget.Workspace);
      if ('key' in meta) await config().update(settingKey(meta.key), chosen.key, vscode.ConfigurationTarget.Workspace);
      shared.log.info(`Test Leg: ${meta.setting} = ${chosen.cert}${chosen.key && 'key' in meta ? `, ${meta.key} = ${chosen.key}` : ''} (workspace settings)`);
    }
  }
  return chosen;
}
