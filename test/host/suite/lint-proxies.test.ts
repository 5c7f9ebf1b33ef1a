// Caddy and HAProxy configs in the real extension host: the files open in their languages, get diagnostics,
// and the quick-fixes (through vscode.executeCodeActionProvider) write the server-side CA path.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';

import { EXTENSION_ID, waitFor, workspaceRoot } from './support';

function codeOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' && d.code ? String(d.code.value) : String(d.code);
}

async function openConfig(rel: string, text: string): Promise<vscode.TextDocument> {
  const file = path.join(workspaceRoot(), rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  await vscode.window.showTextDocument(doc);
  return doc;
}

async function fixFor(doc: vscode.TextDocument, code: string): Promise<vscode.CodeAction[]> {
  const d = await waitFor(() => vscode.languages.getDiagnostics(doc.uri).find(x => x.source === 'mtls' && codeOf(x) === code), `${code} on ${doc.uri.fsPath}`);
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
  return actions ?? [];
}

describe('Origin config linting: Caddy and HAProxy', function () {
  this.timeout(90000);
  before(async () => { await vscode.extensions.getExtension(EXTENSION_ID)!.activate(); });
  afterEach(async () => {
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a Caddyfile opens as caddyfile, and the preferred quick-fix adds client_auth with the server-side CA', async () => {
    const doc = await openConfig('hosttest/caddy/Caddyfile', 'example.com {\n\ttls /etc/caddy/origin.pem /etc/caddy/origin.key\n\treverse_proxy 127.0.0.1:8080\n}\n');
    assert.strictEqual(doc.languageId, 'caddyfile');
    const actions = await fixFor(doc, 'leg2-no-client-auth');
    const preferred = actions.find(a => a.isPreferred && a.edit);
    assert.ok(preferred, actions.map(a => a.title).join(' | '));
    assert.ok(await vscode.workspace.applyEdit(preferred.edit!));
    assert.match(doc.getText(), /client_auth \{\n\t\t\tmode require_and_verify\n\t\t\ttrusted_ca_cert_file \/etc\/caddy\/cloudflare\/origin-pull-ca\.pem\n\t\t\}/);
    await waitFor(() => !vscode.languages.getDiagnostics(doc.uri).some(x => x.source === 'mtls' && codeOf(x) === 'leg2-no-client-auth'), 'the finding to go');
  });

  it('"mTLS: Lint Origin Configs" includes the demo Caddyfile and haproxy.cfg', async () => {
    const summary = await vscode.commands.executeCommand<{ files: string[]; byFile: Record<string, { code: string }[]> }>('mtls.lintWorkspace');
    const caddy = summary?.files.find(f => f.endsWith(path.join('caddy', 'Caddyfile')));
    const haproxy = summary?.files.find(f => f.endsWith(path.join('haproxy', 'haproxy.cfg')));
    assert.ok(caddy && haproxy, JSON.stringify(summary?.files));
    assert.ok(summary!.byFile[caddy].some(f => f.code === 'leg2-optional-unchecked'), JSON.stringify(summary!.byFile[caddy]));
    assert.ok(summary!.byFile[haproxy].some(f => f.code === 'leg2-optional-unchecked'), JSON.stringify(summary!.byFile[haproxy]));
  });

  it('haproxy.cfg opens as haproxy, and verify optional gets "verify required" and the deny rule as fixes', async () => {
    const doc = await openConfig('hosttest/haproxy/haproxy.cfg', 'frontend fe\n    mode http\n    bind :443 ssl crt /etc/haproxy/site.pem ca-file /etc/haproxy/ca.pem verify optional\n    default_backend app\n');
    assert.strictEqual(doc.languageId, 'haproxy');
    const actions = await fixFor(doc, 'leg2-optional-unchecked');
    const titles = actions.map(a => a.title);
    assert.ok(titles.includes('Require the client certificate (verify required)'), titles.join(' | '));
    const deny = actions.find(a => a.title.includes('http-request deny unless { ssl_c_used } { ssl_c_verify 0 }'));
    assert.ok(deny?.edit);
    assert.ok(await vscode.workspace.applyEdit(deny.edit));
    assert.ok(doc.getText().includes('verify optional\n    http-request deny unless { ssl_c_used } { ssl_c_verify 0 }\n'), doc.getText());
  });

  it('mtls.lint.serverCaPath.haproxy is the CA path the preferred quick-fix writes', async () => {
    const config = vscode.workspace.getConfiguration('mtls.lint');
    await config.update('serverCaPath.haproxy', '/srv/haproxy/pki/origin-pull.pem', vscode.ConfigurationTarget.Workspace);
    try {
      const doc = await openConfig('hosttest/haproxy/open.cfg', 'frontend fe\n    mode http\n    bind :443 ssl crt /etc/haproxy/site.pem\n    default_backend app\n');
      assert.strictEqual(doc.languageId, 'haproxy');
      const actions = await fixFor(doc, 'leg2-no-client-auth');
      const preferred = actions.find(a => a.isPreferred && a.edit);
      assert.ok(preferred, actions.map(a => a.title).join(' | '));
      assert.ok(await vscode.workspace.applyEdit(preferred.edit!));
      assert.ok(doc.getText().includes('bind :443 ssl crt /etc/haproxy/site.pem ca-file /srv/haproxy/pki/origin-pull.pem verify required\n'), doc.getText());
    } finally {
      await config.update('serverCaPath.haproxy', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
