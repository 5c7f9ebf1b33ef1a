// Issue Client Certificate: for a person or device (Leg 1).
import { issueCertificate } from './issue';
import type { ExplorerCommand } from './shared';

export const issueClientCert: ExplorerCommand = {
  id: 'mtls.issueClientCert',
  trust: 'Issuing a certificate',
  run: (ctx, arg) => issueCertificate(ctx, 'client', arg),
};
