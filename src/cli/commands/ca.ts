import { CliCommand } from '../io';
import { MtlsError } from '../../core/errors';

// Placeholder until the feature lands.
export const command: CliCommand = {
  summary: '(not yet available)',
  usage: 'mtls ca',
  async run() {
    throw new MtlsError('not-implemented', 'mtls ca is not available yet.');
  },
};
