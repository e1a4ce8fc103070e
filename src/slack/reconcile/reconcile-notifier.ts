import type { WebClient } from '@slack/web-api';
import type { RunFinishedPayload, StoredDiscrepancy } from '../../domain/reconciliation';
import { breakdownFromDetails, isPositionKind } from '../../domain/reconciliation';
import type { Logger } from '../../logger';
import type { ReconcileReport, ReconcileService } from '../../services/reconcile-service';
import { postMessage, updateMessage } from '../block-kit/chat';
import type { SlackMessage } from '../block-kit/limits';
import { slackErrorCode } from '../block-kit/slack-errors';
import {
  type AlertFinding,
  type AlertRef,
  buildAcknowledgedNote,
  buildAdjustmentNote,
  buildChangedNote,
  buildOutageMessage,
  buildReconcileAlert,
  buildReconcileAlertDetails,
  buildRecoveredMessage,
  buildResolvedNote,
} from './reconcile-alert';

export function toAlertFinding(d: StoredDiscrepancy): AlertFinding {
  return {
    kind: d.kind,
    symbol: d.symbol,
    booksQty: d.booksQty ?? undefined,
    brokerQty: d.brokerQty ?? undefined,
    difference: d.difference ?? undefined,
    breakdown: breakdownFromDetails(d.details),
    firstSeenAt: d.firstSeenAt,
    resolvedAt: isPositionKind(d.kind) ? (d.resolvedAt ?? undefined) : undefined,
    acknowledgedBy: d.acknowledgedBy ?? undefined,
    acknowledgedAt: d.acknowledgedAt ?? undefined,
    order: d.details.order,
  };
}

/**
 * What an operator can do about the Slack errors that mean the alert channel is wrong. Alerts not
 * posted are retried on the next run.
 */
const CHANNEL_HINTS: Record<string, string> = {
  channel_not_found:
    'RECONCILE_CHANNEL_ID names no channel the app can see: ' +
    'use the channel ID (C…), and invite the app if the channel is private.',
  not_in_channel: 'The app is not a member of RECONCILE_CHANNEL_ID: invite it to the channel (/invite @Slack OMS).',
  is_archived: 'RECONCILE_CHANNEL_ID is archived: unarchive it or choose another channel.',
};

function alertsOf(findings: readonly StoredDiscrepancy[]): AlertRef[] {
  const refs = new Map<string, AlertRef>();
  for (const f of findings) {
    if (f.slackChannelId && f.slackMessageTs)
      refs.set(`${f.slackChannelId}/${f.slackMessageTs}`, { channelId: f.slackChannelId, messageTs: f.slackMessageTs });
  }
  return [...refs.values()];
}

/**
 * Reconciliation alerts in RECONCILE_CHANNEL_ID (unset: the run summary is only logged). One
 * message per set of new findings, with the details in its thread; later runs edit that message
 * ("still open, last checked …", new figures, resolved) and add short thread notes. Each notice
 * comes from the outbox, in the order the runs and actions happened; every render reads the
 * findings from the database, and the message each belongs to is stored with it, so a restart or
 * another instance continues the same messages. Failures are thrown for the outbox to retry (or,
 * for a channel the app can't post to, to give up on: the next run posts what is still open).
 */
export class SlackReconcileNotifier {
  constructor(
    private readonly client: WebClient,
    private readonly reconcile: ReconcileService,
    private readonly channelId: string | undefined,
    private readonly logger: Logger,
  ) {}

  async runFinished(payload: RunFinishedPayload): Promise<void> {
    const report = await this.reconcile.runNotice(payload);
    if (report) await this.explained(() => this.renderRun(report));
  }

  async alertAcknowledged(payload: {
    channelId: string;
    messageTs: string;
    userId: string;
    at: string;
  }): Promise<void> {
    await this.explained(async () => {
      const alert = { channelId: payload.channelId, messageTs: payload.messageTs };
      await this.refreshAlert(alert);
      await this.post(buildAcknowledgedNote(payload.userId, new Date(payload.at)), alert);
    });
  }

  async booksAdjusted(payload: { adjustmentId: number }): Promise<void> {
    const notice = await this.reconcile.adjustmentNotice(payload.adjustmentId);
    if (!notice?.finding) return;
    const [alert] = alertsOf([notice.finding]);
    await this.explained(() => this.post(buildAdjustmentNote(notice.adjustment), alert));
  }

