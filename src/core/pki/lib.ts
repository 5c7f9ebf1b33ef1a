// Lazy loaders for the heavy libraries, so that importing src/core/pki (e.g. on extension activation)
// costs nothing until a certificate is actually built or parsed.
import * as crypto from 'crypto';

type X509Module = typeof import('@peculiar/x509');
type ForgeModule = typeof import('node-forge');

let x509Module: X509Module | undefined;
let forgeModule: ForgeModule | undefined;

/** @peculiar/x509 wired to Node's native WebCrypto (signatures run in OpenSSL, not in JavaScript). */
export function x509(): X509Module {
  if (!x509Module) {
    require('reflect-metadata'); // tsyringe (used by @peculiar/x509) needs the Reflect metadata API
    const m: X509Module = require('@peculiar/x509');
    m.cryptoProvider.set(crypto.webcrypto as unknown as Crypto);
    x509Module = m;
  }
  return x509Module;
}

export function forge(): ForgeModule {
  if (!forgeModule) forgeModule = require('node-forge');
  return forgeModule!;
}

export const subtle = crypto.webcrypto.subtle as unknown as SubtleCrypto;
export const webcrypto = crypto.webcrypto as unknown as Crypto;
