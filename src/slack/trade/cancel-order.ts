import { buildErrorMessage } from '../block-kit/messages';
import type { ButtonArgs, ListenerDeps } from '../deps';

/** "Cancel order" on a confirmation message: ask the broker; the message updates itself from the result. */
export function cancelOrderAction(deps: ListenerDeps) {
  return async ({ ack, body, action, client }: ButtonArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const result = await deps.canceller.cancel(action.value ?? '', userId, deps.access.isAdmin(userId));
    if (result.kind === 'requested') return;
    const channel = body.channel?.id ?? body.container?.channel_id;
    if (!channel) return;
    // The refusal can carry Alpaca's words: built (escaped) like every other message.
    const refusal = buildErrorMessage(result.message);
    await client.chat.postEphemeral({ channel, user: userId, text: refusal.text, blocks: refusal.blocks });
  };
}
