import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DigestScheduler, scheduledTimeToday } from '../../src/jobs/digest-scheduler';
import { createLogger } from '../../src/logger';
import type { ScheduledDigestOutcome } from '../../src/services/digest';

const CRON = '15 16 * * 1-5';
/** Wednesday 2 December 2026 in New York (EST, UTC−5). */
const at = (nyTime: string, date = '2026-12-02') => new Date(`${date}T${nyTime}:00-05:00`);

describe('scheduledTimeToday', () => {
  it('today’s DIGEST_CRON time once it has passed, in New York time; nothing before it or on a day it skips', () => {
    expect(scheduledTimeToday(CRON, at('16:20'))?.toISOString()).toBe('2026-12-02T21:15:00.000Z');
    expect(scheduledTimeToday(CRON, at('16:15'))?.toISOString()).toBe('2026-12-02T21:15:00.000Z');
    expect(scheduledTimeToday(CRON, at('16:14'))).toBeUndefined();
    expect(scheduledTimeToday(CRON, at('23:59', '2026-12-05'))).toBeUndefined();
    expect(scheduledTimeToday('30 15 16 * * *', at('16:20'))?.toISOString()).toBe('2026-12-02T21:15:30.000Z');
  });
});

describe('DigestScheduler catching up', () => {
  let scheduler: DigestScheduler | undefined;
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = undefined;
  });

  function start(now: () => Date, outcomes: ScheduledDigestOutcome['kind'][]) {
    const runs: Date[] = [];
    const claim = async (when: Date): Promise<ScheduledDigestOutcome> => {
      runs.push(when);
      const kind = outcomes.shift() ?? 'already_claimed';
      return kind === 'calendar_unavailable'
        ? { kind, tradingDate: '2026-12-02', error: 'HTTP 500' }
        : { kind, tradingDate: '2026-12-02' };
    };
    scheduler = new DigestScheduler(CRON, claim, createLogger({ level: 'silent', secrets: [] }), {
      now,
      retryMs: 20,
    });
    scheduler.start();
    return runs;
  }

  it('a leader that starts after today’s time (a restart, a leader change) runs it at once, once', async () => {
    const runs = start(() => at('16:40'), ['claimed']);
    await sleep(100);
    expect(runs).toEqual([at('16:40')]);
  });

  it('a leader that starts before today’s time leaves it to the schedule', async () => {
    const runs = start(() => at('16:10'), ['claimed']);
    await sleep(100);
    expect(runs).toEqual([]);
  });

  it('Alpaca’s calendar away, then back: retried until the day is claimed, then no more', async () => {
    const runs = start(() => at('16:40'), ['calendar_unavailable', 'calendar_unavailable', 'claimed']);
    await expect.poll(() => runs.length).toBe(3);
    await sleep(100);
    expect(runs).toHaveLength(3);
  });

  it('no retry once the New York day is over', async () => {
    let now = at('23:59');
    const runs = start(() => now, ['calendar_unavailable']);
    await expect.poll(() => runs.length).toBe(1);
    now = at('00:01', '2026-12-03');
    await sleep(100);
    expect(runs).toHaveLength(1);
  });
});
