import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from '../block-kit/limits';
import { buildErrorMessage } from '../block-kit/messages';
import type { ListenerDeps } from '../deps';
import { buildDigestMessage } from './digest-message';
import { digestView } from './digest-publisher';

const DIGEST_REFUSED =
  'Sorry — the closing digest shows the Alpaca account, so it is for this workspace’s traders and admins only. ' +
  'You can still see the portfolios with `/portfolio`.';

/** `/portfolio digest`: today's digest so far, for anyone allowed to see the account; the caller alone sees it. */
export async function digestForSlack(deps: ListenerDeps, client: WebClient, userId: string): Promise<SlackMessage> {
  if (!deps.access.mayViewAccount(userId)) return buildErrorMessage(DIGEST_REFUSED);
  return buildDigestMessage(
    await digestView({ client, digest: deps.digest, charts: deps.charts, logger: deps.logger }),
  );
}
