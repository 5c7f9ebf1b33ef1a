// Bundles the extension (loaded by VS Code) and the `mtls` CLI (run by Node) from the same core.
// The heavy runtime dependencies get bundles of their own beside them, which the extension and the CLI require
// on first use only: dist/cloudflare.js (the part of the Cloudflare SDK the setup plan calls) and
// dist/node-forge.js. So activation and `mtls lint` parse neither, and the packaged .vsix ships no node_modules.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Module name -> the lazily loaded bundle (next to extension.js and cli.js) that stands in for it. */
const lazyBundles = { cloudflare: './cloudflare.js', 'node-forge': './node-forge.js' };

/**
 * Resolves `cloudflare` and `node-forge` to a stub that requires their own bundle at run time. A stub (rather
 * than a bare external) keeps `import('cloudflare')` a lazy `require`, so the module shape is the same as in
 * the unbundled sources and the tests.
 */
const lazyBundlePlugin = {
  name: 'lazy-bundles',
  setup(build) {
    build.onResolve({ filter: /^(cloudflare|node-forge)$/ }, args => ({ path: args.path, namespace: 'lazy-bundle' }));
    build.onResolve({ filter: /^\.\/.*\.js$/, namespace: 'lazy-bundle' }, args => ({ path: args.path, external: true }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-bundle' }, args => ({ contents: `module.exports = require(${JSON.stringify(lazyBundles[args.path])});`, loader: 'js' }));
  },
};

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
};

const builds = [
  { ...common, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'], plugins: [lazyBundlePlugin] },
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, plugins: [lazyBundlePlugin] },
  // The linter's worker thread: the editor lints off the extension host's main thread.
  { ...common, entryPoints: ['src/core/lint/worker.ts'], outfile: 'dist/lintWorker.js', plugins: [lazyBundlePlugin] },
  // The store scan's worker threads: a large cold scan reads and verifies certificates on every core.
  { ...common, entryPoints: ['src/core/pki/scanWorker.ts'], outfile: 'dist/scanWorker.js' },
  // Error handling tells SDK errors apart by their class names (APIConnectionError...): this bundle keeps them.
  // Only this one: keeping names wraps every function the code creates, closures in hot loops included.
  { ...common, entryPoints: ['src/core/cloudflare/sdkSubset.ts'], outfile: 'dist/cloudflare.js', keepNames: true },
  { ...common, entryPoints: ['node_modules/node-forge/lib/index.js'], outfile: 'dist/node-forge.js' },
  // The webview script runs in the browser sandbox of the webview, not in Node.
  { ...common, platform: 'browser', format: 'iife', target: 'es2022', entryPoints: ['src/webview/guide.ts'], outfile: 'dist/webview/guide.js' },
];

async function main() {
  const active = builds.filter(b => b.entryPoints.every(e => fs.existsSync(path.join(__dirname, e))));
  if (watch) {
    for (const b of active) (await esbuild.context(b)).watch();
    console.log('[esbuild] watching');
    return;
  }
  // A release build starts from an empty dist/, so no source map of an earlier build ships in the .vsix.
  if (production) fs.rmSync(path.join(__dirname, 'dist'), { recursive: true, force: true });
  await Promise.all(active.map(b => esbuild.build(b)));
  fs.chmodSync(path.join(__dirname, 'dist/cli.js'), 0o755);
}

main().catch(err => { console.error(err); process.exit(1); });
