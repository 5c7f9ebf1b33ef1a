import * as path from 'path';
import { Dialect } from './types';

const NGINX_WORDS = /^\s*(server|http|location|upstream|events|listen|server_name|ssl_certificate|ssl_verify_client|proxy_pass|root|fastcgi_pass|worker_processes|include|map|return|rewrite|try_files|add_header|error_page|access_log)\b[^\n]*(;|\{)\s*(#.*)?$/m;
const APACHE_WORDS = /^\s*(<\/?(VirtualHost|Directory|Location|IfModule|IfDefine|Files|FilesMatch|LocationMatch|DirectoryMatch|If|Else|ElseIf|Macro|Proxy)\b|(ServerName|ServerAlias|DocumentRoot|SSLEngine|SSLCertificateFile|SSLVerifyClient|LoadModule|Listen|ServerRoot|RewriteEngine|RewriteRule|ErrorLog|CustomLog|Options|AllowOverride|Require|Alias|ScriptAlias|IncludeOptional|DirectoryIndex|ProxyPass)\s)/mi;

/**
 * Guesses the dialect of a config from its name, then its content. Undefined when neither fits.
 * An explicit name (`nginx.conf`, `httpd.conf`, `apache2.conf`, `.htaccess`) wins; then the content;
 * then weaker hints (`*.vhost` is usually Apache; a path under `nginx/` or `apache2/`/`httpd/`).
 */
export function detectDialect(file: string, text?: string): Dialect | undefined {
  const norm = file.replace(/\\/g, '/').toLowerCase();
  const base = path.posix.basename(norm);
  const proxy = detectProxyDialect(norm, base, text);
  if (proxy) return proxy;
  if (base === 'nginx.conf' || base.endsWith('.nginx') || base.endsWith('.nginxconf')) return 'nginx';
  if (base === 'httpd.conf' || base === 'apache2.conf' || base === 'apache.conf' || base === '.htaccess' || base.endsWith('.htaccess')) return 'apache';
  if (text !== undefined) {
    const sample = text.length > 200_000 ? text.slice(0, 200_000) : text;
    const a = APACHE_WORDS.test(sample);
    const n = NGINX_WORDS.test(sample);
    if (a && !n) return 'apache';
    if (n && !a) return 'nginx';
    if (a && n) {
      // Both patterns hit (e.g. `include x;` in a file with `<Directory>`): count the stronger signals.
      const braces = (sample.match(/[{};]\s*$/gm) ?? []).length;
      const tags = (sample.match(/^\s*<\/?[A-Za-z]/gm) ?? []).length;
      return tags > braces ? 'apache' : 'nginx';
    }
  }
  if (base.endsWith('.vhost')) return 'apache';
  if (/(^|\/)nginx\//.test(norm)) return 'nginx';
  if (/(^|\/)(apache2?|httpd)\//.test(norm)) return 'apache';
  return undefined;
}

const HAPROXY_SECTION = /^[ \t]*(global|defaults|frontend|backend|listen)\b[^\n]*\n(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]+(bind|mode|server|default_backend|use_backend|balance|timeout|maxconn|log|option|acl|http-request)\b/m;

/**
 * Caddy by name (`Caddyfile`, `Caddyfile.*`, `*.caddyfile`, `*.caddy`); HAProxy by name (`haproxy.cfg`,
 * `haproxy*.cfg`) or, for other `*.cfg` files and files under a `haproxy/` folder, by its sections.
 */
function detectProxyDialect(norm: string, base: string, text?: string): Dialect | undefined {
  if (base === 'caddyfile' || base.startsWith('caddyfile.') || base.endsWith('.caddyfile') || base.endsWith('.caddy')) return 'caddy';
  if (/^haproxy[\w.-]*\.cfg$/.test(base)) return 'haproxy';
  if ((base.endsWith('.cfg') || /(^|\/)haproxy\//.test(norm)) && text !== undefined && HAPROXY_SECTION.test(text.slice(0, 200_000))) return 'haproxy';
  if (/(^|\/)caddy\//.test(norm) && !base.includes('.') && text !== undefined && /^\s*(tls|reverse_proxy|respond|file_server|encode|handle|root \*)\b/m.test(text) && !/;\s*$/m.test(text)) return 'caddy';
  return undefined;
}

/** True for names that usually hold nginx/Apache/Caddy/HAProxy configs (used when scanning folders). */
export function isLikelyConfigFile(file: string): boolean {
  const norm = file.replace(/\\/g, '/').toLowerCase();
  const base = path.posix.basename(norm);
  if (/\.(cfg|caddy|caddyfile)$/.test(base) || base === 'caddyfile') return true;
  if (/\.(conf|vhost|nginx|nginxconf|htaccess|load|include|inc)$/.test(base)) return true;
  if (base === '.htaccess' || base === 'default' || base === 'default-ssl') return true;
  if (/(^|\/)(sites-available|sites-enabled|conf\.d|conf-available|conf-enabled|vhosts\.d|vhosts)\//.test(norm) && !/\.(md|txt|pem|crt|key|json|ya?ml|py|sh|bak|orig|swp)$/.test(base)) return true;
  return false;
}
