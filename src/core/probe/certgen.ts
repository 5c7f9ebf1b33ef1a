// Throw-away certificates made in memory: the "foreign" client certificate from a fresh, unrelated CA that
// the probes present to prove a server refuses strangers, and the local edge's own server certificate.
import * as crypto from 'crypto';
import { derToPem, mintCertificate, simpleName } from './der';

export interface EphemeralCert {
  certPem: string;
  keyPem: string;
  caPem: string;
}

function ecKey(): crypto.KeyPairKeyObjectResult {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** A fresh CA (P-256) and a leaf from it: `client` (clientAuth) or `server` (serverAuth with SANs). */
export function makeEphemeralPair(options: { caCn: string; cn: string; profile: 'client' | 'server'; sans?: string[]; days?: number }): EphemeralCert {
  const caKeys = ecKey();
  const caName = simpleName(options.caCn, 'mTLS Workbench (throw-away)');
  const ca = mintCertificate({ subject: caName, publicKey: caKeys.publicKey, signingKey: caKeys.privateKey, ca: true, days: options.days ?? 2 });
  const leafKeys = ecKey();
  const leaf = mintCertificate({
    subject: simpleName(options.cn),
    publicKey: leafKeys.publicKey,
    issuer: { name: caName, key: caKeys.privateKey, ski: ca.ski },
    eku: [options.profile === 'server' ? 'serverAuth' : 'clientAuth'],
    sans: options.sans,
    days: options.days ?? 2,
  });
  return {
    certPem: derToPem(leaf.der),
    keyPem: leafKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    caPem: derToPem(ca.der),
  };
}

let foreign: EphemeralCert | undefined;

/** The foreign client certificate, made once per process (one P-256 CA and leaf: about a millisecond). */
export function foreignClientCert(): EphemeralCert {
  foreign ??= makeEphemeralPair({ caCn: 'Unrelated Throw-away CA', cn: 'mtls-probe-foreign-client', profile: 'client' });
  return foreign;
}
