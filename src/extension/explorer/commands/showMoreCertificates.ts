// Show More: the next page of rows under a CA or group with many certificates (the "Show N more" row).
import { PAGE_SIZE } from '../tree';
import type { MoreNode } from '../tree';
import type { ExplorerCommand } from './shared';

export const showMoreCertificates: ExplorerCommand = {
  id: 'mtls.showMoreCertificates',
  async run(ctx, arg) {
    const more = arg as MoreNode | undefined;
    if (more?.kind !== 'more') return undefined;
    ctx.tree.showMore(more);
    return { shown: Math.min(more.total, more.shown + PAGE_SIZE), total: more.total };
  },
};
