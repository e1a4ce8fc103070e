import { WebClient } from '@slack/web-api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapTradeUpdate } from '../../src/broker/alpaca-mapping';
import type { BrokerOrder } from '../../src/broker/broker';
import { initORM, migrateToLatest } from '../../src/db/orm';
import { OutboxRepository } from '../../src/db/repositories/outbox-repository';
import { clientOrderIdForView, type TradeStatus, tradeStatusFromBroker } from '../../src/domain/order';
import type { OrderFormInput } from '../../src/domain/order-form';
import type { Trade } from '../../src/domain/trade';
import { OutboxWorker } from '../../src/jobs/outbox-worker';
import { createLogger } from '../../src/logger';
import { OrderConfirmations } from '../../src/services/order-confirmations';
import { classifySlackFailure } from '../../src/slack/block-kit/slack-errors';
import { SlackOrderMessenger } from '../../src/slack/trade/order-messenger';
import { type AlpacaStandIn, startAlpacaStandIn, type TradeUpdate } from '../support/alpaca-standin';
import { type CoreInstance, startCore } from '../support/core';
import { databaseSuiteName, type TestDatabaseKind, testDatabaseTargets } from '../support/databases';
import { storedFillQty } from '../support/fills';
import { LogCapture } from '../support/launch';
import { DEFAULT_CHANNEL_ID, type SlackStandIn, startSlackStandIn } from '../support/slack-standin';
import { orderFormInput } from '../support/trading';

/**
 * A model-based test of the order lifecycle: random interleavings of submissions (with ambiguous
 * and definite broker errors and 429s), fills and cancels at the broker, stream events duplicated
 * and replayed late, old order snapshots, Slack outages, restarts and a second instance — then,
 * once the faults stop, the invariants: at most one broker order per client_order_id, nothing
 * placed that the books lack, the books' filled quantity equal to Alpaca's for every order, no
 * status ever stepping back, and every final state shown in Slack with its thread reply.
 *
 * MODEL_RUNS sets the number of runs per database (default 6); a failure prints fast-check's
 * seed and path for replay.
 */

const RUNS = Number(process.env.MODEL_RUNS ?? 6);
const LEASE_MS = 1_200;
const TRADER = 'U0TESTUSER';

type Fault = 'none' | 'ambiguous500' | 'unavailable503' | 'rateLimited' | 'dropAfterPlacing' | 'dropBeforePlacing';

