// Issue Origin-Pull Certificate: what Cloudflare presents to the origin (Leg 2).
import { issueCertificate } from './issue';
import type { ExplorerCommand } from './shared';

export const issueOriginPullCert: ExplorerCommand = {
  id: 'mtls.issueOriginPullCert',
  trust: 'Issuing a certificate',
  run: (ctx, arg) => issueCertificate(ctx, 'origin-pull', arg),
};
