// Where the client CA lives on the server. Fixes and suggestions write these paths into configs meant for a
// server, never a path of the machine the linter runs on (an extension's media folder, a workspace store).
import * as path from 'path';
import { Dialect } from './types';

/** Conventional location of the origin-pull CA per server, used when no setting names another. */
export const DEFAULT_SERVER_CA_PATH: Partial<Record<Dialect, string>> = {
  nginx: '/etc/nginx/cloudflare/origin-pull-ca.pem',
  apache: '/etc/apache2/cloudflare/origin-pull-ca.pem',
  caddy: '/etc/caddy/cloudflare/origin-pull-ca.pem',
  haproxy: '/etc/haproxy/cloudflare/origin-pull-ca.pem',
};

const FALLBACK = '/etc/ssl/cloudflare/origin-pull-ca.pem';

/** The server-side CA path for a dialect: the configured one, else the conventional one. */
export function serverCaPath(dialect: Dialect, configured?: string): string {
  const c = configured?.trim();
  return c ? c : DEFAULT_SERVER_CA_PATH[dialect] ?? FALLBACK;
}

/** Server path for another CA file (a workspace CA, a chosen file): beside the origin-pull CA's folder. */
export function serverPathFor(dialect: Dialect, configured: string | undefined, fileName: string): string {
  return path.posix.join(path.posix.dirname(serverCaPath(dialect, configured)), fileName);
}

/**
 * Where the workspace copy of a CA named by `serverPath` goes, beside the config: `<config folder>/<last
 * folder of the server path>/<file>` (e.g. `cloudflare/origin-pull-ca.pem` next to the config), where the
 * linter finds it again when it resolves the server path against the config's folder.
 */
export function workspaceCopyFor(configFile: string, serverPath: string): string {
  const parts = serverPath.split('/').filter(Boolean);
  const tail = parts.slice(-2);
  return path.join(path.dirname(configFile), ...tail);
}
