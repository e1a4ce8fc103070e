import { slackErrorCode } from '../block-kit/slack-errors';
import type { ButtonArgs, ListenerDeps } from '../deps';
import { openTradeModal } from './trade-command';
import { buildTradersOnlyMessage } from './trade-messages';

/** The Home tab's "New trade" button: the /trade modal, opened inside the trigger's 3 s. */
export function newTradeFromHomeAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    if (!deps.access.mayTrade(body.user.id)) {
      deps.logger.warn({ user: body.user.id, source: 'home' }, 'order attempt by a user not in TRADER_USER_IDS');
      // The Home tab has no channel for an ephemeral reply: the app's DM with the user is the place.
      const refusal = buildTradersOnlyMessage('home');
      await client.chat
        .postMessage({ channel: body.user.id, text: refusal.text, blocks: refusal.blocks })
        .catch(() => undefined);
      return;
    }
    await openTradeModal(client, { triggerId: body.trigger_id, userId: body.user.id }, deps).catch((err: unknown) => {
      deps.logger.warn({ error: slackErrorCode(err) }, 'could not open the order form from the Home tab');
    });
  };
}
