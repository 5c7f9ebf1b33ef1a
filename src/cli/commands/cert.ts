import { CliCommand } from '../io';
import { MtlsError } from '../../core/errors';

// Placeholder until the feature lands.
export const command: CliCommand = {
  summary: '(not yet available)',
  usage: 'mtls cert',
  async run() {
    throw new MtlsError('not-implemented', 'mtls cert is not available yet.');
  },
};