  /** Logs what an operator can do about a channel the app can't use, then lets the failure through. */
  private async explained(work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (err) {
      const error = slackErrorCode(err);
      this.logger.warn(
        { error, channel: this.channelId, hint: CHANNEL_HINTS[error] },
        'could not update the reconciliation alert in Slack',
      );
      throw err;
    }
  }

  private async renderRun(report: ReconcileReport): Promise<void> {
    const { run } = report;
    const checkedAt = run.finishedAt ?? run.startedAt;
    if (!this.channelId) return;
    if (run.outcome === 'failed') {
      if (report.previousOutcome !== 'failed')
        await this.post(buildOutageMessage(run.error ?? 'unknown error', checkedAt));
      return;
    }
    if (report.previousOutcome === 'failed') await this.post(buildRecoveredMessage(checkedAt));

    // New findings, plus open ones whose alert never made it to Slack (posting failed, or the channel was set later).
    const unposted = new Map<number, StoredDiscrepancy>();
    for (const f of [...report.created, ...(await this.reconcile.openFindingsWithoutAlert())])
      if (!f.slackMessageTs) unposted.set(f.id, f);
    if (unposted.size > 0) await this.postAlert([...unposted.values()], report);

    const resolvedIds = new Set(report.resolved.map((f) => f.id));
    const changedIds = new Set(report.changed.map((f) => f.id));
    for (const alert of alertsOf([...report.changed, ...report.unchanged, ...report.resolved])) {
      const findings = await this.refreshAlert(alert);
      const resolvedNow = findings.filter((f) => resolvedIds.has(f.id));
      if (resolvedNow.length > 0) {
        const allResolved = findings.filter((f) => isPositionKind(f.kind)).every((f) => f.resolvedAt !== null);
        await this.post(
          buildResolvedNote(
            resolvedNow.map((f) => f.symbol),
            allResolved,
            checkedAt,
          ),
          alert,
        );
      }
      const changedNow = findings.filter((f) => changedIds.has(f.id));
      if (changedNow.length > 0) await this.post(buildChangedNote(changedNow.map(toAlertFinding), checkedAt), alert);
    }
  }

  private async postAlert(findings: StoredDiscrepancy[], report: ReconcileReport): Promise<void> {
    const checkedAt = report.run.finishedAt ?? report.run.startedAt;
    const view = { findings: findings.map(toAlertFinding), lastCheckedAt: checkedAt };
    const posted = await this.post(buildReconcileAlert(view));
    if (!posted) return;
    await this.reconcile.attachAlert(
      findings.map((f) => f.id),
      posted.channelId,
      posted.messageTs,
    );
    await this.post(
      buildReconcileAlertDetails({
        ...view,
        runId: report.run.id,
        trigger: report.run.trigger,
        brokerRequests: report.run.brokerRequests,
      }),
      posted,
    );
    this.logger.info(
      { channel: posted.channelId, ts: posted.messageTs, discrepancies: findings.map((f) => f.key) },
      'reconciliation alert posted',
    );
  }

  /** Redraws one alert from the stored findings; returns them. "Last checked" is the last run that judged them. */
  private async refreshAlert(alert: AlertRef): Promise<StoredDiscrepancy[]> {
    const findings = await this.reconcile.findingsOfAlert(alert.channelId, alert.messageTs);
    if (findings.length === 0) return findings;
    const lastCheckedAt = new Date(
      Math.max(...findings.map((f) => Math.max(f.lastSeenAt.getTime(), f.resolvedAt?.getTime() ?? 0))),
    );
    const message = buildReconcileAlert({ findings: findings.map(toAlertFinding), lastCheckedAt });
    await updateMessage(this.client, { channel: alert.channelId, ts: alert.messageTs }, message);
    return findings;
  }

  /** Posts to the alert channel (in an alert's thread when given); undefined when there is no channel. */
  private async post(message: SlackMessage, thread?: AlertRef): Promise<AlertRef | undefined> {
    const channel = thread?.channelId ?? this.channelId;
    if (!channel) return undefined;
    const posted = await postMessage(this.client, channel, message, thread?.messageTs);
    return { channelId: posted.channel, messageTs: posted.ts };
  }
}
