import { RuleCode, RuleInfo } from './types';

const NGX = 'https://nginx.org/en/docs/http/ngx_http_ssl_module.html';
const APA = 'https://httpd.apache.org/docs/2.4/mod/mod_ssl.html';
const AOP = 'https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/';

/** Every rule, by its stable code. Severity is the usual one; leg2-ca-file varies with the problem. */
export const RULES: Record<RuleCode, RuleInfo> = {
  'leg2-no-client-auth': {
    severity: 'warning',
    title: 'TLS site does not require a client certificate',
    explanation:
      'Leg 2 (Cloudflare to origin) is only authenticated when the origin demands and verifies the client ' +
      'certificate Cloudflare presents (Authenticated Origin Pulls). This TLS server/vhost accepts any ' +
      'client, so anyone who finds the origin address can bypass Cloudflare. Add the origin-pull CA ' +
      '(nginx `ssl_client_certificate` + `ssl_verify_client on`; Apache `SSLCACertificateFile` + ' +
      '`SSLVerifyClient require`; Caddy `client_auth { mode require_and_verify; trusted_ca_cert_file ... }`; ' +
      'HAProxy `ca-file ... verify required` on the bind or the crt-list line), or mark the site with ' +
      '`# mtls-lint: ignore leg2-no-client-auth` if it is not behind Cloudflare.',
    docs: AOP,
  },
  'leg2-no-ca': {
    severity: 'error',
    title: 'Client verification on, but no CA to verify against',
    explanation:
      'Client certificates are requested but no CA is configured to verify them. nginx refuses the ' +
      'configuration ("no ssl_client_certificate for ssl_verify_client"); Apache refuses to start the TLS ' +
      'vhost or fails every handshake; `haproxy -c` fails; Caddy with `mode require` takes any certificate and ' +
      'with `require_and_verify` or a leaf pin alone refuses everyone. Add `ssl_client_certificate` (nginx), ' +
      '`SSLCACertificateFile` (Apache), `trusted_ca_cert_file` (Caddy) or `ca-file` (HAProxy) pointing at the ' +
      'origin-pull CA or your own AOP CA.',
    docs: AOP,
  },
  'leg2-optional-unchecked': {
    severity: 'warning',
    title: 'Optional client verification with nothing rejecting unverified clients',
    explanation:
      '`optional` / `optional_no_ca` asks for a client certificate but lets clients without one (or with an ' +
      'invalid one) through. Unless something rejects them, Leg 2 is open. Make verification required ' +
      '(`ssl_verify_client on` / `SSLVerifyClient require`), or add a check: nginx ' +
      '`if ($ssl_client_verify != SUCCESS) { return 403; }`; Apache `Require expr %{SSL_CLIENT_VERIFY} == \'SUCCESS\'`. ' +
      'Caddy: `request`, `verify_if_given` and even `require` (any certificate) let unverified clients in: use ' +
      '`require_and_verify`. HAProxy: `verify optional` (or ignored certificate errors) needs ' +
      '`http-request deny unless { ssl_c_used } { ssl_c_verify 0 }` (ssl_c_verify is 0 without a certificate).',
    docs: NGX + '#var_ssl_client_verify',
  },
  'leg2-invalid-value': {
    severity: 'error',
    title: 'Value the server rejects',
    explanation:
      'The value is not one the server accepts, so the configuration test fails. nginx ' +
      '`ssl_verify_client` takes on | off | optional | optional_no_ca (`require` is Apache\'s word); Apache ' +
      '`SSLVerifyClient` takes none | optional | require | optional_no_ca; Caddy `mode` takes require_and_verify | ' +
      'require | verify_if_given | request; HAProxy `verify` takes required | optional | none.',
    docs: NGX + '#ssl_verify_client',
  },
  'leg2-ca-file': {
    severity: 'error',
    title: 'Problem with the client CA file',
    explanation:
      'The file that should hold the CA for client certificates is missing, empty, holds no certificate ' +
      '(or only a key), holds a certificate that is not a CA or has expired, or holds the Cloudflare Origin ' +
      'CA (which signs origin server certificates) instead of the CA that signs the certificate Cloudflare ' +
      'presents to the origin. With the shared origin-pull CA, note that it trusts connections from every ' +
      'Cloudflare customer: use Authenticated Origin Pulls with your own certificate for a stronger Leg 2.',
    docs: AOP,
  },
  'leg2-trusted-not-sent': {
    severity: 'information',
    title: 'CA only in ssl_trusted_certificate',
    explanation:
      'nginx `ssl_trusted_certificate` CAs help verify client certificates but are never announced to ' +
      'clients, and nginx (up to at least 1.22) refuses `ssl_verify_client on|optional` unless ' +
      '`ssl_client_certificate` is also set. For Leg 2 put the origin-pull CA in `ssl_client_certificate`.',
    docs: NGX + '#ssl_trusted_certificate',
  },
  'leg2-verify-depth': {
    severity: 'information',
    title: 'Client verification depth not set, or deeper than needed',
    explanation:
      'Cloudflare\'s origin-pull certificate is issued directly by the CA, so a verification depth of 1 is ' +
      'enough. Set `ssl_verify_depth 1;` / `SSLVerifyDepth 1` so longer chains are refused.',
    docs: NGX + '#ssl_verify_depth',
  },
  'leg2-per-directory-verify': {
    severity: 'warning',
    title: 'Client certificate required only for some paths',
    explanation:
      'Apache `SSLVerifyClient require` inside `<Location>` / `<Directory>` asks for the client certificate ' +
      'after the handshake: TLS 1.2 renegotiation or TLS 1.3 post-handshake authentication. Whether ' +
      'Cloudflare\'s connections to the origin answer that is not documented, so Cloudflare may be refused; ' +
      'and paths outside those sections stay open. Require the certificate for the whole virtual host ' +
      '(`SSLVerifyClient require` in the `<VirtualHost>`).',
    docs: APA + '#sslverifyclient',
  },
  'tls-no-certificate': {
    severity: 'error',
    title: 'TLS site without a server certificate or key',
    explanation:
      'A TLS server/vhost needs its own certificate and private key (nginx `ssl_certificate` + ' +
      '`ssl_certificate_key`; Apache `SSLCertificateFile` + `SSLCertificateKeyFile`, the key may be in the ' +
      'certificate file; HAProxy `crt` or `crt-list` on a `bind ... ssl`). Without them the server refuses to ' +
      'start or fails every handshake.',
    docs: NGX + '#ssl_certificate',
  },
  'parse-error': {
    severity: 'error',
    title: 'Syntax error',
    explanation:
      'The file could not be read as a configuration at this point (unbalanced braces or quotes, missing ' +
      'semicolon, unclosed section). The linter skipped what it could not read and checked the rest.',
    docs: 'https://nginx.org/en/docs/beginners_guide.html#conf_structure',
  },
  unreadable: {
    severity: 'error',
    title: 'File cannot be read',
    explanation: 'The path does not exist or cannot be read, so it was not checked.',
    docs: APA,
  },
};

/** The codes of rules that concern Leg 2 (silenced on plain-HTTP sites and by `ignore` markers). */
export const LEG2_CODES: readonly RuleCode[] = [
  'leg2-no-client-auth',
  'leg2-no-ca',
  'leg2-optional-unchecked',
  'leg2-invalid-value',
  'leg2-ca-file',
  'leg2-trusted-not-sent',
  'leg2-verify-depth',
  'leg2-per-directory-verify',
];
