// Refresh: re-read the store.
import type { ExplorerCommand } from './shared';

export const refreshCertificates: ExplorerCommand = {
  id: 'mtls.refreshCertificates',
  async run(ctx) {
    const model = await ctx.tree.refresh();
    ctx.inspect.refreshOpen();
    return { root: model.root, cas: model.cas.size, certificates: model.byPath.size - model.cas.size, problems: model.store?.problems.length ?? 0 };
  },
};
