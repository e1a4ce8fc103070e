import { ErrorCode, type WebClient } from '@slack/web-api';
import type { DigestScheduledPayload } from '../../domain/notifications';
import type { Logger } from '../../logger';
import type { DigestService } from '../../services/digest';
import type { SlackMessage } from '../block-kit/limits';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { ChartImages } from '../deps';
import { buildDigestMessage, type DigestView } from './digest-message';

/** What drawing the digest needs: the scheduled post and `/portfolio digest` draw it the same way. */
export interface DigestSources {
  client: WebClient;
  digest: DigestService;
  charts: ChartImages;
  logger: Logger;
}

/**
 * The digest of `tradingDate` (default today) as it is drawn: the report, the chart when there is
 * one, and a link to the open reconciliation alert. `strictUpload` throws when a chart upload failed
 * in a way worth retrying (Slack away), so the scheduled post waits for it rather than going without.
 */
export async function digestView(
  sources: DigestSources,
  tradingDate?: string,
  options: { strictUpload?: boolean } = {},
): Promise<DigestView> {
  const [report, chart] = await Promise.all([
    sources.digest.report(tradingDate),
    sources.charts.current({ throwOnUploadFailure: options.strictUpload }),
  ]);
  const alert = report.books?.openAlert;
  const alertPermalink = alert ? await permalink(sources, alert.channelId, alert.messageTs) : undefined;
  return { report, chart, alertPermalink };
}

/** A link to the alert is a nicety: without one the digest still says the books disagree. */
async function permalink(sources: DigestSources, channel: string, messageTs: string): Promise<string | undefined> {
  try {
    return (await sources.client.chat.getPermalink({ channel, message_ts: messageTs })).permalink;
  } catch (err) {
    sources.logger.warn({ error: slackErrorCode(err) }, 'could not get the open alert’s permalink for the digest');
    return undefined;
  }
}

/** Slack answered (refused or rate limited): nothing was posted. Anything else (a timeout) may have been. */
function slackAnswered(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === ErrorCode.PlatformError || code === ErrorCode.RateLimitedError || code === ErrorCode.HTTPError;
}

/**
 * Posts the scheduled closing digest, an outbox delivery (topic `digest.scheduled`): it uploads the
 * chart (files.uploadV2, private, reused for 15 minutes) and then posts the message whose image
 * block references it. Slack away at either step fails the delivery and the outbox retries it; a
 * refused upload (missing_scope) or an image Slack cannot show yet (invalid_blocks) posts the digest
 * with the text trend instead. Posting is claimed in the day's row first, so a delivery the outbox
 * gave up waiting for and a redelivery never both post; once posted, the day is marked.
 */
export class DigestPublisher {
  private readonly sources: DigestSources;

  constructor(client: WebClient, digest: DigestService, charts: ChartImages, logger: Logger) {
    this.sources = { client, digest, charts, logger };
  }

  /** The outbox handler: throws to be retried. */
  async deliverScheduled(payload: DigestScheduledPayload): Promise<void> {
    const { digest, logger } = this.sources;
    const context = { trading_date: payload.tradingDate, channel: payload.channelId };
    if ((await digest.find(payload.tradingDate))?.messageTs) return;
    const view = await digestView(this.sources, payload.tradingDate, { strictUpload: true });
    if (!(await digest.beginPosting(payload.tradingDate)))
      throw new Error('another delivery of this digest is posting it; retrying once it has finished or lapsed');
    let ts: string | undefined;
    try {
      ts = await this.post(payload.channelId, buildDigestMessage(view));
    } catch (err) {
      if (!view.chart || slackErrorCode(err) !== 'invalid_blocks') return this.failed(payload.tradingDate, err);
      // Slack may still be processing a file uploaded moments ago: the text trend stands in.
      logger.warn({ ...context, file: view.chart.fileId }, 'Slack refused the digest’s chart; posting without it');
      ts = await this.post(payload.channelId, buildDigestMessage({ ...view, chart: undefined })).catch((e: unknown) =>
        this.failed(payload.tradingDate, e),
      );
    }
    if (ts) await digest.markPosted(payload.tradingDate, ts);
    logger.info(context, 'closing digest posted');
  }

  private async post(channel: string, message: SlackMessage): Promise<string | undefined> {
    return (await this.sources.client.chat.postMessage({ channel, text: message.text, blocks: message.blocks })).ts;
  }

  /** Slack's definite refusal frees the claim for the retry; an unknown outcome keeps it until it lapses. */
  private async failed(tradingDate: string, err: unknown): Promise<never> {
    if (slackAnswered(err)) await this.sources.digest.endPosting(tradingDate);
    throw err;
  }
}
