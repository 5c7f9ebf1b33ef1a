// Test certificates (ECDSA P-256, fast): a client CA, and an origin-pull CA with a leaf for AOP.
import 'reflect-metadata';
import * as crypto from 'crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(crypto.webcrypto as unknown as Crypto);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface TestCert { certPem: string; keyPem: string; cert: x509.X509Certificate; keys: CryptoKeyPair }

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await crypto.webcrypto.subtle.exportKey('pkcs8', keys.privateKey as any));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

export async function makeCa(cn: string): Promise<TestCert> {
  const keys = await crypto.webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${cn}, O=mTLS Workbench Tests`, keys, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 365 * 86400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys), cert, keys };
}

export async function makeLeaf(issuer: TestCert, cn: string, usage: 'client' | 'server' = 'client'): Promise<TestCert> {
  const keys = await crypto.webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${cn}`, issuer: issuer.cert.subject, publicKey: keys.publicKey, signingKey: issuer.keys.privateKey, signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 90 * 86400_000),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys), cert, keys };
}

export interface TestPki { clientCa: TestCert; otherCa: TestCert; pullCa: TestCert; pullLeaf: TestCert }
let cached: Promise<TestPki> | undefined;
/** One set per test run. */
export function testPki(): Promise<TestPki> {
  cached ??= (async () => {
    const clientCa = await makeCa('Workspace Client CA');
    const otherCa = await makeCa('Somebody Else CA');
    const pullCa = await makeCa('Workspace Origin-Pull CA');
    const pullLeaf = await makeLeaf(pullCa, 'cloudflare-origin-pull', 'client');
    return { clientCa, otherCa, pullCa, pullLeaf };
  })();
  return cached;
}
