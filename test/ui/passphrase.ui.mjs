// The passphrase of an encrypted CA key as a person meets it across sessions: asked once when a session first
// signs, kept for the rest of the session, remembered in VS Code's secret storage only after a click on
// "Remember in Secret Storage" (a reloaded window then signs without asking), and forgotten as soon as it
// stops working (here the key was re-encrypted with openssl under another passphrase): the failure writes
// nothing, and the next signing asks again.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../host/codeServer.mjs';

export const title = 'CA passphrase: asked once per session, remembered in secret storage on request, forgotten when it stops working';

const FIRST = 'first vault pass';
const SECOND = 'second vault pass';

export async function setup({ workspace }) {
  // A CA made outside this window (the CLI), so the window's first signing has to ask for its passphrase.
  execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'ca', 'create', '--name', 'vault', '--cn', 'Vault Root', '--key', 'ec-p256', '--store', path.join(workspace, '.mtls')],
    { env: { ...process.env, MTLS_CA_PASSWORD: FIRST }, stdio: 'pipe' });
  return {};
}

export default async function ({ wb, page, workspace, log }) {
  const certsDir = path.join(workspace, '.mtls/vault/certs');
  const keyPath = path.join(workspace, '.mtls/vault/ca.key');
  const passphrasePrompt = page.locator('.quick-input-widget', { hasText: 'Passphrase of the key of the CA "vault"' });

  const openView = async () => {
    await wb.openViewContainer('mTLS Workbench');
    await wb.treeRow('vault').waitFor({ timeout: 60000 });
  };
  /** Issue Client Certificate... from the CA's context menu, up to the point where the certificate would be signed. */
  const startIssue = async cn => {
    await wb.contextMenu('vault', 'Issue Client Certificate...');
    await wb.answer(cn, { expectPrompt: 'Common name' });
    await wb.answer('', { expectPrompt: 'Subject alternative names' });
    await wb.pick('ECDSA P-256');
    await wb.answer('30', { expectPrompt: 'Validity in days' });
  };
  /** Whether signing asked for the passphrase (true) or went ahead without asking (the certificate row appears). */
  const askedOrSigned = cn => Promise.race([
    passphrasePrompt.waitFor({ state: 'visible', timeout: 60000 }).then(() => true),
    wb.treeRow(cn).waitFor({ timeout: 60000 }).then(() => false),
  ]);
  const written = () => fs.readdirSync(certsDir).filter(f => f.endsWith('.pem')).sort();

  await openView();
  log('the first signing of the session asks for the passphrase');
  await startIssue('dave@example.com');
  if (!(await askedOrSigned('dave@example.com'))) throw new Error('the first signing of the session did not ask for the passphrase');
  await wb.answer(FIRST, { expectPrompt: 'Passphrase of the key of the CA' });
  await wb.treeRow('dave@example.com').waitFor({ timeout: 60000 });
  log('signed; the offer to remember it in the secret storage is clicked');
  const offer = wb.notification('keep the passphrase of the CA "vault"');
  await offer.waitFor({ timeout: 15000 });
  await offer.locator('.monaco-button', { hasText: 'Remember in Secret Storage' }).click();
  await offer.waitFor({ state: 'hidden' });

  log('the same session signs again without asking');
  await startIssue('erin@example.com');
  if (await askedOrSigned('erin@example.com')) throw new Error('the session asked again for a passphrase it had');

  log('reload the window (a new session): signing takes the passphrase from the secret storage');
  await page.reload();
  await wb.ready();
  await openView();
  await startIssue('frank@example.com');
  if (await askedOrSigned('frank@example.com')) throw new Error('the remembered passphrase was not used after a reload');

  log('the key is re-encrypted with openssl under another passphrase: the remembered one fails, writes nothing and is forgotten');
  const reencrypted = execFileSync('openssl', ['pkey', '-in', keyPath, '-passin', `pass:${FIRST}`, '-aes-256-cbc', '-passout', `pass:${SECOND}`]);
  fs.writeFileSync(keyPath + '.new', reencrypted, { mode: 0o600 });
  fs.renameSync(keyPath + '.new', keyPath);
  await page.reload();
  await wb.ready();
  await openView();
  const before = written();
  await startIssue('gina@example.com');
  const failure = wb.notification('is wrong; nothing was written');
  await failure.waitFor({ timeout: 60000 });
  log('error:', (await failure.innerText()).replace(/\s+/g, ' '));
  if (written().join(' ') !== before.join(' ')) throw new Error('the failed signing wrote a certificate');

  log('the next signing asks again; the new passphrase signs');
  await wb.runCommand('Notifications: Clear All Notifications');
  await startIssue('gina@example.com');
  if (!(await askedOrSigned('gina@example.com'))) throw new Error('the passphrase that failed was not forgotten: no prompt');
  await wb.answer(SECOND, { expectPrompt: 'Passphrase of the key of the CA' });
  await wb.treeRow('gina@example.com').waitFor({ timeout: 60000 });
  execFileSync('openssl', ['verify', '-CAfile', path.join(workspace, '.mtls/vault/ca.pem'), path.join(certsDir, 'gina-example.com.pem')], { stdio: 'pipe' });
  log('signed with the new passphrase; openssl verifies the certificate');
}
