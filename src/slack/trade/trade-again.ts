import { decodePrefill } from '../../domain/order-prefill';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { ButtonArgs, ListenerDeps } from '../deps';
import { openTradeModal } from './trade-command';
import { buildTradersOnlyMessage } from './trade-messages';

/**
 * "Trade again" on a final confirmation or the Home tab: the order form, prefilled from that order,
 * opened inside the trigger's 3 s. The confirmation of the new order goes where the button was
 * (the channel of the message; the trader's DM from the Home tab).
 */
export function tradeAgainAction(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: ButtonArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    if (!deps.access.mayTrade(userId)) {
      deps.logger.warn({ user: userId, source: 'trade_again' }, 'order attempt by a user not in TRADER_USER_IDS');
      const refusal = buildTradersOnlyMessage('home');
      await client.chat
        .postMessage({ channel: userId, text: refusal.text, blocks: refusal.blocks })
        .catch(() => undefined);
      return;
    }
    const channelId = body.container?.type === 'message' ? (body.channel?.id ?? body.container.channel_id) : undefined;
    await openTradeModal(
      client,
      { triggerId: body.trigger_id, userId, channelId, prefill: decodePrefill(action.value) },
      deps,
    ).catch((err: unknown) => {
      deps.logger.warn({ error: slackErrorCode(err) }, 'could not open the order form to trade again');
    });
  };
}
