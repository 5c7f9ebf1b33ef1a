// "Inspect Certificate" opens a read-only document of scheme `mtls-cert` with everything core's inspect
// knows, plus what the store adds (key file, issuing CA, revocation, verification against the issuer).
import { readRegularFile } from '../../core/fsutil';
import * as path from 'path';
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import type { CertificateTreeProvider } from './tree';
import { inspectText } from './present';
import { warnDays } from './tree';

export const INSPECT_SCHEME = 'mtls-cert';

export function inspectUri(certPath: string, label: string): vscode.Uri {
  const safe = label.replace(/[\\/:*?"<>|]/g, '_');
  return vscode.Uri.from({ scheme: INSPECT_SCHEME, path: `/${safe} (certificate).txt`, query: certPath });
}

export class InspectDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly tree: CertificateTreeProvider) {}

  dispose() { this.changed.dispose(); }

  /** Re-renders every open inspect document (after the store changed). */
  refreshOpen(): void {
    for (const doc of vscode.workspace.textDocuments) if (doc.uri.scheme === INSPECT_SCHEME) this.changed.fire(doc.uri);
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const certPath = uri.query;
    try {
      return await this.render(certPath);
    } catch (err) {
      return `Cannot inspect ${certPath}\n\n${describeError(err)}\n`;
    }
  }

  async render(certPath: string): Promise<string> {
    const pki = await import('../../core/pki');
    const days = warnDays();
    const node = this.tree.find(certPath);
    if (!node) {
      const data = await readRegularFile(certPath);
      const info = pki.inspectCertificate(data, certPath);
      return inspectText({ name: path.basename(certPath), info, certPath }, days);
    }
    const entry = node.entry;
    const model = this.tree.model;
    const extra: Parameters<typeof inspectText>[2] = {};
    if (entry.issuerPath && entry.issuerPath !== entry.certPath) {
      const issuer = model.cas.get(entry.issuerPath);
      if (issuer) {
        extra.issuerName = issuer.name;
        extra.verify = pki.verifyCertificate(entry.info.pem, issuer.info.pem);
        if (issuer.revocations.length) extra.cloudflareExpression = await pki.caRevocationExpression(issuer.dir);
      }
    }
    return inspectText(entry, days, extra);
  }
}
