// Drives the VS Code workbench like a person: command palette, activity bar, tree rows, context menus,
// notifications, webviews, screenshots. Shared by every UI test under test/ui/.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './codeServer.mjs';

export const SCREENSHOT_DIR = process.env.MTLS_SCREENSHOT_DIR ?? path.join(ROOT, 'out/screenshots');
/** The README's pictures. */
const PUBLISHED_DIR = path.join(ROOT, 'media/screenshots');
/** MTLS_UI_THEME=light: the UI tests run in Light Modern and their screenshots are named <name>-light.png. */
export const LIGHT_THEME = process.env.MTLS_UI_THEME === 'light';

export class Workbench {
  constructor(page) { this.page = page; }

  async ready() {
    const p = this.page;
    await p.locator('.monaco-workbench .part.activitybar').waitFor({ timeout: 60000 });
    await p.locator('.part.statusbar').waitFor();
    // The extension is activated on demand; wait until its view container is in the activity bar.
    await p.waitForTimeout(500);
  }

  async runCommand(title) {
    const p = this.page;
    const input = p.locator('.quick-input-widget .quick-input-box input');
    // F1 can be swallowed while a webview or a closing widget holds the focus: retry, putting the focus
    // back on the workbench (the status bar's empty area) before each further attempt.
    for (let attempt = 0; ; attempt++) {
      await p.keyboard.press('Escape');
      await p.keyboard.press('F1');
      try {
        await input.waitFor({ timeout: 5000 });
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await p.locator('.part.statusbar').click({ position: { x: 600, y: 10 } }).catch(() => undefined);
      }
    }
    await input.fill('>' + title);
    await p.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
    await p.keyboard.press('Enter');
  }

  /** Answers an input box or quick pick: types the value and presses Enter. */
  async answer(value, { expectPrompt } = {}) {
    const p = this.page;
    const widget = p.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible' });
    if (expectPrompt) await widget.locator(`text=${expectPrompt}`).first().waitFor();
    const input = widget.locator('.quick-input-box input');
    await input.fill(value);
    await p.waitForTimeout(150);
    await p.keyboard.press('Enter');
    await p.waitForTimeout(200);
  }

  /** Picks a quick-pick item by its visible label. */
  async pick(label) {
    const p = this.page;
    const row = p.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor();
    await row.click();
    await p.waitForTimeout(200);
  }

  async openViewContainer(ariaLabelStart) {
    const item = this.page.locator(`.part.activitybar a.action-label[aria-label^="${ariaLabelStart}"]`);
    await item.waitFor();
    const selected = await item.evaluate(e => e.closest('.action-item')?.classList.contains('checked'));
    if (!selected) await item.click();
  }

  treeRow(text) {
    return this.page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first();
  }

  async treeRows() {
    return this.page.locator('.part.sidebar .monaco-list-row').allInnerTexts();
  }

  async contextMenu(rowText, itemLabel) {
    const p = this.page;
    await this.treeRow(rowText).click({ button: 'right' });
    const item = p.locator('.context-view .monaco-menu .action-item', { hasText: itemLabel }).first();
    await item.waitFor();
    await item.hover();
    await p.waitForTimeout(150);
    await item.click();
  }

  notification(text) {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  }

  /** The DOM inside the active webview (outer iframe.webview -> inner iframe#active-frame). */
  webview(index = 0) {
    return this.page.frameLocator('iframe.webview.ready').nth(index).frameLocator('iframe#active-frame');
  }

  async screenshot(name) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const base = name.replace(/\.png$/, '');
    const file = path.join(SCREENSHOT_DIR, `${base}${LIGHT_THEME && !base.endsWith('-light') ? '-light' : ''}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * A picture the README shows: taken as `screenshot` does, then copied over media/screenshots/<name>.png
   * (<name>-light.png in the light theme), so every UI run refreshes the README.
   */
  async publishScreenshot(name) {
    const shot = await this.screenshot(name);
    const target = path.join(PUBLISHED_DIR, path.basename(shot));
    fs.mkdirSync(PUBLISHED_DIR, { recursive: true });
    fs.copyFileSync(shot, target);
    return target;
  }
}
