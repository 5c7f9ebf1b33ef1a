import * as path from 'path';
import { CliCommand, CliIO, parseCommandArgs, printJson, requireOption } from '../io';
import { describeError, MtlsError } from '../../core/errors';
import { readFileOrThrow } from '../../core/fsutil';
import { CHECKS, checksOf, Credential, formatReport, LegSelection, loadCredential, ProbeOptions, runProbes } from '../../core/probe';

const checkList = (leg: 'leg1' | 'leg2') => checksOf(leg).map(id => `    ${id.padEnd(28)} ${CHECKS[id].title}`).join('\n');

const usage = `Usage: mtls probe --leg 1|2|both --host HOST [options]

Proves each leg of mTLS behind Cloudflare from outside (the guide's "Verify end-to-end").
  Leg 1 (client -> Cloudflare):
${checkList('leg1')}
  Leg 2 (Cloudflare -> origin, straight to the origin):
${checkList('leg2')}

Options:
  --leg 1|2|both          which leg (default both)
  --host HOST             the public hostname: SNI and Host of every probe
  --connect ADDR[:PORT]   where Leg 1 connects (default HOST:443; a local edge e.g. 127.0.0.1:8443);
                          with --leg 2 alone, the origin address
  --origin ADDR[:PORT]    where Leg 2 connects: the origin, bypassing Cloudflare (default HOST:443)
  --cert FILE --key FILE  client certificate for Leg 1 (PEM; an encrypted key's passphrase from
                          MTLS_KEY_PASSWORD, else asked on the terminal)
  --p12 FILE              client certificate for Leg 1 as PKCS#12 (password from MTLS_P12_PASSWORD)
  --pull-cert FILE --pull-key FILE
                          the Authenticated Origin Pull certificate for Leg 2 (an encrypted key as for --key)
  --origin-ca FILE        CA the origin certificate may chain to (e.g. Cloudflare Origin CA)
  --pull-ca FILE          CA the origin should name in its CertificateRequest
                          (default: issuer of --pull-cert, else Cloudflare's origin-pull CA)
  --edge-ca FILE          CA of the edge's server certificate (a local edge's)
  --path PATH             path to request (default /)
  --timeout MS            per-probe timeout (default 8000)
  --json                  one JSON object: {ok, legs: [{leg, ok, checks: [{id, status, detail, ms, ...}]}]}

Exit code: 0 when every check passed (warnings and skipped checks allowed), 1 when one failed, 2 on bad
usage or unreadable/invalid inputs (missing file, not a certificate, wrong key or password).
`;

/** Exit code for inputs the probes cannot use: the run never started, so no check failed. */
export const EXIT_BAD_INPUT = 2;

/**
 * Loads a certificate for the CLI. An encrypted PEM key is opened with MTLS_KEY_PASSWORD, else the
 * passphrase is asked on the terminal (once more after a wrong one); a .p12 with MTLS_P12_PASSWORD or a prompt.
 */
export async function loadCliCredential(io: CliIO, certFile: string, keyFile?: string): Promise<Credential> {
  const { isPkcs12Path } = await import('../../core/probe/credentials');
  if (isPkcs12Path(certFile)) {
    return loadCredential(certFile, undefined, io.env.MTLS_P12_PASSWORD ?? (io.promptSecret ? await io.promptSecret(`Password for ${path.basename(certFile)}: `) : ''));
  }
  let password = io.env.MTLS_KEY_PASSWORD;
  for (let tries = 0; ; tries++) {
    try {
      return await loadCredential(certFile, keyFile, password);
    } catch (err) {
      if ((err as MtlsError).code !== 'no-password' || !io.promptSecret || tries >= 2) throw err;
      if (tries > 0) io.stderr(`${describeError(err)}\n`);
      password = await io.promptSecret(`Passphrase for the encrypted private key ${path.basename(keyFile ?? certFile)}: `);
    }
  }
}

function legSelection(v: string | undefined): LegSelection {
  switch ((v ?? 'both').toLowerCase()) {
    case '1': case 'leg1': return 'leg1';
    case '2': case 'leg2': return 'leg2';
    case 'both': case 'all': case '1,2': return 'both';
    default: throw new MtlsError('usage', `--leg must be 1, 2 or both, not "${v}".`);
  }
}

async function readText(file: string | undefined, cwd: string): Promise<string | undefined> {
  return file ? (await readFileOrThrow(path.resolve(cwd, file))).toString('utf8') : undefined;
}

export const command: CliCommand = {
  summary: 'probe Leg 1 (edge) and Leg 2 (origin) with and without client certificates',
  usage,
  async run(argv: string[], io: CliIO) {
    const { values } = parseCommandArgs(argv, {
      leg: { type: 'string' },
      host: { type: 'string' },
      connect: { type: 'string' },
      origin: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      p12: { type: 'string' },
      'pull-cert': { type: 'string' },
      'pull-key': { type: 'string' },
      'origin-ca': { type: 'string' },
      'pull-ca': { type: 'string' },
      'edge-ca': { type: 'string' },
      path: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    });
    const legs = legSelection(values.leg);
    const hostname = requireOption(values.host, 'host');
    if (values.cert && values.p12) throw new MtlsError('usage', 'Give --cert/--key or --p12, not both.');
    if (values.key && !values.cert) throw new MtlsError('usage', '--key needs --cert.');
    if (values['pull-key'] && !values['pull-cert']) throw new MtlsError('usage', '--pull-key needs --pull-cert.');
    let timeoutMs: number | undefined;
    if (values.timeout !== undefined) {
      timeoutMs = Number(values.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new MtlsError('usage', `--timeout must be a whole number of milliseconds (100 or more), not "${values.timeout}".`);
    }
    const abs = (f: string | undefined) => (f ? path.resolve(io.cwd, f) : undefined);
    let options: ProbeOptions;
    try {
      options = {
        legs,
        hostname,
        // --connect is where Leg 1 goes; with only Leg 2 it is the origin (as in `curl --resolve`).
        edgeAddress: legs === 'leg2' ? undefined : values.connect,
        originAddress: values.origin ?? (legs === 'leg2' ? values.connect : undefined),
        client: values.p12 ? await loadCliCredential(io, abs(values.p12)!)
          : values.cert ? await loadCliCredential(io, abs(values.cert)!, abs(values.key)) : undefined,
        pull: values['pull-cert'] ? await loadCliCredential(io, abs(values['pull-cert'])!, abs(values['pull-key'])) : undefined,
        originCa: await readText(values['origin-ca'], io.cwd),
        expectedPullCa: await readText(values['pull-ca'], io.cwd),
        edgeCa: await readText(values['edge-ca'], io.cwd),
        path: values.path,
        timeoutMs,
      };
    } catch (err) {
      if (err instanceof MtlsError && err.code === 'usage') throw err;
      io.stderr(`mtls probe: ${describeError(err)}\n`);
      return EXIT_BAD_INPUT;
    }
    let report;
    try {
      report = await runProbes(options);
    } catch (err) {
      // Inputs the probes refuse before connecting (an expected CA without a certificate, a bad address).
      if (err instanceof MtlsError && err.code === 'usage') throw err;
      io.stderr(`mtls probe: ${describeError(err)}\n`);
      return EXIT_BAD_INPUT;
    }
    if (values.json) printJson(io, report);
    else io.stdout(formatReport(report));
    return report.ok ? 0 : 1;
  },
};
