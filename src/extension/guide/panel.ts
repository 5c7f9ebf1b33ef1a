// The webview panel of the setup guide: one per window, revived after a reload by the serializer.
import * as vscode from 'vscode';
import { randomBytes } from 'crypto';
import { GuideController } from './controller';
import { GuideService } from './service';

export const GUIDE_VIEW_TYPE = 'mtls.setupGuide';

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    // Only our stylesheet and the bundled script: nothing else of the disk is reachable from the webview.
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media'), vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
  };
}

/** The page: a strict CSP with a per-load nonce, our CSS and script, no inline code or styles, nothing remote. */
export function guideHtml(webview: vscode.Webview, extensionUri: vscode.Uri, nonce = randomBytes(18).toString('base64')): string {
  const css = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'guide.css'));
  const js = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'guide.js'));
  const csp = [
    `default-src 'none'`,
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${css}">
<title>Cloudflare Setup Guide</title>
</head>
<body>
<main id="app" aria-label="Cloudflare setup guide"></main>
<script nonce="${nonce}" src="${js}"></script>
</body>
</html>`;
}

export class GuidePanels implements vscode.Disposable {
  private current: { panel: vscode.WebviewPanel; controller: GuideController } | undefined;

  constructor(private readonly service: GuideService, private readonly extensionUri: vscode.Uri) {}

  get panel(): vscode.WebviewPanel | undefined {
    return this.current?.panel;
  }

  /** Opens the guide, or brings the open one to the front. */
  open(column = vscode.ViewColumn.Active): vscode.WebviewPanel {
    if (this.current) {
      this.current.panel.reveal(column);
      return this.current.panel;
    }
    const panel = vscode.window.createWebviewPanel(GUIDE_VIEW_TYPE, 'Cloudflare Setup Guide', column, {
      ...webviewOptions(this.extensionUri),
      retainContextWhenHidden: false, // the webview keeps its state with setState; the serializer revives it
    });
    this.attach(panel);
    return panel;
  }

  /** Wires a new or revived panel: options, page, messages. */
  attach(panel: vscode.WebviewPanel) {
    this.current?.panel.dispose();
    panel.webview.options = webviewOptions(this.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'mtls.svg');
    const controller = new GuideController(this.service, msg => panel.webview.postMessage(msg));
    const subs = [
      panel.webview.onDidReceiveMessage(m => controller.handle(m)),
      controller,
    ];
    panel.onDidDispose(() => {
      for (const s of subs) s.dispose();
      if (this.current?.panel === panel) this.current = undefined;
    });
    this.current = { panel, controller };
    panel.webview.html = guideHtml(panel.webview, this.extensionUri);
  }

  /** Reads the status again in the open guide (after the token or a setting changed). */
  async refresh() {
    await this.current?.controller.refresh();
  }

  dispose() {
    this.current?.panel.dispose();
  }
}

export class GuideSerializer implements vscode.WebviewPanelSerializer {
  constructor(private readonly panels: GuidePanels) {}

  async deserializeWebviewPanel(panel: vscode.WebviewPanel, _state: unknown): Promise<void> {
    // The webview restores what it showed from its own state; the controller then reads the live state.
    this.panels.attach(panel);
  }
}
