import { ErrorCode, type WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/logger';
import { CHART_UPLOAD_FAILURE_TTL_MS, SlackChartImages } from '../../../src/slack/chart-images';
import { buildHomeView } from '../../../src/slack/home/home-view';
import { checkBlockKit } from '../../support/slack/block-kit';
import { homeReport } from './portfolio-fixtures';

type Json = Record<string, any>;
const chart = { fileId: 'F0CHART', altText: 'Account equity, last month: ▁▃▅█ $100,000.00 → $101,500.00' };

describe('the Home tab’s chart', () => {
  it('an image block referencing the uploaded file, above the text trend, which stays as the fallback', () => {
    const view = buildHomeView(homeReport(2), { chart });
    expect(checkBlockKit('home', view)).toEqual([]);
    const blocks = view.blocks as Json[];
    const image = blocks.findIndex((b) => b.type === 'image');
    expect(blocks[image]).toEqual({ type: 'image', slack_file: { id: 'F0CHART' }, alt_text: chart.altText });
    expect(blocks[image + 1]?.text?.text).toMatch(/^\*Account equity, last month\*/);
  });

  it('no chart, or a viewer who may not see the account: the text trend alone', () => {
    for (const view of [
      buildHomeView(homeReport(2)),
      buildHomeView({ ...homeReport(2), account: { kind: 'restricted' }, trend: { kind: 'restricted' } }, { chart }),
    ]) {
      expect(checkBlockKit('home', view)).toEqual([]);
      expect(view.blocks.some((b) => b.type === 'image')).toBe(false);
    }
  });
});

describe('the chart’s upload', () => {
  const rendered = { png: new Uint8Array([1]), altText: 'trend', generatedAt: new Date('2026-12-02T21:00:00Z') };
  const slackRefusal = (error: string) =>
    Object.assign(new Error(error), { code: ErrorCode.PlatformError, data: { error } });

  function images(failure: () => Error) {
    let now = new Date('2026-12-02T21:00:00Z');
    const uploads: unknown[] = [];
    const client = {
      files: {
        uploadV2: async (args: unknown) => {
          uploads.push(args);
          throw failure();
        },
      },
    } as unknown as WebClient;
    const charts = new SlackChartImages(
      client,
      { chart: async () => rendered },
      createLogger({ level: 'silent', secrets: [] }),
      () => now,
    );
    return { charts, uploads, later: (ms: number) => (now = new Date(now.getTime() + ms)) };
  }

  it('a failure is remembered for 5 minutes: Home publishes meanwhile make no upload calls', async () => {
    const { charts, uploads, later } = images(() => slackRefusal('missing_scope'));
    expect(await charts.current()).toBeUndefined();
    expect(await charts.current()).toBeUndefined();
    later(CHART_UPLOAD_FAILURE_TTL_MS - 1_000);
    expect(await charts.current()).toBeUndefined();
    expect(uploads).toHaveLength(1);
    later(2_000);
    await charts.current();
    expect(uploads).toHaveLength(2);
  });

  it('strict (the digest): held back by a failure worth retrying, never by a refusal (missing_scope)', async () => {
    expect(await images(() => slackRefusal('missing_scope')).charts.current({ throwOnUploadFailure: true })).toBe(
      undefined,
    );
    await expect(
      images(() => slackRefusal('internal_error')).charts.current({ throwOnUploadFailure: true }),
    ).rejects.toThrow('internal_error');
    // Strict callers try again even while a failure is remembered.
    const { charts, uploads } = images(() => new Error('socket hang up'));
    await charts.current();
    await expect(charts.current({ throwOnUploadFailure: true })).rejects.toThrow('socket hang up');
    expect(uploads).toHaveLength(2);
  });
});
