// Expiry colours through file decorations: tree rows carry a resourceUri of their own scheme, so only
// this provider decorates them (git or problem decorations of the PEM file never leak in).
import * as vscode from 'vscode';
import type { ExpiryStatus } from './present';

export const STATUS_SCHEME = 'mtls-status';

export function statusUri(certPath: string, status: ExpiryStatus): vscode.Uri {
  return vscode.Uri.from({ scheme: STATUS_SCHEME, path: certPath, query: `status=${status}` });
}

export function statusOf(uri: vscode.Uri): ExpiryStatus | undefined {
  if (uri.scheme !== STATUS_SCHEME) return undefined;
  const m = /(?:^|&)status=([a-z-]+)/.exec(uri.query);
  return m?.[1] as ExpiryStatus | undefined;
}

/** The decoration a status gets; exported for tests. */
export function decorationFor(status: ExpiryStatus | undefined): vscode.FileDecoration | undefined {
  switch (status) {
    case 'expired': return new vscode.FileDecoration('✗', 'Expired', new vscode.ThemeColor('list.errorForeground'));
    case 'soon': return new vscode.FileDecoration('!', 'Expires soon', new vscode.ThemeColor('list.warningForeground'));
    case 'not-yet-valid': return new vscode.FileDecoration('…', 'Not yet valid', new vscode.ThemeColor('list.warningForeground'));
    case 'revoked': return new vscode.FileDecoration('R', 'Revoked', new vscode.ThemeColor('disabledForeground'));
    default: return undefined;
  }
}

export class ExpiryDecorationProvider implements vscode.FileDecorationProvider {
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    return decorationFor(statusOf(uri));
  }
}
