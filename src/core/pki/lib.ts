// Lazy loader for node-forge, so that importing src/core/pki (e.g. on extension activation) costs nothing
// until a PKCS#12 file is read or a legacy one is written.
type ForgeModule = typeof import('node-forge');

let forgeModule: ForgeModule | undefined;

export function forge(): ForgeModule {
  if (!forgeModule) forgeModule = require('node-forge');
  return forgeModule!;
}
