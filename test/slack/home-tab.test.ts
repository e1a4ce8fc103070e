import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import type { HomeReport, TrendStatus } from '../../src/domain/portfolio-report';
import { createLogger } from '../../src/logger';
import type { PortfolioService } from '../../src/services/portfolio-service';
import { HomeTab } from '../../src/slack/home/home-tab';
import { LogCapture } from '../support/launch';
import { homeReport } from './views/portfolio-fixtures';

function setup(options: { trend?: TrendStatus; failPublish?: boolean } = {}) {
  const published: { userId: string; text: string }[] = [];
  let renders = 0;
  let release: () => void = () => undefined;
  let gate: Promise<void> = Promise.resolve();
  const service = {
    async home(userId: string): Promise<HomeReport> {
      renders += 1;
      await gate;
      return {
        ...homeReport(60),
        userId,
        trend: options.trend ?? {
          kind: 'ok',
          trend: (homeReport(0).trend as Extract<TrendStatus, { kind: 'ok' }>).trend,
        },
      };
    },
    async equityTrend(): Promise<TrendStatus> {
      return homeReport(0).trend;
    },
  } as unknown as PortfolioService;
  const client = {
    views: {
      publish: async (args: { user_id: string; view: { blocks: unknown[] } }) => {
        if (options.failPublish)
          throw Object.assign(new Error('An API error occurred: invalid_blocks'), {
            data: { error: 'invalid_blocks' },
          });
        published.push({ userId: args.user_id, text: JSON.stringify(args.view.blocks) });
        return { ok: true };
      },
    },
  } as unknown as WebClient;
  const logs = new LogCapture();
  const tab = new HomeTab(client, service, createLogger({ level: 'warn', secrets: [], destination: logs }));
  return {
    tab,
    published,
    logs,
    renders: () => renders,
    hold: () => {
      gate = new Promise((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

describe('HomeTab', () => {
  it('a burst of publishes for one user while one renders ends in exactly one more render', async () => {
    const s = setup();
    s.hold();
    const first = s.tab.publish('U1');
    const burst = [s.tab.publish('U1'), s.tab.publish('U1', { page: 2 }), s.tab.publish('U1', { page: 1 })];
    s.release();
    await Promise.all([first, ...burst]);
    expect(s.renders()).toBe(2);
    expect(s.published).toHaveLength(2);
    // The request made last wins: page 1 (the second page).
    expect(s.published[0]!.text).toContain('Positions 1–15 of 60');
    expect(s.published[1]!.text).toContain('Positions 16–30 of 60');
  });

  it('publishes at once, then again with the month of equity when it was not cached', async () => {
    const s = setup({ trend: { kind: 'pending' } });
    await s.tab.publish('U1');
    expect(s.published).toHaveLength(2);
    expect(s.published[0]!.text).toContain('_Loading…_');
    expect(s.published[1]!.text).toMatch(/`[▁▂▃▄▅▆▇█]+`/);
  });

  it(
    'publish logs a failure and never throws; ' + 'refresh (the outbox’s path) throws it, so the outbox retries',
    async () => {
      const s = setup({ failPublish: true });
      await expect(s.tab.publish('U7')).resolves.toBeUndefined();
      expect(s.logs.text()).toContain('could not publish the Home tab');
      expect(s.logs.text()).toContain('invalid_blocks');
      await expect(s.tab.refresh('U7')).rejects.toThrow();
    },
  );
});
