import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxEntryEntity } from '../../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { OutboxRepository } from '../../src/db/repositories/outbox-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import type { NotificationHandlers } from '../../src/domain/notifications';
import type { NewTrade } from '../../src/domain/trade';
import { type DeliveryFailure, OutboxWorker } from '../../src/jobs/outbox-worker';
import { createLogger } from '../../src/logger';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { LogCapture } from '../support/launch';

let sequence = 0;

function row(overrides: Partial<NewTrade> = {}): NewTrade {
  sequence += 1;
  return {
    clientOrderId: `oms-outbox-${sequence}`,
    source: 'slack',
    symbol: 'AAPL',
    side: 'buy',
    quantity: dec(1),
    orderType: 'market',
    timeInForce: 'day',
    extendedHours: false,
    portfolioName: 'Outbox',
    userId: 'U0TRADER',
    ...overrides,
  };
}

const retryAll = (): DeliveryFailure => ({ retry: true, reason: 'Slack is down' });

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the outbox on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orm: Orm;
    let other: Orm;
    let outbox: OutboxRepository;
    let trades: TradeRepository;
    const workers: OutboxWorker[] = [];

    // What is waiting, oldest first (the app itself only ever claims entries).
    const topics = async () => {
      const entries = await orm.em.fork().find(OutboxEntryEntity, {}, { orderBy: { id: 'asc' } });
      return entries.map((e) => [e.topic, e.stream, e.version]);
    };
    const worker = (
      handlers: NotificationHandlers,
      options: { owner: string; orm?: Orm; classify?: (err: unknown) => DeliveryFailure; logs?: LogCapture },
    ) => {
      const logger = createLogger({ level: 'debug', secrets: [], destination: options.logs ?? new LogCapture() });
      const w = new OutboxWorker(
        new OutboxRepository(options.orm ?? orm),
        handlers,
        options.classify ?? retryAll,
        logger,
        { owner: options.owner, pollIntervalMs: 20, concurrency: 4 },
      );
      workers.push(w);
      return w;
    };

    beforeAll(async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      other = await initORM(db.target);
      outbox = new OutboxRepository(orm);
      trades = new TradeRepository(orm);
    });
    afterEach(async () => {
      for (const w of workers.splice(0)) await w.stop();
      await orm.em.fork().getConnection().execute('delete from outbox');
    });
    afterAll(async () => {
      await other?.close(true);
      await orm?.close(true);
      await db?.drop();
    });

    it(
      'writes what traders must be told with the change itself, ' +
        'one pending edit per order however many changes, and the final state once',
      async () => {
        const { trade } = await trades.insertPending(row());
        expect(await topics()).toEqual([
          ['trade.changed', `trade:${trade.id}`, 1],
          ['trader.changed', 'trader:U0TRADER', 1],
        ]);
        await trades.update(trade.id, { status: 'accepted', alpacaOrderId: `a-${trade.id}`, alpacaStatus: 'new' });
        await trades.update(trade.id, { status: 'partially_filled', alpacaFilledQty: dec('0.5') });
        // Storing where the confirmation is shows nothing new to anyone.
        await trades.update(trade.id, { slackChannelId: 'C1', slackMessageTs: '1.0001' });
        expect(await topics()).toEqual([
          ['trade.changed', `trade:${trade.id}`, 3],
          ['trader.changed', 'trader:U0TRADER', 3],
        ]);
        await trades.update(trade.id, { status: 'filled', alpacaFilledQty: dec(1) });
        await trades.update(trade.id, { alpacaFilledPrice: dec('189.42') });
        expect(await topics()).toEqual([
          ['trade.changed', `trade:${trade.id}`, 5],
          ['trader.changed', 'trader:U0TRADER', 5],
          ['trade.finished', `trade:${trade.id}`, 1],
        ]);
      },
    );

    it('rows nobody placed through the app (the earlier OMS’s, adopted broker orders) tell nobody', async () => {
      for (const source of ['legacy', 'adopted'] as const) {
        const { trade } = await trades.insertPending(row({ source, userId: 'reconciler' }));
        await trades.update(trade.id, { status: 'filled' });
      }
      expect(await outbox.count()).toBe(0);
    });

    it(
      'hands out only the oldest entry of each stream, to one claimant at a time, ' +
        'and a delivery overtaken by a newer state is delivered again',
      async () => {
        const first = await trades.insertPending(row());
        await trades.update(first.trade.id, { status: 'filled', alpacaOrderId: `a-${first.trade.id}` });
        const claimsA = new OutboxRepository(orm);
        const claimsB = new OutboxRepository(other);
        const [a, b] = await Promise.all([claimsA.claim('A', 10, 30_000), claimsB.claim('B', 10, 30_000)]);
        const claimed = [...a, ...b];
        expect(new Set(claimed.map((e) => e.id)).size).toBe(claimed.length);
        // trade.changed and trader.changed (two streams); trade.finished waits behind trade.changed.
        expect(claimed.map((e) => e.topic).sort()).toEqual(['trade.changed', 'trader.changed']);

        const edit = claimed.find((e) => e.topic === 'trade.changed')!;
        const owner = a.includes(edit) ? 'A' : 'B';
        await trades.update(first.trade.id, { alpacaFilledPrice: dec('190') });
        expect(await (owner === 'A' ? claimsA : claimsB).complete(edit, owner)).toBe(false);
        const again = await claimsA.claim('A', 10, 30_000);
        expect(again.map((e) => e.topic)).toContain('trade.changed');
      },
    );

    it(
      'a worker delivers each stream in order; ' +
        'a failed delivery is retried on its own and does not hold up other streams',
      async () => {
        const delivered: string[] = [];
        let failures = 2;
        const first = await trades.insertPending(row({ userId: 'U0FIRST' }));
        await trades.update(first.trade.id, { status: 'filled', alpacaOrderId: `a-${first.trade.id}` });
        const second = await trades.insertPending(row({ userId: 'U0SECOND' }));
        const w = worker(
          {
            'trade.changed': async (p) => {
              if (p.tradeId === first.trade.id && failures-- > 0) throw new Error('Slack is down');
              delivered.push(`changed:${String(p.tradeId)}`);
            },
            'trade.finished': async (p) => void delivered.push(`finished:${String(p.tradeId)}`),
            'trader.changed': async (p) => void delivered.push(`trader:${String(p.userId)}`),
          },
          { owner: 'A' },
        );
        w.start();
        await expect.poll(() => delivered.length, { timeout: 15_000 }).toBe(5);
        expect(delivered.indexOf(`changed:${first.trade.id}`)).toBeLessThan(
          delivered.indexOf(`finished:${first.trade.id}`),
        );
        // The second order's stream went ahead while the first one's edit was waiting out its back-off.
        expect(delivered.indexOf(`changed:${second.trade.id}`)).toBeLessThan(
          delivered.indexOf(`changed:${first.trade.id}`),
        );
        expect(await outbox.count()).toBe(0);
      },
    );

    it(
      'gives up on a delivery Slack refused on its merits, ' +
        'with an error in the log, and goes on with the rest of the stream',
      async () => {
        const logs = new LogCapture();
        const delivered: string[] = [];
        const { trade } = await trades.insertPending(row());
        await trades.update(trade.id, { status: 'canceled', alpacaOrderId: `a-${trade.id}` });
        const w = worker(
          {
            'trade.changed': () => Promise.reject(new Error('invalid_blocks')),
            'trade.finished': async () => void delivered.push('finished'),
            'trader.changed': async () => void delivered.push('trader'),
          },
          { owner: 'A', logs, classify: (err) => ({ retry: false, reason: (err as Error).message }) },
        );
        w.start();
        await expect.poll(() => delivered.sort(), { timeout: 5_000 }).toEqual(['finished', 'trader']);
        expect(
          logs
            .entries()
            .some(
              (e) =>
                e.msg === 'gave up delivering a notification to Slack' &&
                e.error === 'invalid_blocks' &&
                e.level === 'error',
            ),
        ).toBe(true);
      },
    );

    it(
      'what was written while no worker ran (Slack down, the process restarted) is delivered ' +
        'by the next worker — and two workers on two instances deliver each entry once',
      async () => {
        const ids: number[] = [];
        for (let i = 0; i < 20; i += 1) {
          const { trade } = await trades.insertPending(row({ userId: `U0MANY${i % 5}` }));
          ids.push(trade.id);
          await trades.update(trade.id, { status: 'filled', alpacaOrderId: `a-${trade.id}` });
        }
        const deliveries = new Map<string, number>();
        const count = (key: string) => async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
        };
        const handlersFor = (): NotificationHandlers => ({
          'trade.changed': (p) => count(`changed:${String(p.tradeId)}`)(),
          'trade.finished': (p) => count(`finished:${String(p.tradeId)}`)(),
          'trader.changed': (p) => count(`trader:${String(p.userId)}`)(),
        });
        worker(handlersFor(), { owner: 'A' }).start();
        worker(handlersFor(), { owner: 'B', orm: other }).start();
        await expect.poll(() => outbox.count(), { timeout: 15_000 }).toBe(0);
        for (const id of ids) {
          expect(deliveries.get(`changed:${id}`)).toBe(1);
          expect(deliveries.get(`finished:${id}`)).toBe(1);
        }
        expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
      },
    );
  });
}
