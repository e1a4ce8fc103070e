import type { BlockAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { dec } from '../../domain/money';
import type { ReconcileTrigger } from '../../domain/reconciliation';
import type { ReconcileResult } from '../../services/reconcile-service';
import type { SlackMessage } from '../block-kit/limits';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { ButtonArgs, ListenerDeps } from '../deps';
import { buildAdoptModal } from './adopt-modal';
import { type AlertRef, buildAdminsOnlyMessage, buildReconcileNote, buildReconcileRunSummary } from './reconcile-alert';

/**
 * Runs reconciliation for someone in Slack (Home tab button, `/portfolio reconcile`, "Re-check
 * now") and answers with what it found. Non-admins get a refusal and nothing runs.
 */
export async function runReconcileFromSlack(
  deps: ListenerDeps,
  args: { userId: string; trigger?: Extract<ReconcileTrigger, 'manual' | 'recheck'> },
): Promise<SlackMessage> {
  if (!deps.access.isAdmin(args.userId)) return buildAdminsOnlyMessage();
  deps.logger.info({ user: args.userId, trigger: args.trigger ?? 'manual' }, 'reconciliation requested');
  const result = await deps.inFlight.run(() => deps.reconcile.reconcilePositions(args.trigger ?? 'manual'));
  return buildReconcileRunSummary(summaryView(result, deps.config.reconcileChannelId));
}

function summaryView(result: ReconcileResult, channelId: string | undefined) {
  if (result.kind === 'busy') return { kind: 'busy' as const, channelId };
  const { run, created, resolved } = result.report;
  return {
    kind: 'finished' as const,
    outcome: run.outcome,
    error: run.error,
    open: run.openDiscrepancies,
    created: created.length,
    resolved: resolved.length,
    symbolsChecked: run.symbolsChecked,
    ordersChecked: run.ordersChecked,
    channelId,
  };
}

/** Where the alert the button sits on is. */
function alertOf(body: BlockAction): AlertRef | undefined {
  const channelId = body.channel?.id ?? body.container?.channel_id;
  const messageTs = body.message?.ts ?? body.container?.message_ts;
  return channelId && messageTs ? { channelId, messageTs } : undefined;
}

async function tell(client: WebClient, channel: string, user: string, message: SlackMessage): Promise<void> {
  await client.chat.postEphemeral({ channel, user, text: message.text, blocks: message.blocks });
}

/** A button on an alert that only admins may use: acked at once; anyone else is told it is for admins. */
function adminAlertButton(deps: ListenerDeps, handle: (alert: AlertRef, args: ButtonArgs) => Promise<void>) {
  return async (args: ButtonArgs): Promise<void> => {
    await args.ack();
    const alert = alertOf(args.body);
    if (!alert) return;
    if (!deps.access.isAdmin(args.body.user.id)) {
      await tell(args.client, alert.channelId, args.body.user.id, buildAdminsOnlyMessage());
      return;
    }
    await handle(alert, args);
  };
}

export function acknowledgeAlertAction(deps: ListenerDeps) {
  return adminAlertButton(deps, async (alert, { body, client }) => {
    const userId = body.user.id;
    const findings = await deps.reconcile.acknowledgeAlert(alert.channelId, alert.messageTs, userId);
    if (findings.length === 0)
      await tell(client, alert.channelId, userId, buildReconcileNote('This alert is not in the books any more.'));
  });
}

export function recheckAlertAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const alert = alertOf(body);
    if (!alert) return;
    const answer = await runReconcileFromSlack(deps, { userId: body.user.id, trigger: 'recheck' });
    await tell(client, alert.channelId, body.user.id, answer);
  };
}

export function adoptBrokerQuantityAction(deps: ListenerDeps) {
  return adminAlertButton(deps, async (alert, { body, client }) => {
    const userId = body.user.id;
    const choices = await deps.reconcile.adjustmentChoices(alert.channelId, alert.messageTs);
    const view = buildAdoptModal({
      findings: choices.findings.map((f) => ({
        discrepancyId: f.id,
        symbol: f.symbol,
        booksQty: f.booksQty ?? dec(0),
        brokerQty: f.brokerQty ?? dec(0),
        difference: f.difference ?? dec(0),
      })),
      portfolios: choices.portfolios,
      defaultPortfolio: choices.defaultPortfolio,
      alert,
    });
    await client.views.open({ trigger_id: body.trigger_id, view }).catch(async (err: unknown) => {
      deps.logger.warn({ error: slackErrorCode(err) }, 'could not open the adjustment form');
      await tell(
        client,
        alert.channelId,
        userId,
        buildReconcileNote('Slack didn’t let us open the form in time. Please press the button again.'),
      );
    });
  });
}

/** Home tab "Reconcile now": the answer goes to the admin's DM, as the Home tab has no channel. */
export function homeReconcileNowAction(deps: ListenerDeps) {
  return async ({ ack, body, client }: ButtonArgs): Promise<void> => {
    await ack();
    const answer = await runReconcileFromSlack(deps, { userId: body.user.id });
    await client.chat.postMessage({ channel: body.user.id, text: answer.text, blocks: answer.blocks });
  };
}
