// Test certificates minted with the openssl CLI, independent of src/core/pki, so tests of other features
// (and interop checks of the core) have a reference PKI. Keys are EC P-256: fast to generate.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  /** Server certificate for `hostnames` plus IP 127.0.0.1, signed by the CA. */
  serverCert: string;
  serverKey: string;
  /** Client certificate (EKU clientAuth) signed by the CA. */
  clientCert: string;
  clientKey: string;
  /** A second, unrelated CA and a client certificate from it. */
  otherCaCert: string;
  otherClientCert: string;
  otherClientKey: string;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ecKey(dir: string, name: string): string {
  const file = path.join(dir, name);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file], dir);
  return file;
}

/** A self-signed CA: basicConstraints CA:TRUE, keyCertSign. */
export function makeCa(dir: string, name: string, cn: string, days = 30): { cert: string; key: string } {
  const key = ecKey(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-new', '-key', key, '-sha256', '-days', String(days), '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', cert], dir);
  return { cert, key };
}

/** A leaf signed by `ca`: profile 'server' (serverAuth + SANs) or 'client' (clientAuth). */
export function makeLeaf(dir: string, name: string, ca: { cert: string; key: string }, profile: 'server' | 'client', cn: string, sans: string[] = [], days = 30): { cert: string; key: string } {
  const key = ecKey(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.pem`);
  const ext = path.join(dir, `${name}.ext`);
  const lines = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', `extendedKeyUsage=${profile === 'server' ? 'serverAuth' : 'clientAuth'}`];
  if (sans.length) lines.push('subjectAltName=' + sans.map(s => (/^[\d.]+$/.test(s) ? `IP:${s}` : `DNS:${s}`)).join(','));
  fs.writeFileSync(ext, lines.join('\n') + '\n');
  openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', String(days), '-sha256', '-extfile', ext, '-out', cert], dir);
  return { cert, key };
}

/** A CA, a server certificate for `hostnames` (+ 127.0.0.1), a client certificate, and a foreign CA + client. */
export function makeTestPki(options: { hostnames?: string[]; dir?: string } = {}): TestPki {
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mtls-pki-'));
  fs.chmodSync(dir, 0o755); // servers' worker processes (www-data) may need to read certificates
  const hostnames = options.hostnames ?? ['localhost', 'mtls.example.test'];
  const ca = makeCa(dir, 'ca', 'Test Client CA');
  const server = makeLeaf(dir, 'server', ca, 'server', hostnames[0], [...hostnames, '127.0.0.1']);
  const client = makeLeaf(dir, 'client', ca, 'client', 'test-client');
  const other = makeCa(dir, 'other-ca', 'Unrelated CA');
  const otherClient = makeLeaf(dir, 'other-client', other, 'client', 'foreign-client');
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  return {
    dir,
    caCert: ca.cert, caKey: ca.key,
    serverCert: server.cert, serverKey: server.key,
    clientCert: client.cert, clientKey: client.key,
    otherCaCert: other.cert, otherClientCert: otherClient.cert, otherClientKey: otherClient.key,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
