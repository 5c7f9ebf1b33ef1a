// The part of the `cloudflare` SDK that the setup plan calls, as one client class. The packaged extension and
// CLI bundle this file (not the whole SDK, whose client constructs every API resource) into dist/cloudflare.js,
// which they load on first use in place of the `cloudflare` package. The resources are the SDK's own classes,
// so requests, retries, pagination and error classes are exactly the SDK's.
import { BaseCloudflare } from 'cloudflare/client';
import { Accounts } from 'cloudflare/resources/accounts/accounts';
import { CertificateAuthorities } from 'cloudflare/resources/certificate-authorities/certificate-authorities';
import { ClientCertificates } from 'cloudflare/resources/client-certificates/client-certificates';
import { IPs } from 'cloudflare/resources/ips/ips';
import { MTLSCertificates } from 'cloudflare/resources/mtls-certificates/mtls-certificates';
import { OriginTLSClientAuth } from 'cloudflare/resources/origin-tls-client-auth/origin-tls-client-auth';
import { Rulesets } from 'cloudflare/resources/rulesets/rulesets';
import { User } from 'cloudflare/resources/user/user';
import { Zones } from 'cloudflare/resources/zones/zones';

export class Cloudflare extends BaseCloudflare {
  accounts: Accounts = new Accounts(this as never);
  certificateAuthorities: CertificateAuthorities = new CertificateAuthorities(this as never);
  clientCertificates: ClientCertificates = new ClientCertificates(this as never);
  ips: IPs = new IPs(this as never);
  mtlsCertificates: MTLSCertificates = new MTLSCertificates(this as never);
  originTLSClientAuth: OriginTLSClientAuth = new OriginTLSClientAuth(this as never);
  rulesets: Rulesets = new Rulesets(this as never);
  user: User = new User(this as never);
  zones: Zones = new Zones(this as never);
}

export default Cloudflare;
