import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import type { ListenerDeps } from '../deps';
import { ADOPT_FIELDS, adoptFormErrors, readAdoptForm, readAdoptModalMetadata } from './adopt-modal';
import { buildAdjustmentResult } from './reconcile-alert';

/**
 * The adjustment form's submission: fields are checked in the ack; the adjustment (which reads
 * Alpaca's position afresh) happens after it, and the admin hears the result next to the alert.
 */
export function adoptBrokerQuantitySubmission(deps: ListenerDeps) {
  return async ({
    ack,
    body,
    view,
    client,
  }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const userId = body.user.id;
    if (!deps.access.isAdmin(userId)) {
      await ack({
        response_action: 'errors',
        errors: { [ADOPT_FIELDS.reason.blockId]: 'Only admins (ADMIN_USER_IDS) can adjust the books.' },
      });
      return;
    }
    const form = readAdoptForm(view.state.values);
    const errors = adoptFormErrors(form);
    if (Object.keys(errors).length > 0) {
      await ack({ response_action: 'errors', errors });
      return;
    }
    await ack();
    const alert = readAdoptModalMetadata(view.private_metadata);
    const result = await deps.inFlight.run(() =>
      deps.reconcile.adoptBrokerQuantity({
        discrepancyId: form.discrepancyId!,
        portfolioName: form.portfolioName,
        reason: form.reason,
        userId,
        requestKey: `view:${view.id}`,
      }),
    );
    const { text, blocks } = buildAdjustmentResult(result);
    if (alert) await client.chat.postEphemeral({ channel: alert.channelId, user: userId, text, blocks });
    else await client.chat.postMessage({ channel: userId, text, blocks });
  };
}
