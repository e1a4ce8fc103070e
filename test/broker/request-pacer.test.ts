import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Lane, PACER_BUSY_MESSAGE, RequestPacer, type RequestPacerOptions } from '../../src/broker/request-pacer';
import { BrokerError } from '../../src/domain/errors';

/**
 * The two-lane pacer under fake timers: `Date.now` and `setTimeout` are both faked, so a minute
 * of pacing runs in microseconds and every start time is exact.
 */

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

interface Started {
  lane: Lane;
  id: number;
  at: number;
}

function pacerUnderTest(options: Omit<RequestPacerOptions, 'now'>) {
  const pacer = new RequestPacer({ ...options, now: () => Date.now() });
  const origin = Date.now();
  const started: Started[] = [];
  const refused: { lane: Lane; id: number; error: unknown }[] = [];
  const done: number[] = [];
  let next = 0;
  const send = (lane: Lane) => {
    const id = next++;
    const result = pacer.run(lane, async () => {
      started.push({ lane, id, at: Date.now() - origin });
      return id;
    });
    result.then(
      () => void done.push(id),
      (error: unknown) => void refused.push({ lane, id, error }),
    );
    return result;
  };
  const startedIds = (lane?: Lane) => started.filter((s) => !lane || s.lane === lane).map((s) => s.id);
  return { pacer, send, started, startedIds, refused, done };
}

