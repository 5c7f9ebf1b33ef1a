// Certificate signing requests (PKCS#10) made locally, so a CA elsewhere (the Cloudflare-managed CA) can sign
// a key that never leaves this machine. Node's crypto signs; the DER layout is the PKI core's.
import * as crypto from 'crypto';
import { bitString, explicit, int, seq } from './der';
import { encodeName, signatureAlgorithmFor } from './x509';

/** A CSR (PEM) for `keyPem` with subject CN (and O), no extensions requested. */
export function createCsr(keyPem: string, cn: string, org?: string): string {
  const key = crypto.createPrivateKey(keyPem);
  const spki = crypto.createPublicKey(key).export({ type: 'spki', format: 'der' }) as Buffer;
  // CertificationRequestInfo: version 0, subject, subjectPKInfo, attributes [0] (empty).
  const info = seq(int(0), encodeName(cn, org), spki, explicit(0, Buffer.alloc(0)));
  const { algId, hash } = signatureAlgorithmFor(key);
  const signature = crypto.sign(hash, info, key);
  const der = seq(info, algId, bitString(signature));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n`;
}
