// Origin config linting in the real extension host: diagnostics with codes and exact ranges, the rule
// explanations they link to, every quick-fix through vscode.executeCodeActionProvider, files linted by
// mtls.lint.include as plain text, "mTLS: Lint Origin Configs" on files nobody opened, and hostile includes
// (a FIFO, a link to /dev/zero) that must give findings, never a hang.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

import { EXTENSION_ID, waitFor, workspaceRoot } from './support';

function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter(d => d.source === 'mtls');
}

function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' && d.code ? String(d.code.value) : String(d.code);
}

/** The range of the nth occurrence of needle in text. */
function rangeOf(text: string, needle: string, nth = 0): vscode.Range {
  let idx = -1;
  for (let k = 0; k <= nth; k++) {
    idx = text.indexOf(needle, idx + 1);
    assert.ok(idx >= 0, `'${needle}' not in the text`);
  }
  const before = text.slice(0, idx).split('\n');
  const line = before.length - 1;
  const ch = before[line].length;
  const lines = needle.split('\n');
  return new vscode.Range(line, ch, line + lines.length - 1, lines.length === 1 ? ch + needle.length : lines[lines.length - 1].length);
}

function write(rel: string, text: string): vscode.Uri {
  const file = path.join(workspaceRoot(), rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return vscode.Uri.file(file);
}

async function open(rel: string, text: string): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(write(rel, text));
  await vscode.window.showTextDocument(doc);
  return doc;
}

async function diagnosticsWith(uri: vscode.Uri, codes: string[], what = codes.join(', ')): Promise<vscode.Diagnostic[]> {
  return waitFor(() => {
    const ds = ours(uri);
    return codes.every(c => ds.some(d => codeOf(d) === c)) && ds;
  }, `diagnostics ${what} on ${uri.fsPath} (have: ${ours(uri).map(codeOf).join(', ')})`);
}

async function actionsFor(uri: vscode.Uri, d: vscode.Diagnostic): Promise<vscode.CodeAction[]> {
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, d.range, vscode.CodeActionKind.QuickFix.value);
  // (executeCodeActionProvider does not hand back the actions' diagnostics; no other provider serves these files)
  return actions ?? [];
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.files.saveAll');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

const NGINX = `server {
    listen 443 ssl;
    server_name shop.example.com;
    ssl_certificate /etc/ssl/shop.pem;
    ssl_certificate_key /etc/ssl/shop.key;

    location / {
        return 200 "ok";
    }
}

server {
    listen 8443 ssl;
    server_name api.example.com;
    ssl_certificate /etc/ssl/api.pem;
    ssl_certificate_key /etc/ssl/api.key;
    ssl_verify_client require;
}
`;

