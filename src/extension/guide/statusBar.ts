import * as vscode from 'vscode';
import { STATUS_MARK as MARK, STATUS_WORD as WORD } from '../../core/cloudflare/steps';
import { GuideService, LegSummary } from './service';

export function statusBarText(legs: LegSummary | undefined): string {
  return legs ? `$(shield) Leg 1 ${MARK[legs.leg1]} · Leg 2 ${MARK[legs.leg2]}` : '$(shield) Cloudflare mTLS';
}

/**
 * Both legs at a glance: `$(shield) Leg 1 ✓ · Leg 2 ✗`. Shown while a Cloudflare API token is stored;
 * updated after every status read; a click opens the setup guide.
 */
export class GuideStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly service: GuideService) {
    this.item = vscode.window.createStatusBarItem('mtls.cloudflareStatus', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'mTLS: Cloudflare legs';
    this.item.command = 'mtls.openSetupGuide';
    this.subs.push(service.onDidChangeLegStatus(() => void this.update()), service.tokens.onDidChange(() => void this.update()));
    void this.update();
  }

  async update() {
    const legs = this.service.lastLegs;
    const tokenSet = await this.service.tokens.isSet().catch(() => false);
    this.item.text = statusBarText(legs);
    const md = new vscode.MarkdownString(undefined, true);
    if (legs) {
      md.appendMarkdown(`**Cloudflare mTLS** — zone \`${legs.zone ?? '?'}\`\n\n`);
      md.appendMarkdown(`- Leg 1 (visitor → Cloudflare): ${WORD[legs.leg1]}${legs.caName ? ` — CA ${legs.caName}` : ''}\n`);
      md.appendMarkdown(`- Leg 2 (Cloudflare → origin): ${WORD[legs.leg2]}\n\n`);
      for (const l of legs.lines) md.appendText(`${l}\n`).appendMarkdown('\n');
      md.appendMarkdown(`\nRead ${new Date(legs.readAt).toLocaleTimeString()}. Click to open the setup guide.`);
      this.item.backgroundColor = legs.leg1 === 'done' && legs.leg2 === 'done' ? undefined : new vscode.ThemeColor('statusBarItem.warningBackground');
      this.item.accessibilityInformation = { label: `Cloudflare mTLS: leg 1 ${WORD[legs.leg1]}, leg 2 ${WORD[legs.leg2]}. Open the setup guide.` };
    } else {
      md.appendMarkdown('**Cloudflare mTLS**: not checked yet. Click to open the setup guide.');
      this.item.backgroundColor = undefined;
      this.item.accessibilityInformation = { label: 'Cloudflare mTLS: not checked. Open the setup guide.' };
    }
    this.item.tooltip = md;
    // Without a token there is nothing to show (a status read before the token was cleared is stale).
    if (tokenSet) this.item.show();
    else this.item.hide();
  }

  dispose() {
    for (const s of this.subs) s.dispose();
    this.item.dispose();
  }
}
