// The Cloudflare setup guide, editor side: the webview panel and its serializer, the token
// commands, the status bar item, and the per-leg status other views can show.
import * as vscode from 'vscode';
import type { SetupStatus } from '../../core/cloudflare/types';
import { UserCancelled } from '../../core/errors';
import { registerMtlsCommand } from '../commands';
import { Shared } from '../context';
import { GuideController, GuideUi, defaultUi } from './controller';
import { GUIDE_VIEW_TYPE, GuidePanels, GuideSerializer } from './panel';
import { ToWebview } from './protocol';
import { GuideService, LegSummary } from './service';
import { GuideStatusBar, statusBarText } from './statusBar';
import { TOKEN_SECRET_KEY, TokenStore, validateTokenShape } from './token';

export type { LegSummary } from './service';

/** What the guide adds to the extension's API (tests, and the Certificates tree for the per-leg status). */
export interface GuideApi {
  /** Opens (or reveals) the guide panel. */
  open(): vscode.WebviewPanel;
  /** The open guide panel, if any. */
  readonly panel: vscode.WebviewPanel | undefined;
  /** A message handler with its own `post`, for tests: drive it with `handle(msg)` like the webview does. */
  createController(post: (msg: ToWebview) => unknown, ui?: Partial<GuideUi>): GuideController;
  /** Both legs' Cloudflare status from the last read (undefined before one). */
  legStatus(): LegSummary | undefined;
  /** Fires after every status read (and when the status is reset). */
  readonly onDidChangeLegStatus: vscode.Event<LegSummary | undefined>;
  /** The status bar item's current text. */
  statusBarText(): string;
  /** The SecretStorage key the token lives under (the key, not the token). */
  readonly tokenSecretKey: string;
  /** Call after writing to the store so the guide picks up a new CA or origin-pull certificate. */
  storeChanged(): void;
  /** This extension's log folder (tests check that no log holds the token). */
  readonly logUri: vscode.Uri;
}

export function registerGuide(shared: Shared): GuideApi {
  const { context } = shared;
  const tokens = new TokenStore(context.secrets);
  const service = new GuideService(shared, tokens);
  const panels = new GuidePanels(service, context.extensionUri);
  const statusBar = new GuideStatusBar(service);
  context.subscriptions.push(tokens, service, panels, statusBar);

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(GUIDE_VIEW_TYPE, new GuideSerializer(panels)),

    registerMtlsCommand('mtls.openSetupGuide', {}, () => {
      panels.open();
    }),

    // With a string argument (scripts, tests) the token is taken as given; otherwise a password box asks.
    registerMtlsCommand('mtls.setCloudflareToken', {}, async (arg?: unknown): Promise<boolean> => {
      let token: string | undefined;
      if (typeof arg === 'string') {
        const problem = validateTokenShape(arg);
        if (problem) {
          void vscode.window.showErrorMessage(`mTLS: ${problem}`);
          return false;
        }
        token = arg.trim();
      } else {
        token = await vscode.window.showInputBox({
          title: 'Cloudflare API Token',
          prompt: 'Stored in VS Code\'s secret storage (never in settings). Permissions: Zone Read, SSL and Certificates Write, Zone Settings Write, Zone WAF Write.',
          password: true,
          ignoreFocusOut: true,
          placeHolder: 'Cloudflare dashboard: My Profile > API Tokens > Create Token',
          validateInput: validateTokenShape,
        });
        token = token?.trim();
      }
      if (!token) throw new UserCancelled();
      await tokens.set(token);
      shared.log.info('Cloudflare API token stored in secret storage.');
      await verifyToken(service, panels);
      return true;
    }),

    registerMtlsCommand('mtls.clearCloudflareToken', {}, async (): Promise<boolean> => {
      if (!(await tokens.isSet())) {
        void vscode.window.showInformationMessage('mTLS: no Cloudflare API token is stored.');
        return false;
      }
      await tokens.clear();
      shared.log.info('Cloudflare API token removed from secret storage.');
      void vscode.window.showInformationMessage('mTLS: the Cloudflare API token was removed from this machine\'s secret storage.');
      return true;
    }),

    // Reads the live state (no writes), updates the status bar and the open guide; returns the status.
    registerMtlsCommand('mtls.cloudflareStatus', {}, async (): Promise<SetupStatus | undefined> => {
      if (panels.panel) {
        await panels.refresh();
        return service.lastStatus;
      }
      const { status, error, inputs } = await service.readStatus();
      if (status) return status;
      if (error) void vscode.window.showErrorMessage(`mTLS: could not read the Cloudflare status: ${error.code !== undefined ? `error ${error.code}: ` : ''}${error.message}. ${error.meaning}`);
      else {
        const choice = await vscode.window.showInformationMessage(`mTLS: to read the Cloudflare status, set ${inputs.view.missing.join(', ')} in the setup guide.`, 'Open Setup Guide');
        if (choice) panels.open();
      }
      return undefined;
    }),
  );

  return {
    open: () => panels.open(),
    get panel() { return panels.panel; },
    createController: (post, ui) => new GuideController(service, post, { ...defaultUi, ...ui }),
    legStatus: () => service.lastLegs,
    onDidChangeLegStatus: service.onDidChangeLegStatus,
    statusBarText: () => statusBarText(service.lastLegs),
    tokenSecretKey: TOKEN_SECRET_KEY,
    storeChanged: () => service.storeChanged(),
    logUri: context.logUri,
  };
}

/** After a new token: check it against Cloudflare when everything else is set (and the workspace is trusted). */
async function verifyToken(service: GuideService, panels: GuidePanels) {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showInformationMessage('mTLS: Cloudflare API token saved. It is checked once the workspace is trusted.');
    return;
  }
  if (panels.panel) {
    await panels.refresh();
    const s = service.lastStatus;
    if (s && !s.tokenValid) void vscode.window.showWarningMessage('mTLS: Cloudflare API token saved, but Cloudflare did not accept it (see the setup guide).');
    return;
  }
  const { status, error, inputs } = await service.readStatus();
  if (status) {
    if (status.tokenValid) void vscode.window.showInformationMessage(`mTLS: Cloudflare API token saved and verified${status.zone ? ` (zone ${status.zone.name})` : ''}.`);
    else void vscode.window.showWarningMessage('mTLS: Cloudflare API token saved, but Cloudflare did not accept it as active.');
  } else if (error) {
    void vscode.window.showWarningMessage(`mTLS: Cloudflare API token saved, but the check failed: ${error.message}. ${error.meaning}`);
  } else {
    void vscode.window.showInformationMessage(`mTLS: Cloudflare API token saved in secret storage. Set ${inputs.view.missing.join(', ')} in the setup guide to check it.`);
  }
}
