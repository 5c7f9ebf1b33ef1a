// Bundles the extension (loaded by VS Code) and the `mtls` CLI (run by Node) from the same core.
// The heavy runtime dependencies stay outside the bundles and are required from node_modules on first use:
// the Cloudflare SDK alone is 2.7 MB that every activation and every `mtls lint` would otherwise parse.
const esbuild = require('esbuild');
const path = require('path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  external: ['cloudflare', 'node-forge'],
};

const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: [...common.external, 'vscode'] },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  // The linter's worker thread: the editor lints off the extension host's main thread.
  { ...common, entryPoints: ['src/core/lint/worker.ts'], outfile: 'dist/lintWorker.js' },
  // The webview script runs in the browser sandbox of the webview, not in Node.
  { ...common, external: [], platform: 'browser', format: 'iife', target: 'es2022', entryPoints: ['src/webview/guide.ts'], outfile: 'dist/webview/guide.js' },
];

async function main() {
  const fs = require('fs');
  const active = builds.filter(b => b.entryPoints.every(e => fs.existsSync(path.join(__dirname, e))));
  if (watch) {
    for (const b of active) (await esbuild.context(b)).watch();
    console.log('[esbuild] watching');
    return;
  }
  await Promise.all(active.map(b => esbuild.build(b)));
  fs.chmodSync(path.join(__dirname, 'dist/cli.js'), 0o755);
}

main().catch(err => { console.error(err); process.exit(1); });
