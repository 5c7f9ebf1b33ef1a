import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../../..');
const LITERAL_COLOUR = /#[0-9a-fA-F]{3,8}\b|\b(rgba?|hsla?)\(|(?<![-\w])(white|black|red|green|blue|gray|grey|orange|yellow)(?![-\w])/;

// The guide webview follows the VS Code theme (light, dark, high contrast): its stylesheet and the HTML and
// script that build it use theme colour variables only.
describe('theme colours only', () => {
  it('media/guide.css declares no literal colour', () => {
    const css = fs.readFileSync(path.join(ROOT, 'media/guide.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    const literal: string[] = [];
    for (const m of css.matchAll(/([a-z-]+)\s*:\s*([^;{}]+)[;}]/g)) {
      const [, property, value] = m;
      if (/^--|color|background|border|outline|shadow|fill|stroke/.test(property) && LITERAL_COLOUR.test(value)) literal.push(`${property}: ${value.trim()}`);
    }
    assert.deepStrictEqual(literal, []);
  });

  it('the guide panel HTML and the webview script set no inline colour', () => {
    for (const file of ['src/extension/guide/panel.ts', 'src/webview/guide.ts']) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      const inline = [...text.matchAll(/style\s*[:=]\s*['"`]([^'"`]*)['"`]/g)].map(m => m[1]).filter(v => LITERAL_COLOUR.test(v));
      assert.deepStrictEqual(inline, [], file);
    }
  });
});
