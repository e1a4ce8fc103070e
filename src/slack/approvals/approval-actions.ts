import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { checkRejectReason } from '../../domain/approvals';
import { orderIntentOf } from '../../domain/trade';
import type { ApprovalOutcome } from '../../services/order-approvals';
import { buildErrorMessage } from '../block-kit/messages';
import type { ButtonArgs, ListenerDeps } from '../deps';
import { buildRejectModal, REJECT_REASON_FIELD } from './approval-message';

const REJECT_FAILED =
  'Something went wrong on our side, so nothing was decided: the order still waits for approval. ' +
  'Please submit again in a moment.';

function tradeIdOf(value: string | undefined): number | undefined {
  return /^\d{1,12}$/.test(value ?? '') ? Number(value) : undefined;
}

/** What the approver is told, privately, when their click did not simply work. */
function outcomeSentence(outcome: ApprovalOutcome): string | undefined {
  switch (outcome.kind) {
    case 'refused':
    case 'expired':
      return outcome.message;
    default:
      return undefined;
  }
}

/** Tells one user something privately: an ephemeral next to the button, or a DM from the Home tab. */
async function tell(args: ButtonArgs, text: string): Promise<void> {
  const { body, client } = args;
  const message = buildErrorMessage(text);
  const channel = body.channel?.id ?? body.container?.channel_id;
  if (channel) {
    await client.chat.postEphemeral({ channel, user: body.user.id, text: message.text, blocks: message.blocks });
  } else {
    await client.chat.postMessage({ channel: body.user.id, text: message.text, blocks: message.blocks });
  }
}

/**
 * "Approve" (in the approvals channel or on the Home tab): ack first; the service places the order
 * exactly once, however many approvers click, however often Slack delivers the click.
 */
export function approveOrderAction(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const tradeId = tradeIdOf(args.action.value);
    if (tradeId === undefined) return;
    const outcome = await deps.inFlight.run(() => deps.approvals.approve(tradeId, args.body.user.id));
    const sentence = outcomeSentence(outcome);
    if (sentence) await tell(args, sentence);
  };
}

/**
 * "Reject": an approver is asked for the reason in a modal (opened inside the trigger's 3 s); an order
 * already decided, or one they can't reject, is said so instead of opening a form that can only fail.
 */
export function rejectOrderAction(deps: ListenerDeps) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const tradeId = tradeIdOf(args.action.value);
    if (tradeId === undefined) return;
    const checked = await deps.approvals.rejectable(tradeId, args.body.user.id);
    if ('refused' in checked) {
      await tell(args, checked.refused);
      return;
    }
    await args.client.views.open({
      trigger_id: args.body.trigger_id,
      view: buildRejectModal({ tradeId, ...orderIntentOf(checked.trade) }),
    });
  };
}

/** The reject form: the reason is required; a refusal (already decided, not an approver) shows next to it. */
export function rejectOrderSubmission(deps: ListenerDeps) {
  return async ({ ack, body, view }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs): Promise<void> => {
    const tradeId = tradeIdOf(view.private_metadata);
    const raw = view.state.values[REJECT_REASON_FIELD.blockId]?.[REJECT_REASON_FIELD.actionId]?.value ?? undefined;
    const checked = checkRejectReason(raw);
    if (tradeId === undefined || checked.reason === undefined) {
      await ack({
        response_action: 'errors',
        errors: { [REJECT_REASON_FIELD.blockId]: checked.error ?? 'This form no longer names an order.' },
      });
      return;
    }
    // Decided before the ack (a database write, no broker call): a refusal is shown in the form.
    let outcome: ApprovalOutcome;
    try {
      outcome = await deps.inFlight.run(() => deps.approvals.reject(tradeId, body.user.id, checked.reason!));
    } catch (err) {
      // The form stays open with the reason typed; Slack's own "trouble connecting" says nothing useful.
      deps.logger.error({ err, user: body.user.id, trade_id: tradeId }, 'could not record a rejection');
      await ack({ response_action: 'errors', errors: { [REJECT_REASON_FIELD.blockId]: REJECT_FAILED } });
      return;
    }
    if (outcome.kind === 'refused') {
      await ack({ response_action: 'errors', errors: { [REJECT_REASON_FIELD.blockId]: outcome.message } });
      return;
    }
    await ack();
  };
}
