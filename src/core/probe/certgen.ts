// Throw-away certificates made in memory: the "foreign" client certificate from a fresh, unrelated CA that
// the probes present to prove a server refuses strangers, and the local edge's own server certificate.
// They come from the PKI core (createRootCa + issueCertificate), so the project has one certificate writer,
// the one checked against openssl in test/unit/pki.
import { createRootCa, issueCertificate } from '../pki/certs';

export interface EphemeralCert {
  certPem: string;
  keyPem: string;
  caPem: string;
}

/** A fresh CA (P-256) and a leaf from it: `client` (clientAuth) or `server` (serverAuth with SANs); 2 days unless told. */
export async function makeEphemeralPair(options: { caCn: string; cn: string; profile: 'client' | 'server'; sans?: string[]; days?: number }): Promise<EphemeralCert> {
  const days = options.days ?? 2;
  const ca = await createRootCa({ cn: options.caCn, org: 'mTLS Workbench (throw-away)', key: 'ec-p256', days });
  // A CN is at most 64 characters (X.509 upper bound, checked by the PKI core); a longer hostname still is
  // the leaf's SAN, which is all TLS clients match.
  const cn = options.cn.length <= 64 ? options.cn : options.cn.slice(0, 64);
  const leaf = await issueCertificate(ca, { cn, profile: options.profile, sans: options.sans, key: 'ec-p256', days });
  return { certPem: leaf.certPem, keyPem: leaf.keyPem, caPem: ca.certPem };
}

let foreign: Promise<EphemeralCert> | undefined;

/** The foreign client certificate, made once per process (one P-256 CA and leaf, Node's async keygen). */
export function foreignClientCert(): Promise<EphemeralCert> {
  foreign ??= makeEphemeralPair({ caCn: 'Unrelated Throw-away CA', cn: 'mtls-probe-foreign-client', profile: 'client' })
    .catch(err => { foreign = undefined; throw err; }); // a failure is not cached
  return foreign;
}