type Command =
  | { kind: 'submit'; instance: number; qty: number; fault: Fault }
  | { kind: 'fill'; order: number; qty: number }
  | { kind: 'cancel'; order: number }
  | { kind: 'lateSnapshot'; snapshot: number; instance: number }
  | { kind: 'duplicateEvent'; event: number; instance: number }
  | { kind: 'slack'; up: boolean }
  | { kind: 'restart'; instance: number }
  | { kind: 'settle'; instance: number }
  | { kind: 'pause'; ms: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('submit' as const),
      instance: fc.integer({ min: 0, max: 1 }),
      qty: fc.integer({ min: 1, max: 5 }),
      fault: fc.constantFrom<Fault>(
        'none',
        'none',
        'ambiguous500',
        'unavailable503',
        'rateLimited',
        'dropAfterPlacing',
        'dropBeforePlacing',
      ),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('fill' as const),
      order: fc.nat(20),
      qty: fc.integer({ min: 1, max: 5 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), order: fc.nat(20) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('lateSnapshot' as const),
      snapshot: fc.nat(50),
      instance: fc.integer({ min: 0, max: 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('duplicateEvent' as const),
      event: fc.nat(50),
      instance: fc.integer({ min: 0, max: 1 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('slack' as const), up: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('restart' as const), instance: fc.integer({ min: 0, max: 1 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('settle' as const), instance: fc.integer({ min: 0, max: 1 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 200 }) }) },
);

const RANK: Record<TradeStatus, number> = {
  pending_approval: 0,
  pending_submit: 0,
  submitted: 1,
  accepted: 2,
  partially_filled: 3,
  filled: 4,
  canceled: 4,
  expired: 4,
  rejected: 4,
  failed: 4,
};
const FINAL_WORDS: Partial<Record<TradeStatus, RegExp>> = {
  filled: /Filled/,
  canceled: /Canceled/,
  rejected: /Rejected/,
  failed: /Not placed/,
  expired: /Expired/,
};

const FAULTS: Record<Exclude<Fault, 'none'>, Parameters<AlpacaStandIn['inject']>[0]> = {
  ambiguous500: {
    method: 'POST',
    path: '/v2/orders',
    status: 500,
    afterHandling: true,
    body: { code: 50000000, message: 'internal server error' },
  },
  unavailable503: {
    method: 'POST',
    path: '/v2/orders',
    status: 503,
    body: { code: 50300000, message: 'service unavailable' },
  },
  rateLimited: {
    method: 'POST',
    path: '/v2/orders',
    status: 429,
    body: { code: 42910000, message: 'rate limit exceeded' },
    resetInSeconds: 1,
  },
  dropAfterPlacing: { method: 'POST', path: '/v2/orders', dropConnection: true, afterHandling: true },
  dropBeforePlacing: { method: 'POST', path: '/v2/orders', dropConnection: true },
};

function buyForm(qty: number): OrderFormInput {
  return orderFormInput({ portfolio: 'Model', quantity: String(qty) });
}

interface Instance {
  core: CoreInstance;
  worker: OutboxWorker;
}

/**
 * One run's world: a fresh database, Alpaca and Slack, and two instances (the first one leads: it
 * consumes trade_updates).
 */
class World {
  readonly instances: Instance[] = [];
  readonly snapshots: BrokerOrder[] = [];
  readonly inFlight: Promise<unknown>[] = [];
  readonly statuses = new Map<number, TradeStatus[]>();
  readonly violations: string[] = [];
  private views = 0;

  constructor(
    readonly database: Awaited<ReturnType<TestDatabaseKind['create']>>,
    readonly alpaca: AlpacaStandIn,
    readonly slack: SlackStandIn,
  ) {}

  static async create(kind: TestDatabaseKind): Promise<World> {
    const database = await kind.create();
    const orm = await initORM(database.target);
    await migrateToLatest(orm);
    await orm.close(true);
    const world = new World(
      database,
      await startAlpacaStandIn({ marketOpen: true, fillMode: 'manual' }),
      await startSlackStandIn(),
    );
    for (let i = 0; i < 2; i += 1) world.instances.push(await world.startInstance(i === 0));
    return world;
  }

  async startInstance(leader: boolean): Promise<Instance> {
    const core = await startCore({
      database: this.database.target,
      alpaca: this.alpaca,
      options: { submitLeaseMs: LEASE_MS, submitRetries: 3, retryMinTimeoutMs: 30 },
    });
    const client = new WebClient(this.slack.botToken, {
      slackApiUrl: this.slack.apiUrl,
      timeout: 2_000,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    const logger = createLogger({ level: 'warn', secrets: [], destination: new LogCapture() });
    const messenger = new SlackOrderMessenger(client, new OrderConfirmations(core.trades, core.broker), logger);
    const worker = new OutboxWorker(
      new OutboxRepository(core.orm),
      {
        'trade.changed': (p) => messenger.render(Number(p.tradeId)),
        'trade.finished': (p) => messenger.announceFinished(Number(p.tradeId), p.status as TradeStatus),
        'trader.changed': async () => undefined,
      },
      classifySlackFailure,
      logger,
      { owner: core.instanceId, pollIntervalMs: 50, leaseMs: 5_000, deliveryTimeoutMs: 3_000 },
    );
    worker.start();
    if (leader) {
      core.tracker.start();
      await this.alpaca.waitForStreamListening(5_000).catch(() => undefined);
    }
    return { core, worker };
  }

  async run(command: Command): Promise<void> {
    const orders = this.alpaca.orders();
    switch (command.kind) {
      case 'submit': {
        const { core } = this.instances[command.instance]!;
        if (command.fault !== 'none') this.alpaca.inject(FAULTS[command.fault]);
        this.views += 1;
        const review = await core.entry
          .review({
            userId: TRADER,
            clientOrderId: clientOrderIdForView(`MODEL${this.views}`),
            source: 'slack',
            channelId: DEFAULT_CHANNEL_ID,
            form: buyForm(command.qty),
          })
          .catch(() => undefined);
        if (review?.kind === 'accepted')
          this.inFlight.push(core.submitter.submit(review.trade.id).catch(() => undefined));
        return;
      }
      case 'fill': {
        const order = orders[command.order % Math.max(1, orders.length)];
        if (!order) return;
        try {
          this.alpaca.fill(order.id, String(Math.min(command.qty, Number(order.qty) - Number(order.filled_qty))));
        } catch {
          // Already done at the broker: nothing to fill.
        }
        await this.capture(order.client_order_id);
        return;
      }
      case 'cancel': {
        const order = orders[command.order % Math.max(1, orders.length)];
        if (!order) return;
        try {
          this.alpaca.cancel(order.id);
        } catch {
          // Already done at the broker.
        }
        await this.capture(order.client_order_id);
        return;
      }
      case 'lateSnapshot': {
        const snapshot = this.snapshots[command.snapshot % Math.max(1, this.snapshots.length)];
        if (snapshot) await this.instances[command.instance]!.core.tracker.applyOrder(snapshot).catch(() => undefined);
        return;
      }
      case 'duplicateEvent': {
        const updates = this.alpaca.tradeUpdates();
        const update: TradeUpdate | undefined = updates[command.event % Math.max(1, updates.length)];
        if (!update) return;
        const event = mapTradeUpdate(update as never);
        await this.instances[command.instance]!.core.tracker.applyOrder(event.order, event.execution).catch(
          () => undefined,
        );
        return;
      }
      case 'slack':
        if (command.up) this.slack.endOutage();
        else this.slack.startOutage(['chat.', 'conversations.']);
        return;
      case 'restart': {
        const old = this.instances[command.instance]!;
        await old.worker.stop(0);
        await old.core.close();
        this.instances[command.instance] = await this.startInstance(command.instance === 0);
        return;
      }
      case 'settle':
        await this.instances[command.instance]!.core.settler.settleUnsettled().catch(() => undefined);
        return;
      case 'pause':
        await new Promise((resolve) => setTimeout(resolve, command.ms));
    }
  }

  /** Keeps the broker's current view of an order, to be replayed later as a late snapshot. */
  private async capture(clientOrderId: string): Promise<void> {
    const found = await this.instances[1]!.core.broker.getOrderByClientOrderId(clientOrderId).catch(() => undefined);
    if (found) this.snapshots.push(found);
  }

  async rows(): Promise<Trade[]> {
    const { core } = this.instances[0]!;
    const unsettled = new Map((await core.trades.listUnsettled()).map((t) => [t.id, t]));
    const all: Trade[] = [];
    for (let id = 1; id <= this.views; id += 1) {
      const row = unsettled.get(id) ?? (await core.trades.findById(id));
      if (row) all.push(row);
    }
    return all;
  }

  /** Records each row's status; a status that steps back (other than out of 'failed') is a violation. */
  async sample(): Promise<void> {
    for (const row of await this.rows()) {
      const seen = this.statuses.get(row.id) ?? [];
      const last = seen.at(-1);
      if (last !== undefined && last !== row.status && last !== 'failed' && RANK[row.status] < RANK[last])
        this.violations.push(`trade ${row.id} stepped back from ${last} to ${row.status}`);
      if (last !== row.status) seen.push(row.status);
      this.statuses.set(row.id, seen);
    }
  }

  /**
   * The faults stop: Slack and Alpaca answer, submissions finish, leases run out, every pass runs,
   * the outbox empties.
   */
  async quiesce(): Promise<void> {
    this.slack.endOutage();
    this.alpaca.clearFaults();
    await Promise.allSettled(this.inFlight);
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 100));
    const { core } = this.instances[0]!;
    for (let pass = 0; pass < 3; pass += 1) {
      await core.settler.settleUnsettled();
      await core.tracker.pollOpenOrders();
      await this.sample();
    }
    const outbox = new OutboxRepository(core.orm);
    await expect.poll(() => outbox.count(), { timeout: 20_000, interval: 50 }).toBe(0);
  }

  async checkInvariants(): Promise<void> {
    expect(this.violations).toEqual([]);
    const rows = await this.rows();
    const byClientId = new Map(rows.map((r) => [r.clientOrderId, r]));
    const brokerOrders = this.alpaca.orders();
    const { core } = this.instances[0]!;
    for (const order of brokerOrders) {
      expect(
        brokerOrders.filter((o) => o.client_order_id === order.client_order_id),
        `one broker order per ${order.client_order_id}`,
      ).toHaveLength(1);
      const row = byClientId.get(order.client_order_id);
      expect(row, `the books know ${order.client_order_id}`).toBeDefined();
      const stored = await storedFillQty(core.trades, row!.id);
      expect(stored.toNumber(), `books' fills of ${order.client_order_id}`).toBe(Number(order.filled_qty));
      expect(row!.alpacaFilledQty?.toNumber() ?? 0).toBe(Number(order.filled_qty));
      expect(row!.status).toBe(tradeStatusFromBroker(order.status));
    }
    for (const row of rows) {
      const word = FINAL_WORDS[row.status];
      if (!word) continue;
      const messages = this.slack.messages(DEFAULT_CHANNEL_ID);
      const confirmation = messages.find((m) => m.ts === row.slackMessageTs);
      expect(confirmation, `a confirmation for ${row.clientOrderId}`).toBeDefined();
      expect(`${confirmation!.text}`, `${row.clientOrderId}'s confirmation shows ${row.status}`).toMatch(word);
      const replies = messages.filter((m) => m.threadTs === row.slackMessageTs && word.test(m.text ?? ''));
      expect(replies.length, `${row.clientOrderId}'s thread says ${row.status}`).toBeGreaterThanOrEqual(1);
    }
  }

  async close(): Promise<void> {
    for (const { worker, core } of this.instances) {
      await worker.stop(0);
      await core.close();
    }
    await this.alpaca.close();
    await this.slack.close();
    await this.database.drop();
  }
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the order lifecycle, model-based, on ${databaseSuiteName(kind)}`, () => {
    it('any interleaving of submissions, broker faults, fills, late and duplicated events, ' +
      'Slack outages, restarts and a second instance settles to the broker’s truth', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 10, maxLength: 30 }), async (commands) => {
          const world = await World.create(kind);
          try {
            for (const command of commands) {
              await world.run(command);
              await world.sample();
            }
            await world.quiesce();
            await world.checkInvariants();
          } finally {
            await world.close();
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    }, 600_000);
  });
}
