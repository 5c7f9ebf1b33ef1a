// Text for the origin side: the config block that requires Cloudflare's origin-pull certificate, and an
// allowlist of Cloudflare's IP ranges.
import { IpRanges, OriginSnippetOptions } from './types';

/**
 * The nginx, Apache, Caddy or HAProxy block that makes the origin ask for and verify the client certificate
 * Cloudflare presents (Authenticated Origin Pulls). `caPath` is the CA that issued it: Cloudflare's shared
 * origin-pull CA in global mode, the workspace origin-pull CA otherwise.
 */
export function originConfigSnippet(server: 'nginx' | 'apache' | 'caddy' | 'haproxy', opts: OriginSnippetOptions): string {
  const certPath = opts.certPath ?? `/etc/ssl/certs/${opts.hostname}.pem`;
  const keyPath = opts.keyPath ?? `/etc/ssl/private/${opts.hostname}.key`;
  if (server === 'caddy') {
    // `mode require` would take any certificate: require_and_verify is the one that checks the CA.
    return [
      `# ${opts.hostname}: accept only connections that present Cloudflare's origin-pull certificate`,
      `${opts.hostname.split(' ').join(', ')} {`,
      `\ttls ${certPath} ${keyPath} {`,
      '\t\t# Authenticated Origin Pulls: the CA that issued the certificate Cloudflare presents',
      '\t\tclient_auth {',
      '\t\t\tmode require_and_verify',
      `\t\t\ttrusted_ca_cert_file ${opts.caPath}`,
      '\t\t}',
      '\t}',
      '}',
      '',
    ].join('\n');
  }
  if (server === 'haproxy') {
    // HAProxy reads certificate and key from one file (the key appended to the certificate, or <crt>.key).
    return [
      `# ${opts.hostname}: accept only connections that present Cloudflare's origin-pull certificate`,
      'frontend https_in',
      '    mode http',
      '    # Authenticated Origin Pulls: the CA that issued the certificate Cloudflare presents',
      `    bind :443 ssl crt ${certPath} ca-file ${opts.caPath} verify required`,
      '',
    ].join('\n');
  }
  if (server === 'nginx') {
    return [
      `# ${opts.hostname}: accept only connections that present Cloudflare's origin-pull certificate`,
      'server {',
      '    listen 443 ssl;',
      `    server_name ${opts.hostname};`,
      '',
      `    ssl_certificate     ${certPath};`,
      `    ssl_certificate_key ${keyPath};`,
      '',
      '    # Authenticated Origin Pulls: the CA that issued the certificate Cloudflare presents',
      `    ssl_client_certificate ${opts.caPath};`,
      '    ssl_verify_client on;',
      '}',
      '',
    ].join('\n');
  }
  return [
    `# ${opts.hostname}: accept only connections that present Cloudflare's origin-pull certificate`,
    '<VirtualHost *:443>',
    `    ServerName ${opts.hostname}`,
    '    SSLEngine on',
    `    SSLCertificateFile ${certPath}`,
    `    SSLCertificateKeyFile ${keyPath}`,
    '',
    '    # Authenticated Origin Pulls: the CA that issued the certificate Cloudflare presents',
    '    SSLVerifyClient require',
    '    SSLVerifyDepth 1',
    `    SSLCACertificateFile ${opts.caPath}`,
    '</VirtualHost>',
    '',
  ].join('\n');
}

export type AllowlistKind = 'nginx' | 'nginx-realip' | 'apache' | 'ufw' | 'iptables';

/**
 * An allowlist of Cloudflare's IP ranges for the origin:
 * - nginx: `allow <range>;` lines and `deny all;` (in a server or location block);
 * - nginx-realip: `set_real_ip_from <range>;` and `real_ip_header CF-Connecting-IP;` (restores visitor IPs in logs; do
 *   not combine with the allow list in the same context, as the check would then see visitor addresses);
 * - apache: a `<RequireAny>` block of `Require ip` lines;
 * - ufw / iptables: shell commands that accept HTTPS from Cloudflare only, then drop the rest.
 */
export function cloudflareIpAllowlist(kind: AllowlistKind, ranges: IpRanges, options: { port?: number } = {}): string {
  const port = options.port ?? 443;
  const all = [...ranges.ipv4, ...ranges.ipv6];
  const header = `Cloudflare IP ranges (GET /ips${ranges.etag ? `, etag ${ranges.etag}` : ''}): ${ranges.ipv4.length} IPv4, ${ranges.ipv6.length} IPv6`;
  switch (kind) {
    case 'nginx':
      return [`# ${header}`, '# Only Cloudflare may connect to this origin.', ...all.map(r => `allow ${r};`), 'deny all;', ''].join('\n');
    case 'nginx-realip':
      return [`# ${header}`, '# Restore the visitor address that Cloudflare forwards.', ...all.map(r => `set_real_ip_from ${r};`), 'real_ip_header CF-Connecting-IP;', ''].join('\n');
    case 'apache':
      return [`# ${header}`, '# Only Cloudflare may connect to this origin (Apache 2.4, mod_authz_host).', '<RequireAny>', ...all.map(r => `    Require ip ${r}`), '</RequireAny>', ''].join('\n');
    case 'ufw':
      return [
        `# ${header}`,
        `# Accept port ${port}/tcp from Cloudflare only (allow rules first, then the deny).`,
        ...all.map(r => `ufw allow proto tcp from ${r} to any port ${port} comment 'Cloudflare'`),
        `ufw deny proto tcp from any to any port ${port}`,
        '',
      ].join('\n');
    case 'iptables':
      return [
        `# ${header}`,
        `# Accept port ${port}/tcp from Cloudflare only, then drop the rest.`,
        ...ranges.ipv4.map(r => `iptables -A INPUT -p tcp --dport ${port} -s ${r} -j ACCEPT`),
        `iptables -A INPUT -p tcp --dport ${port} -j DROP`,
        ...ranges.ipv6.map(r => `ip6tables -A INPUT -p tcp --dport ${port} -s ${r} -j ACCEPT`),
        `ip6tables -A INPUT -p tcp --dport ${port} -j DROP`,
        '',
      ].join('\n');
  }
}
