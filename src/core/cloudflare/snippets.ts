import { IpRanges, OriginSnippetOptions } from './types';

/** The nginx or Apache block that makes the origin require Cloudflare's origin-pull certificate. */
export function originConfigSnippet(server: 'nginx' | 'apache', opts: OriginSnippetOptions): string {
  void server; void opts;
  return '';
}

/** An origin allowlist of Cloudflare's IP ranges for nginx, Apache, ufw or iptables. */
export function cloudflareIpAllowlist(kind: 'nginx' | 'apache' | 'ufw' | 'iptables', ranges: IpRanges): string {
  void kind; void ranges;
  return '';
}
