// Shared set-up of the probe tests: a reference PKI from the openssl CLI (independent of src/core), an
// origin-pull CA with a multi-attribute subject (to prove the CertificateRequest DN decoding), and
// loaders that turn files into probe credentials.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeCa, makeLeaf, makeTestPki, TestPki } from '../../support/openssl';
import { CheckId, CheckResult, Credential, ProbeReport } from '../../../src/core/probe';

export const HOST = 'mtls.example.test';

export interface ProbePki extends TestPki {
  pullCa: { cert: string; key: string };
  pull: { cert: string; key: string };
  /** The pull CA's subject as `openssl -nameopt RFC2253` prints it. */
  pullCaDn: string;
  /** A client certificate from an unrelated CA (like the probes' own throw-away one), for curl. */
  foreign: { cert: string; key: string };
}

export function makeProbePki(): ProbePki {
  const pki = makeTestPki({ hostnames: [HOST, 'localhost'] });
  const dir = pki.dir;
  const caKey = path.join(dir, 'pull-ca.key');
  const caCert = path.join(dir, 'pull-ca.pem');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', caKey], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '30', '-subj', '/C=US/O=Example, Inc./OU=Origin Pull/CN=Example Origin Pull CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caCert], { stdio: 'ignore' });
  const pullCa = { cert: caCert, key: caKey };
  const pull = makeLeaf(dir, 'pull', pullCa, 'client', 'cloudflare-origin-pull');
  const pullCaDn = execFileSync('openssl', ['x509', '-in', caCert, '-noout', '-subject', '-nameopt', 'RFC2253']).toString().trim().replace(/^subject=\s*/, '');
  // The probes make theirs asynchronously (PKI core); this set-up stays synchronous with openssl's.
  const foreign = makeLeaf(dir, 'probe-foreign', makeCa(dir, 'foreign-ca', 'Unrelated Throw-away CA'), 'client', 'mtls-probe-foreign-client');
  for (const file of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, file), 0o644);
  return { ...pki, pullCa, pull, pullCaDn, foreign };
}

export function pem(certFile: string, keyFile: string): Credential {
  return { kind: 'pem', certPem: fs.readFileSync(certFile, 'utf8'), keyPem: fs.readFileSync(keyFile, 'utf8'), source: path.basename(certFile) };
}

export function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

export function check(report: ProbeReport, id: CheckId): CheckResult {
  for (const leg of report.legs) {
    const c = leg.checks.find(x => x.id === id);
    if (c) return c;
  }
  throw new Error(`no check ${id} in the report`);
}

/** "id=status" for every check, for readable assertion messages. */
export function verdicts(report: ProbeReport): Record<string, string> {
  return Object.fromEntries(report.legs.flatMap(l => l.checks.map(c => [c.id, c.status])));
}

export function dump(report: ProbeReport): string {
  return JSON.stringify(report.legs.map(l => l.checks.map(c => ({ id: c.id, status: c.status, detail: c.detail, explanation: c.explanation }))), null, 1);
}
