// Rule explanations, offline: diagnostics link their code to `mtls-rule:/<code>.md`, a read-only markdown
// document built from RULES; "mTLS: Explain Origin Config Rule" opens the same document.
import * as vscode from 'vscode';
import { UserCancelled } from '../../core/errors';
import { registerMtlsCommand } from '../commands';
import { loadCore, ruleUri } from './core';

/** What the quick-fixes do, per rule (also in the README's rules table). */
export const FIX_SUMMARY: Record<string, string> = {
  'leg2-no-client-auth': 'Add the AOP directives in the block\'s indentation (nginx `ssl_client_certificate <CA>; ssl_verify_client on; ssl_verify_depth 1;`, Apache `SSLVerifyClient require`, `SSLVerifyDepth 1`, `SSLCACertificateFile <CA>`), with the CA path on the server (`mtls.lint.serverCaPath.nginx` / `.apache` / `.caddy` / `.haproxy`) for the Cloudflare origin-pull CA, a workspace CA, or a CA file you choose, then an offer to save the CA file beside the config; an existing `off`/`none` is switched on. Caddy: `client_auth { mode require_and_verify; trusted_ca_cert_file <CA> }` in the site\'s `tls`; HAProxy: `ca-file <CA> verify required` on the bind or the crt-list line. Or mark the block `# mtls-lint: ignore leg2-no-client-auth`.',
  'leg2-no-ca': 'Add `ssl_client_certificate <CA>;` / `SSLCACertificateFile <CA>` right after the verification directive; when the CA sits in `ssl_trusted_certificate`, move it to `ssl_client_certificate` instead (preferred). Caddy: `trusted_ca_cert_file <CA>` and `mode require_and_verify`; HAProxy: `ca-file <CA>` after `verify`.',
  'leg2-optional-unchecked': 'Make verification required (`ssl_verify_client on` / `SSLVerifyClient require`, preferred), or keep `optional` and reject unverified clients: nginx `if ($ssl_client_verify != SUCCESS) { return 403; }`, Apache `<If "%{SSL_CLIENT_VERIFY} != \'SUCCESS\'"> Require all denied </If>`. Caddy: `mode require_and_verify`. HAProxy: `verify required`, or `http-request deny unless { ssl_c_used } { ssl_c_verify 0 }` (preferred with ignored certificate errors).',
  'leg2-invalid-value': 'Replace the value with the one the server accepts (nginx `require` -> `on`, Caddy -> `require_and_verify`, HAProxy -> `required`); `ssl_verify_client` inside a `location` is moved to the server block.',
  'leg2-per-directory-verify': 'Move client verification to the virtual host: the `SSLVerifyClient` in the `<Location>`/`<Directory>` is removed and `SSLVerifyClient require` is set for the whole vhost.',
  'leg2-ca-file': 'Point the CA directive at the Cloudflare origin-pull CA, a workspace CA or a CA file you choose (Apache `SSLCACertificatePath` becomes `SSLCACertificateFile`).',
  'leg2-trusted-not-sent': 'Rename `ssl_trusted_certificate` to `ssl_client_certificate`.',
  'leg2-verify-depth': 'Add `ssl_verify_depth 1;` / `SSLVerifyDepth 1` after the verification directive, or lower the existing depth.',
  'tls-no-certificate': 'No automatic fix: point `ssl_certificate`/`ssl_certificate_key` (`SSLCertificateFile`/`SSLCertificateKeyFile`) at the origin certificate and key.',
};

export class RuleDocumentProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const code = uri.path.replace(/^\//, '').replace(/\.md$/, '');
    const { RULES } = await loadCore();
    const rule = (RULES as Record<string, { severity: string; title: string; explanation: string; docs: string }>)[code];
    if (!rule) return `# ${code}\n\nNo such mTLS lint rule. Rules: ${Object.keys(RULES).join(', ')}.\n`;
    const lines = [
      `# ${code}: ${rule.title}`,
      '',
      `Severity: ${rule.severity}. Reported by mTLS Workbench (source \`mtls\`).`,
      '',
      rule.explanation,
      '',
    ];
    if (FIX_SUMMARY[code]) lines.push('## Quick-fixes', '', FIX_SUMMARY[code], '');
    if (code.startsWith('leg2-')) {
      lines.push('## Silencing', '', `For a site that is not behind Cloudflare, write \`# mtls-lint: ignore ${code}\` in its server block / virtual host, or add \`${code}\` to the setting \`mtls.lint.ignore\`.`, '');
    }
    lines.push('## Documentation', '', rule.docs, '');
    return lines.join('\n');
  }
}

export function registerExplain(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(registerMtlsCommand('mtls.lint.explain', {}, async (code?: string) => {
    if (typeof code !== 'string' || !code) {
      const { RULES } = await loadCore();
      const pick = await vscode.window.showQuickPick(
        Object.entries(RULES).map(([c, r]) => ({ label: c, description: r.severity, detail: r.title })),
        { title: 'mTLS: Explain Origin Config Rule', matchOnDetail: true },
      );
      if (!pick) throw new UserCancelled();
      code = pick.label;
    }
    const doc = await vscode.workspace.openTextDocument(ruleUri(code));
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside, preserveFocus: false });
    return doc.uri.toString();
  }));
}
