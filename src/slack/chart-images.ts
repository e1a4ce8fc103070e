import type { WebClient } from '@slack/web-api';
import { describeError } from '../domain/errors';
import type { Logger } from '../logger';
import { classifySlackFailure } from './block-kit/slack-errors';
import type { ChartImage, ChartImages } from './deps';

/** A rendered chart, as the performance chart service hands it out (cached there). */
export interface RenderedChart {
  png: Uint8Array;
  altText: string;
  generatedAt: Date;
}

/** A chart is uploaded again at most this often: the Home tab and the digest reuse the file meanwhile. */
export const CHART_UPLOAD_TTL_MS = 15 * 60_000;
/** After a failed upload, Home tabs show the text trend this long before the upload is tried again. */
export const CHART_UPLOAD_FAILURE_TTL_MS = 5 * 60_000;

/**
 * The performance chart as a Slack file: uploaded privately (files.uploadV2 without a channel)
 * and shown by `image` blocks that reference its id, on the Home tab and in the digest. One upload
 * serves every viewer for 15 minutes; concurrent callers share it; a failure is remembered for 5
 * minutes so Home publishes meanwhile make no upload calls. Superseded files are not deleted: a
 * Home tab nobody reopened, or an ephemeral `/portfolio digest`, may still show one.
 */
export class SlackChartImages implements ChartImages {
  private cached?: ChartImage & { uploadedAt: number; chartAt: number };
  private failedAt?: number;
  private inFlight?: Promise<ChartImage | undefined>;

  constructor(
    private readonly client: WebClient,
    private readonly charts: { chart(): Promise<RenderedChart | undefined> },
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async current(options: { throwOnUploadFailure?: boolean } = {}): Promise<ChartImage | undefined> {
    const now = this.now().getTime();
    if (this.cached && now - this.cached.uploadedAt < CHART_UPLOAD_TTL_MS) return this.cached;
    // The digest (strict) tries again anyway: once a day, and it must not go without a chart for a blip.
    if (
      !options.throwOnUploadFailure &&
      this.failedAt !== undefined &&
      now - this.failedAt < CHART_UPLOAD_FAILURE_TTL_MS
    )
      return undefined;
    this.inFlight ??= this.upload().finally(() => {
      this.inFlight = undefined;
    });
    try {
      const image = await this.inFlight;
      this.failedAt = undefined;
      return image;
    } catch (err) {
      this.failedAt = this.now().getTime();
      // Only a failure worth repeating (Slack away, rate limited) holds the digest back; a refusal on
      // its merits (missing_scope on an install not reinstalled since files:write) never passes.
      if (options.throwOnUploadFailure && classifySlackFailure(err).retry) throw err;
      this.logger.warn({ err: describeError(err) }, 'could not upload the performance chart; showing the text trend');
      return undefined;
    }
  }

  private async upload(): Promise<ChartImage | undefined> {
    const chart = await this.charts.chart();
    if (!chart) return undefined;
    // The chart service caches too: the same picture is not uploaded twice.
    if (this.cached && this.cached.chartAt === chart.generatedAt.getTime()) {
      this.cached = { ...this.cached, uploadedAt: this.now().getTime() };
      return this.cached;
    }
    const stamp = chart.generatedAt.toISOString().slice(0, 16).replace(/[-:T]/g, '');
    const result = await this.client.files.uploadV2({
      file: Buffer.from(chart.png),
      filename: `performance-${stamp}.png`,
      title: 'Account and portfolio value, last month',
      alt_text: chart.altText,
    });
    const fileId = uploadedFileId(result);
    if (!fileId) throw new Error('Slack did not return the uploaded chart’s file id');
    this.cached = {
      fileId,
      altText: chart.altText,
      uploadedAt: this.now().getTime(),
      chartAt: chart.generatedAt.getTime(),
    };
    return this.cached;
  }
}

/** files.uploadV2 answers `{ files: [completeUploadExternal's answer, …] }`, each with its `files`. */
function uploadedFileId(result: unknown): string | undefined {
  const completions = (result as { files?: { files?: { id?: string }[] }[] }).files ?? [];
  return completions.flatMap((c) => c.files ?? []).find((f) => typeof f.id === 'string')?.id;
}