describe('Origin config linting', function () {
  this.timeout(90000);
  let pullCa: string;

  before(async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await ext.activate();
    pullCa = path.join(ext.extensionPath, 'media', 'authenticated_origin_pull_ca.pem');
  });

  afterEach(closeAll);

  it('shows diagnostics on open with codes, exact ranges, source and a link to the explanation', async () => {
    const doc = await open('hosttest/nginx/shop.conf', NGINX);
    assert.strictEqual(doc.languageId, 'nginx');
    const ds = await diagnosticsWith(doc.uri, ['leg2-no-client-auth', 'leg2-invalid-value']);
    const noAuth = ds.filter(d => codeOf(d) === 'leg2-no-client-auth');
    assert.strictEqual(noAuth.length, 1, 'only the first server lacks client auth');
    assert.deepStrictEqual(noAuth[0].range, rangeOf(NGINX, 'listen 443 ssl;'), 'leg2-no-client-auth sits on the TLS listen directive');
    assert.strictEqual(noAuth[0].severity, vscode.DiagnosticSeverity.Warning);
    const invalid = ds.find(d => codeOf(d) === 'leg2-invalid-value')!;
    assert.deepStrictEqual(invalid.range, rangeOf(NGINX, 'require'));
    assert.strictEqual(invalid.severity, vscode.DiagnosticSeverity.Error);
    for (const d of ds) {
      assert.strictEqual(d.source, 'mtls');
      const target = (d.code as { target: vscode.Uri }).target;
      assert.strictEqual(target.scheme, 'mtls-rule');
      assert.strictEqual(target.path, `/${codeOf(d)}.md`);
    }
    // the link opens the rule's explanation, offline
    const explanation = await vscode.workspace.openTextDocument((invalid.code as { target: vscode.Uri }).target);
    assert.match(explanation.getText(), /^# leg2-invalid-value: /);
    assert.match(explanation.getText(), /require/);
    assert.match(explanation.getText(), /## Quick-fixes/);
  });

  it('re-lints as you type (debounced) and clears the diagnostic once fixed', async () => {
    const doc = await open('hosttest/nginx/typing.conf', NGINX);
    await diagnosticsWith(doc.uri, ['leg2-invalid-value']);
    const editor = vscode.window.activeTextEditor!;
    await editor.edit(b => b.replace(rangeOf(NGINX, 'require'), 'on'));
    await waitFor(() => !ours(doc.uri).some(d => codeOf(d) === 'leg2-invalid-value'), 'leg2-invalid-value to go away');
    // Still reported: the missing CA for `on`.
    await diagnosticsWith(doc.uri, ['leg2-no-ca']);
  });

  it('applies the AOP quick-fix for each CA source through executeCodeActionProvider', async () => {
    // a CA in the workspace store (mtls.storePath, default .mtls): <store>/<name>/ca.pem
    const storeCa = path.join(workspaceRoot(), '.mtls', 'hosttest-ca', 'ca.pem');
    fs.mkdirSync(path.dirname(storeCa), { recursive: true });
    fs.copyFileSync(pullCa, storeCa);
    const doc = await open('hosttest/nginx/aop.conf', NGINX);
    const [d] = (await diagnosticsWith(doc.uri, ['leg2-no-client-auth'])).filter(x => codeOf(x) === 'leg2-no-client-auth');
    const actions = await actionsFor(doc.uri, d);
    const titles = actions.map(a => a.title);
    const cf = actions.find(a => a.title === 'Require Cloudflare client certificate (origin-pull CA)');
    assert.ok(cf, `actions: ${titles.join(' | ')}`);
    assert.strictEqual(cf.isPreferred, true);
    assert.strictEqual(cf.kind?.value, 'quickfix');
    const wsAction = actions.find(a => a.title === 'Require client certificate (workspace CA hosttest-ca)');
    assert.ok(wsAction, `actions: ${titles.join(' | ')}`);
    assert.ok(titles.includes('Require client certificate (choose a CA file...)'));
    assert.ok(titles.includes('Ignore leg2-no-client-auth in this server block (not behind Cloudflare)'));
    assert.ok(titles.includes('Explain leg2-no-client-auth'));

    // Fixes write the CA's path on the server, never this machine's store or the extension's media folder.
    assert.ok(await vscode.workspace.applyEdit(wsAction.edit!));
    assert.strictEqual(doc.getText(), NGINX.replace('ssl_certificate_key /etc/ssl/shop.key;\n',
      'ssl_certificate_key /etc/ssl/shop.key;\n    ssl_client_certificate /etc/nginx/cloudflare/hosttest-ca-ca.pem;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n'));
    assert.ok(!doc.getText().includes(workspaceRoot()), 'no path of this machine in the config');
    await vscode.commands.executeCommand('workbench.action.files.revert');

    const again = (await diagnosticsWith(doc.uri, ['leg2-no-client-auth'])).find(x => codeOf(x) === 'leg2-no-client-auth')!;
    const cf2 = (await actionsFor(doc.uri, again)).find(a => a.title === cf.title)!;
    assert.ok(await vscode.workspace.applyEdit(cf2.edit!));
    assert.strictEqual(doc.getText(), NGINX.replace('ssl_certificate_key /etc/ssl/shop.key;\n',
      'ssl_certificate_key /etc/ssl/shop.key;\n    ssl_client_certificate /etc/nginx/cloudflare/origin-pull-ca.pem;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n'));
    // The action then offers to save the CA file beside the config, where the linter finds it again.
    assert.strictEqual(cf2.command?.command, 'mtls.lint.saveCaBesideConfig');
    const saved = await vscode.commands.executeCommand<string>('mtls.lint.saveCaBesideConfig', ...(cf2.command!.arguments ?? []), { ask: false });
    assert.strictEqual(saved, path.join(path.dirname(doc.uri.fsPath), 'cloudflare', 'origin-pull-ca.pem'));
    assert.strictEqual(fs.readFileSync(saved, 'utf8'), fs.readFileSync(pullCa, 'utf8'));
    fs.rmSync(path.dirname(saved), { recursive: true, force: true });
    // once fixed, the warning goes away
    await waitFor(() => !ours(doc.uri).some(x => codeOf(x) === 'leg2-no-client-auth'), 'leg2-no-client-auth to go away');
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  // Each row: a config, the code to fix, the action's title, and the text after applying it.
  const table: { name: string; rel: string; text: string; code: string; title: string | RegExp; expected: (t: string) => string }[] = [
    {
      name: 'nginx: invalid value require -> on', rel: 'hosttest/nginx/t1.conf', text: NGINX, code: 'leg2-invalid-value',
      title: "Change 'require' to 'on'", expected: t => t.replace('ssl_verify_client require;', 'ssl_verify_client on;'),
    },
    {
      name: 'nginx: optional -> on', rel: 'hosttest/nginx/t2.conf', code: 'leg2-optional-unchecked',
      text: 'server {\n\tlisten 443 ssl;\n\tssl_certificate a.pem;\n\tssl_certificate_key a.key;\n\tssl_client_certificate CA;\n\tssl_verify_client optional;\n\tssl_verify_depth 1;\n}\n',
      title: 'Require the client certificate (ssl_verify_client on)', expected: t => t.replace('optional;', 'on;'),
    },
    {
      name: 'nginx: optional + the $ssl_client_verify check, in tabs', rel: 'hosttest/nginx/t3.conf', code: 'leg2-optional-unchecked',
      text: 'server {\n\tlisten 443 ssl;\n\tssl_certificate a.pem;\n\tssl_certificate_key a.key;\n\tssl_client_certificate CA;\n\tssl_verify_client optional;\n\tssl_verify_depth 1;\n}\n',
      title: /^Reject unverified clients/, expected: t => t.replace('optional;\n', 'optional;\n\tif ($ssl_client_verify != SUCCESS) {\n\t\treturn 403;\n\t}\n'),
    },
    {
      name: 'nginx: CA in ssl_trusted_certificate -> ssl_client_certificate', rel: 'hosttest/nginx/t4.conf', code: 'leg2-no-ca',
      text: 'server {\n  listen 443 ssl;\n  ssl_certificate a.pem;\n  ssl_certificate_key a.key;\n  ssl_trusted_certificate CA;\n  ssl_verify_client on;\n  ssl_verify_depth 1;\n}\n',
      title: 'Move the CA from ssl_trusted_certificate to ssl_client_certificate', expected: t => t.replace('ssl_trusted_certificate', 'ssl_client_certificate'),
    },
    {
      name: 'nginx: no CA -> the origin-pull CA after ssl_verify_client', rel: 'hosttest/nginx/t5.conf', code: 'leg2-no-ca',
      text: 'server {\n    listen 443 ssl;\n    ssl_certificate a.pem;\n    ssl_certificate_key a.key;\n    ssl_verify_client on;\n    ssl_verify_depth 1;\n}\n',
      title: 'Add client CA: Cloudflare origin-pull CA (ssl_client_certificate)', expected: t => t.replace('on;\n', `on;\n    ssl_client_certificate PULLCA;\n`),
    },
    {
      name: 'Apache: TLS vhost -> AOP directives', rel: 'hosttest/apache2/t6.conf', code: 'leg2-no-client-auth',
      text: '<VirtualHost *:443>\n    ServerName shop.example.com\n    SSLEngine on\n    SSLCertificateFile a.pem\n    SSLCertificateKeyFile a.key\n</VirtualHost>\n',
      title: 'Require Cloudflare client certificate (origin-pull CA)',
      expected: t => t.replace('a.key\n', 'a.key\n    SSLVerifyClient require\n    SSLVerifyDepth 1\n    SSLCACertificateFile PULLCA\n'),
    },
    {
      name: 'Apache: optional -> require', rel: 'hosttest/apache2/t7.conf', code: 'leg2-optional-unchecked',
      text: '<VirtualHost *:443>\n\tSSLEngine on\n\tSSLCertificateFile a.pem\n\tSSLCertificateKeyFile a.key\n\tSSLCACertificateFile CA\n\tSSLVerifyClient optional\n\tSSLVerifyDepth 1\n</VirtualHost>\n',
      title: 'Require the client certificate (SSLVerifyClient require)', expected: t => t.replace('optional', 'require'),
    },
    {
      name: 'Apache: no CA -> SSLCACertificateFile', rel: 'hosttest/apache2/t8.conf', code: 'leg2-no-ca',
      text: '<VirtualHost *:443>\n  SSLEngine on\n  SSLCertificateFile a.pem\n  SSLCertificateKeyFile a.key\n  SSLVerifyClient require\n  SSLVerifyDepth 1\n</VirtualHost>\n',
      title: 'Add client CA: Cloudflare origin-pull CA (SSLCACertificateFile)', expected: t => t.replace('require\n', 'require\n  SSLCACertificateFile PULLCA\n'),
    },
  ];

  for (const row of table) {
    it(`quick-fix: ${row.name}`, async () => {
      const text = row.text.replace(/\bCA;/g, `${pullCa};`).replace(/ CA\n/g, ` ${pullCa}\n`);
      const doc = await open(row.rel, text);
      const d = (await diagnosticsWith(doc.uri, [row.code])).find(x => codeOf(x) === row.code)!;
      const actions = await actionsFor(doc.uri, d);
      const action = actions.find(a => (typeof row.title === 'string' ? a.title === row.title : row.title.test(a.title)));
      assert.ok(action?.edit, `no action ${row.title}; have ${actions.map(a => a.title).join(' | ')}`);
      assert.ok(await vscode.workspace.applyEdit(action.edit));
      const serverCa = row.rel.includes('apache2') ? '/etc/apache2/cloudflare/origin-pull-ca.pem' : '/etc/nginx/cloudflare/origin-pull-ca.pem';
      assert.strictEqual(doc.getText(), row.expected(text).replace(/PULLCA/g, serverCa));
      await waitFor(() => !ours(doc.uri).some(x => codeOf(x) === row.code && x.range.isEqual(d.range)), `${row.code} to go away after the fix`);
      await vscode.commands.executeCommand('workbench.action.files.save');
    });
  }

  it('an include glob matching a FIFO and a link to /dev/zero gives unreadable diagnostics, and the host stays responsive', async function () {
    if (process.platform === 'win32') this.skip();
    const dir = path.join(workspaceRoot(), 'hosttest/hostile/inc');
    fs.mkdirSync(dir, { recursive: true });
    const fifo = path.join(dir, 'pipe.conf');
    if (!fs.existsSync(fifo)) execFileSync('mkfifo', [fifo]);
    const zero = path.join(dir, 'zero.conf');
    if (!fs.existsSync(zero)) fs.symlinkSync('/dev/zero', zero);
    const text = `server {\n    listen 443 ssl;\n    ssl_certificate /etc/ssl/a.pem;\n    ssl_certificate_key /etc/ssl/a.key;\n    include ${dir}/*.conf;\n}\n`;
    const doc = await open('hosttest/hostile/sites-enabled/site', text);
    const ds = await diagnosticsWith(doc.uri, ['unreadable', 'leg2-no-client-auth']);
    const unreadable = ds.filter(d => codeOf(d) === 'unreadable').map(d => d.message).sort();
    assert.strictEqual(unreadable.length, 2, unreadable.join('\n'));
    assert.match(unreadable.join('\n'), /named pipe/);
    assert.match(unreadable.join('\n'), /device/);
    // the extension host still answers commands right away
    const t0 = Date.now();
    await vscode.commands.executeCommand('mtls.lint.explain', 'unreadable');
    assert.ok(Date.now() - t0 < 5000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  });

  it('lints a file opened as plain text when its path matches mtls.lint.include', async () => {
    const doc = await open('hosttest/etc/sites-enabled/plain-site', NGINX);
    assert.notStrictEqual(doc.languageId, 'nginx');
    await diagnosticsWith(doc.uri, ['leg2-no-client-auth', 'leg2-invalid-value']);
    // and not a file outside the patterns, whatever its content
    const other = await open('hosttest/notes/site.txt', NGINX);
    await new Promise(r => setTimeout(r, 1200));
    assert.deepStrictEqual(ours(other.uri), []);
  });

  it('clears the diagnostics of a document when it closes', async () => {
    const doc = await open('hosttest/nginx/closing.conf', NGINX);
    await diagnosticsWith(doc.uri, ['leg2-invalid-value']);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await waitFor(() => ours(doc.uri).length === 0, 'diagnostics to clear', 5000);
  });

  it('mtls.lint.ignore silences a rule', async () => {
    const doc = await open('hosttest/nginx/ignored.conf', NGINX);
    await diagnosticsWith(doc.uri, ['leg2-no-client-auth']);
    const cfg = vscode.workspace.getConfiguration('mtls.lint');
    await cfg.update('ignore', ['leg2-no-client-auth'], vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor(() => !ours(doc.uri).some(d => codeOf(d) === 'leg2-no-client-auth') && ours(doc.uri).some(d => codeOf(d) === 'leg2-invalid-value'), 'leg2-no-client-auth to be ignored');
    } finally {
      await cfg.update('ignore', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('"mTLS: Lint Origin Configs" fills diagnostics for configs nobody opened', async () => {
    const a = write('hosttest/unopened/conf.d/shop.conf', NGINX);
    const b = write('hosttest/unopened/api.vhost', '<VirtualHost *:443>\n    SSLEngine on\n    SSLCertificateFile a.pem\n    SSLCertificateKeyFile a.key\n    SSLVerifyClient require\n</VirtualHost>\n');
    const sniffed = write('hosttest/unopened/somewhere/else.conf', NGINX); // found by content, not by name
    const notConfig = write('hosttest/unopened/conf.d/readme.conf', 'This folder holds site configs.\n');
    const summary = await vscode.commands.executeCommand<{ files: string[]; errors: number; warnings: number; byFile: Record<string, { code: string }[]> }>('mtls.lintWorkspace');
    assert.ok(summary, 'the command returns its summary');
    for (const u of [a, b, sniffed]) assert.ok(summary.files.includes(u.fsPath), `${u.fsPath} linted; linted: ${summary.files.join(', ')}`);
    assert.ok(!summary.files.includes(notConfig.fsPath), 'a .conf that is not a config is skipped');
    assert.ok(summary.errors >= 3 && summary.warnings >= 2, JSON.stringify(summary));
    assert.ok(!vscode.workspace.textDocuments.some(d => d.uri.fsPath === a.fsPath), 'the command does not open the files');
    assert.deepStrictEqual(ours(a).map(codeOf).sort(), summary.byFile[a.fsPath].map(f => f.code).sort());
    assert.ok(ours(a).some(d => codeOf(d) === 'leg2-invalid-value'));
    assert.ok(ours(b).some(d => codeOf(d) === 'leg2-no-ca'));
    assert.ok(ours(sniffed).some(d => codeOf(d) === 'leg2-no-client-auth'));
    // the demo configs of the workspace are in there too
    assert.ok(summary.files.some(f => f.endsWith(path.join('nginx', 'site.conf'))));
    assert.ok(summary.files.some(f => f.endsWith(path.join('apache', 'site.conf'))));
  });

  it('"mTLS: Explain Origin Config Rule" opens the explanation beside the editor', async () => {
    const uri = await vscode.commands.executeCommand<string>('mtls.lint.explain', 'leg2-optional-unchecked');
    assert.strictEqual(uri, 'mtls-rule:/leg2-optional-unchecked.md');
    const doc = await waitFor(() => vscode.window.activeTextEditor?.document.uri.toString() === uri && vscode.window.activeTextEditor.document, 'the explanation editor');
    assert.match(doc.getText(), /ssl_client_verify/);
  });

  it('contributes snippets for nginx and Apache', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const snippets: { language: string; path: string }[] = ext.packageJSON.contributes.snippets;
    for (const lang of ['nginx', 'apacheconf']) {
      const s = snippets.find(x => x.language === lang);
      assert.ok(s, `snippets for ${lang}`);
      const body = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, s.path), 'utf8'));
      assert.ok(Object.keys(body).length >= 3);
    }
    // the snippet is offered by completion in an nginx file
    const doc = await open('hosttest/nginx/snippet.conf', 'aop-ser');
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, new vscode.Position(0, 7));
    assert.ok(list.items.some(i => (typeof i.label === 'string' ? i.label : i.label.label) === 'aop-server'), list.items.map(i => (typeof i.label === 'string' ? i.label : i.label.label)).slice(0, 30).join(', '));
  });
});