/** Largest number of starts inside any window [t, t + intervalMs). */
function busiestWindow(times: number[], intervalMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= intervalMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('RequestPacer', () => {
  it('starts up to the limit at once, then one more each time a start leaves the window', async () => {
    const { send, started } = pacerUnderTest({ limit: 3, intervalMs: 1_000, reservedForOrders: 0, maxQueuedReads: 10 });
    send('read');
    await vi.advanceTimersByTimeAsync(400);
    for (let i = 0; i < 4; i++) send('read');
    expect(started.map((s) => s.at)).toEqual([0, 400, 400]);
    await vi.advanceTimersByTimeAsync(599);
    expect(started).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(started.map((s) => s.at)).toEqual([0, 400, 400, 1_000]);
    await vi.advanceTimersByTimeAsync(400);
    expect(started.map((s) => s.at)).toEqual([0, 400, 400, 1_000, 1_400]);
  });

  it('never lets reads take the share reserved for orders: an order goes at once while reads wait', async () => {
    const { send, started, startedIds } = pacerUnderTest({
      limit: 5,
      intervalMs: 1_000,
      reservedForOrders: 2,
      maxQueuedReads: 10,
    });
    for (let i = 0; i < 6; i++) send('read');
    expect(startedIds('read')).toEqual([0, 1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    send('order');
    send('order');
    expect(startedIds('order')).toEqual([6, 7]);
    expect(started.at(-1)?.at).toBe(100);
    send('order');
    expect(startedIds('order')).toEqual([6, 7]);
    // The reads' slots free first: the waiting order takes one ahead of the reads queued before it.
    await vi.advanceTimersByTimeAsync(900);
    expect(started.slice(5).map((s) => [s.id, s.at])).toEqual([[8, 1_000]]);
    await vi.advanceTimersByTimeAsync(100);
    expect(startedIds('read')).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses reads beyond the queue bound at once, with the sentence, and runs the queued ones later', async () => {
    const { send, refused, startedIds, done } = pacerUnderTest({
      limit: 2,
      intervalMs: 1_000,
      reservedForOrders: 1,
      maxQueuedReads: 2,
    });
    const reads = Array.from({ length: 6 }, () => send('read'));
    await Promise.allSettled(reads.slice(3));
    expect(startedIds()).toEqual([0]);
    expect(refused.map((r) => r.id)).toEqual([3, 4, 5]);
    for (const { error } of refused) {
      expect(error).toBeInstanceOf(BrokerError);
      expect(error).toMatchObject({ kind: 'rate_limited', message: PACER_BUSY_MESSAGE, ambiguous: false });
    }
    expect(PACER_BUSY_MESSAGE).toBe("Alpaca's request budget is busy right now — try again in a few seconds.");
    await vi.advanceTimersByTimeAsync(2_000);
    expect(done.sort()).toEqual([0, 1, 2]);
  });

  it('never refuses an order, however many are waiting', async () => {
    const { send, refused, done } = pacerUnderTest({
      limit: 2,
      intervalMs: 1_000,
      reservedForOrders: 1,
      maxQueuedReads: 0,
    });
    for (let i = 0; i < 50; i++) send('order');
    await vi.advanceTimersByTimeAsync(25_000);
    expect(refused).toEqual([]);
    expect(done).toHaveLength(50);
  });

  it('with no queue allowed, still runs a read at once when there is room', async () => {
    const { send, startedIds, refused } = pacerUnderTest({
      limit: 2,
      intervalMs: 1_000,
      reservedForOrders: 1,
      maxQueuedReads: 0,
    });
    send('read');
    send('read');
    await vi.advanceTimersByTimeAsync(0);
    expect(startedIds()).toEqual([0]);
    expect(refused.map((r) => r.id)).toEqual([1]);
  });

  it('lets orders use read capacity left unused: 300 orders at 190 a minute, never more in any 60 s', async () => {
    const { send, started, done } = pacerUnderTest({
      limit: 190,
      intervalMs: 60_000,
      reservedForOrders: 40,
      maxQueuedReads: 25,
    });
    for (let i = 0; i < 300; i++) send('order');
    expect(started).toHaveLength(190);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(done).toHaveLength(300);
    expect(
      busiestWindow(
        started.map((s) => s.at),
        60_000,
      ),
    ).toBe(190);
  });

  it('passes an operation failure to its caller and counts the attempt', async () => {
    const pacer = new RequestPacer({
      limit: 1,
      intervalMs: 1_000,
      reservedForOrders: 0,
      maxQueuedReads: 5,
      now: () => Date.now(),
    });
    await expect(
      pacer.run('read', () => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    let ran = false;
    const next = pacer.run('read', async () => (ran = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(ran).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(next).resolves.toBe(true);
  });

  it('refuses a reserve that leaves reads nothing', () => {
    expect(() => new RequestPacer({ limit: 3, intervalMs: 1_000, reservedForOrders: 3, maxQueuedReads: 1 })).toThrow(
      RangeError,
    );
  });

  it('holds its promises under any arrival pattern (property)', async () => {
    const arrival = fc.record({
      gapMs: fc.integer({ min: 0, max: 700 }),
      lane: fc.constantFrom<Lane>('order', 'read'),
    });
    const setup = fc.integer({ min: 1, max: 6 }).chain((limit) =>
      fc.record({
        limit: fc.constant(limit),
        reservedForOrders: fc.integer({ min: 0, max: limit - 1 }),
        maxQueuedReads: fc.integer({ min: 0, max: 4 }),
        arrivals: fc.array(arrival, { maxLength: 40 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(setup, async ({ limit, reservedForOrders, maxQueuedReads, arrivals }) => {
        const intervalMs = 1_000;
        const { send, started, refused } = pacerUnderTest({ limit, intervalMs, reservedForOrders, maxQueuedReads });
        const arrivedAt: number[] = [];
        let at = 0;
        for (const { gapMs, lane } of arrivals) {
          at += gapMs;
          await vi.advanceTimersByTimeAsync(gapMs);
          arrivedAt.push(at);
          // An order arriving with no order waiting and fewer than the reserve sent in the window must go at once.
          const ordersWaiting =
            started.filter((s) => s.lane === 'order').length <
            arrivals.slice(0, arrivedAt.length - 1).filter((a) => a.lane === 'order').length;
          const ordersInWindow = started.filter((s) => s.lane === 'order' && s.at > at - intervalMs).length;
          const before = started.length;
          void send(lane).catch(() => undefined);
          if (lane === 'order' && !ordersWaiting && ordersInWindow < reservedForOrders)
            expect(started.length).toBe(before + 1);
        }
        await vi.advanceTimersByTimeAsync(intervalMs * (arrivals.length + 1));

        expect(refused.every((r) => r.lane === 'read')).toBe(true);
        expect(started.length + refused.length).toBe(arrivals.length);
        expect(
          busiestWindow(
            started.map((s) => s.at),
            intervalMs,
          ),
        ).toBeLessThanOrEqual(limit);
        // When a read starts, the window holds at most the reads' share, the read included.
        started.forEach((read, index) => {
          if (read.lane !== 'read') return;
          const inWindow = started.slice(0, index + 1).filter((s) => s.at > read.at - intervalMs).length;
          expect(inWindow).toBeLessThanOrEqual(limit - reservedForOrders);
        });
      }),
      { numRuns: 150 },
    );
  });
});
