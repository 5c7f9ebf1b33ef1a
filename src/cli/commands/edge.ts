import * as path from 'path';
import { CliCommand, CliIO, parseCommandArgs, requireOption } from '../io';
import { MtlsError } from '../../core/errors';
import { readFileOrThrow } from '../../core/fsutil';
import { startEdge } from '../../core/edge';
import { loadCliCredential } from './probe';

const usage = `Usage: mtls edge --origin ADDR:PORT --host HOST --ca FILE [--pull-cert FILE --pull-key FILE] [options]

Runs a local rehearsal of Cloudflare's edge for the mTLS plan until Ctrl+C: asks clients for a certificate,
verifies it against the CA associated with HOST, blocks unverified clients (the WAF rule), adds the
cf-cert-* headers and forwards to the origin presenting the Authenticated Origin Pull certificate, with
Full (Strict) checks of the origin certificate (origin failures become 521/522/525/526).

Options:
  --listen ADDR:PORT      where to listen (default 127.0.0.1:8443)
  --origin ADDR:PORT      the origin server
  --host HOST             the proxied hostname (SNI and Host toward the origin, the rule's http.host)
  --ca FILE               the workspace CA associated with HOST for client certificates
  --pull-cert FILE --pull-key FILE
                          the origin-pull certificate presented to the origin (AOP); without it AOP is off
  --cert FILE --key FILE  the edge's server certificate (default: a throw-away one for HOST and 127.0.0.1)
  --origin-ca FILE        CA the origin certificate may chain to besides the system roots
  --ssl-mode strict|full  Full (Strict) verifies the origin certificate (default strict)
  --no-waf-rule           rehearse without the blocking WAF rule
  --no-association        rehearse without the hostname association (no certificate is asked for)
  --revoked SHA256        a revoked client certificate's SHA-256 fingerprint (repeatable): the rule blocks it
                          by cf.tls_client_auth.cert_fingerprint_sha256, as \`mtls cloudflare apply --revoked\`
  --managed-ca            rehearse the Cloudflare-managed CA: --revoked certificates make
                          cf.tls_client_auth.cert_revoked true and the rule blocks them

Only HOST is served: Host is compared without case, trailing dot or port; another host, no Host (HTTP/1.0)
or a malformed one is refused (400/421) and never forwarded. Headers Cloudflare sets (CF-Connecting-IP,
True-Client-IP, Forwarded, X-Forwarded-*, cf-cert-*...) are never taken from the client.

Then probe it: mtls probe --leg both --host HOST --connect 127.0.0.1:8443 --origin ORIGIN ...
`;

export const command: CliCommand = {
  summary: 'run a local rehearsal of Cloudflare\'s edge (client certificates, WAF rule, AOP) until Ctrl+C',
  usage,
  async run(argv: string[], io: CliIO) {
    const { values } = parseCommandArgs(argv, {
      listen: { type: 'string' },
      origin: { type: 'string' },
      host: { type: 'string' },
      ca: { type: 'string' },
      'pull-cert': { type: 'string' },
      'pull-key': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'origin-ca': { type: 'string' },
      'ssl-mode': { type: 'string' },
      'no-waf-rule': { type: 'boolean' },
      'no-association': { type: 'boolean' },
      revoked: { type: 'string', multiple: true },
      'managed-ca': { type: 'boolean' },
    });
    const abs = (f: string) => path.resolve(io.cwd, f);
    const origin = requireOption(values.origin, 'origin');
    const hostname = requireOption(values.host, 'host');
    const caFile = requireOption(values.ca, 'ca');
    if (values['pull-key'] && !values['pull-cert']) throw new MtlsError('usage', '--pull-key needs --pull-cert.');
    if (!!values.cert !== !!values.key) throw new MtlsError('usage', '--cert and --key go together.');
    const sslMode = values['ssl-mode'] ?? 'strict';
    if (sslMode !== 'strict' && sslMode !== 'full') throw new MtlsError('usage', '--ssl-mode must be strict or full.');
    const pull = values['pull-cert'] ? await loadCliCredential(io, abs(values['pull-cert']), values['pull-key'] ? abs(values['pull-key']) : undefined) : undefined;
    const edge = await startEdge({
      listen: values.listen,
      origin,
      hostname,
      clientCa: (await readFileOrThrow(abs(caFile))).toString('utf8'),
      association: !values['no-association'],
      wafRule: !values['no-waf-rule'],
      ...(values['managed-ca'] ? { managedCa: true, revokedFingerprints: values.revoked } : { ruleRevokedFingerprints: values.revoked }),
      pull,
      server: values.cert ? { certPem: (await readFileOrThrow(abs(values.cert))).toString('utf8'), keyPem: (await readFileOrThrow(abs(values.key!))).toString('utf8') } : undefined,
      originCa: values['origin-ca'] ? (await readFileOrThrow(abs(values['origin-ca']))).toString('utf8') : undefined,
      originCaSource: values['origin-ca'] ? `--origin-ca ${values['origin-ca']}` : undefined,
      sslMode,
      onRequest: e => io.stdout(`${e.status} ${e.method} ${e.host}${e.path} cert=${e.certPresented ? (e.certVerified ? 'verified' : 'unverified') : 'none'} ${e.action}${e.detail ? ': ' + e.detail : ''} (ray ${e.ray})\n`),
    });
    io.stdout(`Local edge listening on https://${edge.address} for ${hostname} -> origin ${origin}\n`);
    io.stdout(`  client certificates: ${values['no-association'] ? 'not asked for (no hostname association)' : `asked for, verified against ${caFile}`}\n`);
    io.stdout(`  WAF rule: ${edge.rule ? `${edge.rule} -> Block` : 'none'}\n`);
    io.stdout(`  origin pull: ${pull ? `presents ${values['pull-cert']}` : 'off (no --pull-cert)'}; SSL mode ${sslMode === 'strict' ? 'Full (Strict)' : 'Full'}\n`);
    io.stdout('Press Ctrl+C to stop.\n');
    await new Promise<void>(resolve => {
      const stop = () => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await edge.stop();
    io.stdout('Local edge stopped.\n');
    return 0;
  },
};
