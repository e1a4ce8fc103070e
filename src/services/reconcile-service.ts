import { setTimeout as sleep } from 'node:timers/promises';
import { type Broker, type BrokerOrder, isLedgerOnly } from '../broker/broker';
import type { PortfolioRepository } from '../db/repositories/portfolio-repository';
import {
  adjustmentExecutionId,
  type NewOrderFinding,
  type ReconcileRepository,
} from '../db/repositories/reconcile-repository';
import type { TradeRepository } from '../db/repositories/trade-repository';
import { describeError } from '../domain/errors';
import type { BrokerPosition } from '../domain/market';
import { dec, formatQty } from '../domain/money';
import { isOneOf, ORDER_TYPES, TIMES_IN_FORCE } from '../domain/order';
import { DEFAULT_PORTFOLIO, withDefaultPortfolio } from '../domain/portfolio-name';
import type {
  BookAdjustment,
  BooksStatus,
  FindingChanges,
  ReconcileOutcome,
  ReconcileRun,
  ReconcileTrigger,
  RunFinishedPayload,
  StoredDiscrepancy,
} from '../domain/reconciliation';
import {
  adjustmentToMatch,
  comparePositions,
  confirmDiscrepancies,
  isPositionKind,
  orderDetails,
  orderFindingKey,
  type PositionDiscrepancy,
  type PositionPlan,
  planPositionUpdates,
  reviewOrders,
} from '../domain/reconciliation';
import { KeyedQueue } from '../lifecycle';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { listOrdersSince, oldestOrderTime } from './order-listing';
import type { SettleOptions, SettleResult } from './order-settlement';

/**
 * Broker orders that changed more recently than this are left for the next run: their updates may
 * still be on the way.
 */
const DEFAULT_QUIET_MS = 5_000;
/** Pause before the second, confirming read of positions, so fills in flight can land. */
const DEFAULT_CONFIRM_DELAY_MS = 1_000;
/** Broker orders are reviewed back to this far, or to the oldest order still open in the books. */
const ORDER_LOOKBACK_MS = 24 * 60 * 60_000;
/** How long an adjustment waits for another instance's run to finish before giving up. */
const SERIALISED_WAIT_MS = 30_000;
/** Who an adopted order is recorded for: nobody in Slack placed it through this app. */
export const ADOPTED_BY = 'reconciler';

export interface ReconcileReport extends FindingChanges {
  run: ReconcileRun;
  /** The outcome of the run before this one: a failure is announced only when it follows a success. */
  previousOutcome: ReconcileOutcome | null;
}

export type ReconcileResult = { kind: 'finished'; report: ReconcileReport } | { kind: 'busy' };

/**
 * What a reconciliation needs besides its own repository, each as narrow as it is used: the books'
 * orders and portfolios, the broker, and two jobs done elsewhere.
 */
export interface ReconcileDeps {
  repository: ReconcileRepository;
  trades: Pick<TradeRepository, 'listUnsettled' | 'insertPending' | 'recordFill'>;
  portfolios: Pick<PortfolioRepository, 'list' | 'ensure'>;
  broker: Pick<Broker, 'kind' | 'listOrders' | 'listPositions'>;
  /** Brings one broker order into the books (the order tracker). */
  applyOrder(order: BrokerOrder): Promise<unknown>;
  /** Settles rows left in flight that the order list did not show (the order settler). */
  settleUnsettled(options?: SettleOptions): Promise<SettleResult>;
  logger: Logger;
  metrics?: Metrics;
}

export interface ReconcileServiceOptions {
  quietMs?: number;
  confirmDelayMs?: number;
  now?: () => Date;
}

export interface AdoptQuantityRequest {
  discrepancyId: number;
  portfolioName: string;
  reason: string;
  userId: string;
  /** Identifies the request (the Slack form's view id): the same request books at most one adjustment. */
  requestKey?: string;
}

export type AdoptQuantityResult =
  | { ok: true; adjustment: BookAdjustment; message: string }
  | { ok: false; message: string };

interface RunFindings {
  plan: PositionPlan;
  orderFindings: NewOrderFinding[];
  symbolsChecked: number;
  ordersChecked: number;
  repaired: number;
  adopted: number;
  external: number;
}

const EMPTY_PLAN: PositionPlan = { create: [], change: [], keep: [], resolve: [] };

/**
 * Books against broker: settles what is left in flight, repairs what the broker settled beyond
 * doubt, adopts our orders the books lack, reports orders placed elsewhere, and stores every
 * position disagreement that a second, fresh read confirms. Runs never overlap (in this process,
 * or across instances on PostgreSQL). Knows nothing of Slack.
 */
export class ReconcileService {
  private current: Promise<ReconcileResult> | undefined;
  /** Runs and book adjustments of this process, one at a time. */
  private readonly books = new KeyedQueue();
  private readonly now: () => Date;

  private readonly repository: ReconcileRepository;
  private readonly trades: ReconcileDeps['trades'];
  private readonly portfolios: ReconcileDeps['portfolios'];
  private readonly broker: ReconcileDeps['broker'];
  private readonly logger: Logger;

  constructor(
    private readonly deps: ReconcileDeps,
    private readonly options: ReconcileServiceOptions = {},
  ) {
    ({
      repository: this.repository,
      trades: this.trades,
      portfolios: this.portfolios,
      broker: this.broker,
      logger: this.logger,
    } = deps);
    this.now = options.now ?? (() => new Date());
  }

  /** One run. A caller arriving while a run is in progress in this process shares its result. */
  reconcilePositions(trigger: ReconcileTrigger): Promise<ReconcileResult> {
    this.current ??= this.books
      .run('books', () => this.runExclusively(trigger))
      .finally(() => {
        this.current = undefined;
      });
    return this.current;
  }

  /**
   * Books against broker as of the last run that ended, for the Home tab. Undefined before the
   * first run, and in ledger-only mode, where there is no broker to agree with.
   */
  async booksStatus(): Promise<BooksStatus | undefined> {
    if (isLedgerOnly(this.broker)) return undefined;
    const run = await this.repository.latestFinishedRun();
    if (!run?.outcome) return undefined;
    return {
      outcome: run.outcome,
      openDiscrepancies: run.openDiscrepancies,
      checkedAt: run.finishedAt ?? run.startedAt,
    };
  }

  /** Records who acknowledged the findings of one alert (the alert is told through the outbox). */
  async acknowledgeAlert(channelId: string, messageTs: string, userId: string): Promise<StoredDiscrepancy[]> {
    const findings = await this.repository.acknowledgeAlert(channelId, messageTs, userId);
    if (findings.length > 0)
      this.logger.info({ user: userId, discrepancies: findings.map((f) => f.key) }, 'discrepancies acknowledged');
    return findings;
  }

  /** A run's notice, read back for its delivery: the run, its findings as they are now, and the outcome before it. */
  async runNotice(payload: RunFinishedPayload): Promise<ReconcileReport | undefined> {
    const run = await this.repository.findRun(payload.runId);
    if (!run) return undefined;
    const [created, changed, unchanged, resolved, previousOutcome] = await Promise.all([
      this.repository.findDiscrepancies(payload.created),
      this.repository.findDiscrepancies(payload.changed),
      this.repository.findDiscrepancies(payload.unchanged),
      this.repository.findDiscrepancies(payload.resolved),
      this.repository.previousOutcome(run.id),
    ]);
    return { run, previousOutcome, created, changed, unchanged, resolved };
  }

  /**
   * Open findings no alert was posted for (no channel configured then, or Slack refused): the next
   * alert shows them.
   */
  openFindingsWithoutAlert(): Promise<StoredDiscrepancy[]> {
    return this.repository.openWithoutAlert();
  }

  /** Every finding shown in one alert message, in the order they were found. */
  findingsOfAlert(channelId: string, messageTs: string): Promise<StoredDiscrepancy[]> {
    return this.repository.listByAlert(channelId, messageTs);
  }

  /** Remembers which message shows these findings, so later runs edit it rather than post again. */
  attachAlert(findingIds: readonly number[], channelId: string, messageTs: string): Promise<void> {
    return this.repository.attachAlert(findingIds, channelId, messageTs);
  }

  /** An adjustment and the finding it answered, for its notice. */
  async adjustmentNotice(
    adjustmentId: number,
  ): Promise<{ adjustment: BookAdjustment; finding: StoredDiscrepancy | undefined } | undefined> {
    const adjustment = await this.repository.findAdjustment(adjustmentId);
    if (!adjustment) return undefined;
    const finding =
      adjustment.discrepancyId === null
        ? undefined
        : ((await this.repository.findDiscrepancy(adjustment.discrepancyId)) ?? undefined);
    return { adjustment, finding };
  }

  /** The open position findings of one alert, and the portfolios an adjustment could go into. */
  async adjustmentChoices(
    channelId: string,
    messageTs: string,
  ): Promise<{ findings: StoredDiscrepancy[]; portfolios: string[]; defaultPortfolio: string }> {
    const findings = (await this.repository.listByAlert(channelId, messageTs)).filter(
      (f) => isPositionKind(f.kind) && f.resolvedAt === null,
    );
    const portfolios = withDefaultPortfolio((await this.portfolios.list()).map((p) => p.name));
    const largest = findings[0]?.details.breakdown?.[0]?.portfolioName;
    return { findings, portfolios, defaultPortfolio: largest ?? DEFAULT_PORTFOLIO };
  }

  /**
   * "Adopt broker quantity into portfolio": books the difference between the broker's position
   * (read fresh) and the books' total into one portfolio, as an audited adjustment and a fill,
   * then re-checks so the finding resolves.
   */
  async adoptBrokerQuantity(request: AdoptQuantityRequest): Promise<AdoptQuantityResult> {
    const reason = request.reason.trim();
    if (reason === '') return { ok: false, message: 'A reason is required for a book adjustment.' };
    // Serialised with runs (and with other adjustments, here and on other instances): two admins
    // adopting at once, or an adoption during a run, read and book one after the other.
    const result = await this.serialised(() => this.adoptNow(request, reason));
    if (result.ok && result.created) await this.reconcilePositions('manual');
    return result.ok ? { ok: true, adjustment: result.adjustment, message: result.message } : result;
  }

  private async adoptNow(
    request: AdoptQuantityRequest,
    reason: string,
  ): Promise<AdoptQuantityResult & { created?: boolean }> {
    const finding = await this.repository.findDiscrepancy(request.discrepancyId);
    if (!finding || !isPositionKind(finding.kind))
      return { ok: false, message: 'That discrepancy is not in the books any more.' };
    if (finding.resolvedAt)
      return { ok: false, message: `${finding.symbol} already matches the broker; nothing was changed.` };

    let position: BrokerPosition | undefined;
    try {
      position = (await this.broker.listPositions()).find((p) => p.symbol === finding.symbol);
    } catch (err) {
      return {
        ok: false,
        message:
          `Alpaca could not be asked for the ${finding.symbol} position (${describeError(err)}). ` +
          'Nothing was changed — try again shortly.',
      };
    }
    const brokerQty = position?.qty ?? dec(0);
    const booksTotal = await this.repository.bookTotal(finding.symbol);
    const { qty, side } = adjustmentToMatch(booksTotal, brokerQty);
    if (qty.isZero()) {
      const held = formatQty(brokerQty);
      return {
        ok: false,
        message: `The books already hold ${held} ${finding.symbol}, as Alpaca does; nothing was changed.`,
      };
    }

    const portfolio = await this.portfolios.ensure(request.portfolioName.trim() || DEFAULT_PORTFOLIO, request.userId);
    const price = position?.avgEntryPrice ?? (await this.repository.averageBuyPrice(finding.symbol)) ?? dec(0);
    const adjustment = await this.repository.insertAdjustment({
      portfolioName: portfolio.name,
      symbol: finding.symbol,
      qty,
      price,
      reason,
      userId: request.userId,
      discrepancyId: finding.id,
      requestKey: request.requestKey,
    });
    await this.recordAdjustmentFill(adjustment, adjustment.qty.isNegative() ? 'sell' : side);
    const signed = adjustment.qty.isNegative() ? formatQty(adjustment.qty) : `+${formatQty(adjustment.qty)}`;
    if (!adjustment.created)
      return {
        ok: true,
        created: false,
        adjustment,
        message:
          `This request already booked ${signed} ${finding.symbol} into ${adjustment.portfolioName}; ` +
          'nothing more was changed.',
      };
    this.logger.info(
      {
        adjustment_id: adjustment.id,
        user: request.userId,
        portfolio: portfolio.name,
        symbol: finding.symbol,
        qty: qty.toFixed(),
        reason,
      },
      'books adjusted to the broker quantity',
    );
    return {
      ok: true,
      created: true,
      adjustment,
      message:
        `Booked ${signed} ${finding.symbol} into ${portfolio.name}; ` +
        `the books now hold ${formatQty(brokerQty)}, as Alpaca does.`,
    };
  }

  /**
   * Runs `work` while no reconcile run or other adjustment is going on, in this process (one queue)
   * or, on PostgreSQL, another (the run lock). Gives up with a sentence if another instance's run
   * holds the lock for long.
   */
  private serialised(
    work: () => Promise<AdoptQuantityResult & { created?: boolean }>,
  ): Promise<AdoptQuantityResult & { created?: boolean }> {
    return this.books.run('books', async () => {
      const deadline = Date.now() + SERIALISED_WAIT_MS;
      for (;;) {
        const outcome = await this.repository.exclusively(work);
        if (outcome.ran) return outcome.value;
        if (Date.now() > deadline)
          return {
            ok: false,
            message: 'A reconciliation is running on another instance; nothing was changed. Try again in a moment.',
          };
        await sleep(250);
      }
    });
  }

  private async runExclusively(trigger: ReconcileTrigger): Promise<ReconcileResult> {
    const outcome = await this.repository.exclusively(() => this.runOnce(trigger));
    if (!outcome.ran) {
      this.deps.metrics?.reconcileRun('busy');
      this.logger.info({ trigger }, 'reconciliation already running on another instance');
      return { kind: 'busy' };
    }
    return { kind: 'finished', report: outcome.value };
  }

  private async runOnce(trigger: ReconcileTrigger): Promise<ReconcileReport> {
    const started = Date.now();
    const run = await this.repository.startRun(trigger);
    const requests = { count: 0 };
    let report: ReconcileReport;
    try {
      const found = isLedgerOnly(this.broker) ? await this.ledgerOnlyPass() : await this.compare(requests);
      const { run: finished, changes } = await this.repository.completeRun(run.id, found.plan, found.orderFindings, {
        symbolsChecked: found.symbolsChecked,
        ordersChecked: found.ordersChecked,
        ordersRepaired: found.repaired,
        ordersAdopted: found.adopted,
        ordersExternal: found.external,
        brokerRequests: requests.count,
      });
      report = { run: finished, previousOutcome: await this.repository.previousOutcome(run.id), ...changes };
    } catch (err) {
      const finished = await this.repository.failRun(run.id, describeError(err), requests.count);
      report = {
        run: finished,
        previousOutcome: await this.repository.previousOutcome(run.id),
        created: [],
        changed: [],
        unchanged: [],
        resolved: [],
      };
    }
    // Its alerts are in the outbox, written with the run.
    const r = report.run;
    if (r.outcome) this.deps.metrics?.reconcileRun(r.outcome);
    this.logger[r.outcome === 'failed' ? 'warn' : 'info'](
      {
        run_id: r.id,
        trigger,
        outcome: r.outcome,
        open: r.openDiscrepancies,
        new: r.newDiscrepancies,
        resolved: r.resolvedDiscrepancies,
        repaired: r.ordersRepaired,
        adopted: r.ordersAdopted,
        external: r.ordersExternal,
        broker_requests: r.brokerRequests,
        error: r.error ?? undefined,
        ms: Date.now() - started,
      },
      'reconcile run finished',
    );
    return report;
  }

  /** Ledger-only mode has no broker to compare with: a run only records what is left in flight. */
  private async ledgerOnlyPass(): Promise<RunFindings> {
    await this.deps.settleUnsettled();
    return {
      plan: EMPTY_PLAN,
      orderFindings: [],
      symbolsChecked: 0,
      ordersChecked: 0,
      repaired: 0,
      adopted: 0,
      external: 0,
    };
  }

  private async compare(requests: { count: number }): Promise<RunFindings> {
    for (const adjustment of await this.repository.adjustmentsWithoutFill()) {
      await this.isolated({ adjustment_id: adjustment.id }, () =>
        this.recordAdjustmentFill(adjustment, adjustment.qty.isNegative() ? 'sell' : 'buy'),
      );
    }
    const now = this.now();
    const oldestOpen = oldestOrderTime(await this.trades.listUnsettled())?.getTime() ?? Number.POSITIVE_INFINITY;
    const orders = await listOrdersSince(
      this.broker,
      new Date(Math.min(now.getTime() - ORDER_LOOKBACK_MS, oldestOpen)),
      requests,
    );

    const books = await this.repository.bookOrders(
      orders.map((o) => o.clientOrderId).filter(Boolean),
      orders.map((o) => o.id),
    );
    const review = reviewOrders(orders, books, { now, quietMs: this.options.quietMs ?? DEFAULT_QUIET_MS });
    const orderFindings: NewOrderFinding[] = [];
    for (const { order } of review.catchUps)
      await this.isolated({ order_id: order.id }, () => this.deps.applyOrder(order));
    for (const repair of review.repairs) {
      const applied = await this.isolated({ order_id: repair.order.id }, () => this.deps.applyOrder(repair.order));
      if (!applied) continue;
      orderFindings.push({
        key: orderFindingKey('order_repaired', repair.order),
        kind: 'order_repaired',
        symbol: repair.order.symbol,
        details: {
          order: orderDetails(repair.order, {
            from: repair.from,
            booksFilled: repair.booksFilled.toFixed(),
            portfolioName: repair.book.portfolioName,
          }),
        },
      });
    }
    for (const order of review.adopt) {
      if (!(await this.isolated({ order_id: order.id }, () => this.adopt(order)))) continue;
      orderFindings.push({
        key: orderFindingKey('order_adopted', order),
        kind: 'order_adopted',
        symbol: order.symbol,
        details: { order: orderDetails(order, { portfolioName: DEFAULT_PORTFOLIO, portfolioUnknown: true }) },
      });
    }
    for (const order of review.external) {
      orderFindings.push({
        key: orderFindingKey('order_external', order),
        kind: 'order_external',
        symbol: order.symbol,
        details: { order: orderDetails(order) },
      });
    }
    await this.settleRowsTheListMissed(orders, requests);

    const positions = await this.comparePositionsConfirmed(review.quietSymbols, requests);
    return {
      ...positions,
      orderFindings,
      ordersChecked: review.checked,
      repaired: review.repairs.length,
      adopted: review.adopt.length,
      external: review.external.length,
    };
  }

  /**
   * Rows still in flight that the order list did not show (never sent, or lost in an ambiguous
   * failure) are settled one by one, as at start-up — except rows that changed within the quiet
   * period, which a submission in this or another instance may still be sending. Usually there
   * are none, and then no request is made.
   */
  private async settleRowsTheListMissed(orders: readonly BrokerOrder[], requests: { count: number }): Promise<void> {
    const quietSince = new Date(this.now().getTime() - (this.options.quietMs ?? DEFAULT_QUIET_MS));
    const settled = await this.deps.settleUnsettled({ reviewed: orders, quietSince });
    requests.count += settled.brokerRequests;
  }

  /**
   * Books against broker positions. A run that would open, change or resolve a finding reads
   * both sides again after a pause and acts only on what both reads agree on.
   */
  private async comparePositionsConfirmed(
    quietSymbols: ReadonlySet<string>,
    requests: { count: number },
  ): Promise<{ plan: PositionPlan; symbolsChecked: number }> {
    const open = await this.repository.openPositionFindings();
    const first = await this.readAndCompare(quietSymbols, requests);
    const tentative = planPositionUpdates(open, first.discrepancies, quietSymbols);
    if (tentative.create.length + tentative.change.length + tentative.resolve.length === 0) {
      return { plan: tentative, symbolsChecked: first.symbolsCompared };
    }
    await sleep(this.options.confirmDelayMs ?? DEFAULT_CONFIRM_DELAY_MS);
    const second = await this.readAndCompare(quietSymbols, requests);
    const { confirmed, unsettledSymbols } = confirmDiscrepancies(first.discrepancies, second.discrepancies);
    return {
      plan: planPositionUpdates(open, confirmed, new Set([...quietSymbols, ...unsettledSymbols])),
      symbolsChecked: first.symbolsCompared,
    };
  }

  private async readAndCompare(
    skip: ReadonlySet<string>,
    requests: { count: number },
  ): Promise<{ discrepancies: PositionDiscrepancy[]; symbolsCompared: number }> {
    requests.count += 1;
    const positions = await this.broker.listPositions();
    const holdings = await this.repository.bookHoldings();
    return comparePositions(holdings, positions, skip);
  }

  /**
   * An order carrying our client_order_id that the books lack (an error that in fact placed it):
   * recorded as an adopted trade and brought up to date like any other order. Which portfolio it
   * was meant for cannot be known, so it goes to the default one and the alert says so.
   */
  private async adopt(order: BrokerOrder): Promise<void> {
    await this.portfolios.ensure(DEFAULT_PORTFOLIO, ADOPTED_BY);
    await this.trades.insertPending({
      clientOrderId: order.clientOrderId,
      source: 'adopted',
      symbol: order.symbol,
      side: order.side,
      quantity: order.qty ?? null,
      notional: order.notional ?? null,
      orderType: isOneOf(ORDER_TYPES, order.type) ? order.type : 'market',
      timeInForce: isOneOf(TIMES_IN_FORCE, order.timeInForce) ? order.timeInForce : 'day',
      limitPrice: order.limitPrice ?? null,
      stopPrice: order.stopPrice ?? null,
      extendedHours: order.extendedHours,
      portfolioName: DEFAULT_PORTFOLIO,
      userId: ADOPTED_BY,
    });
    await this.deps.applyOrder(order);
    this.logger.warn(
      { client_order_id: order.clientOrderId, order_id: order.id, symbol: order.symbol, portfolio: DEFAULT_PORTFOLIO },
      'adopted an order the books did not have',
    );
  }

  /**
   * One order or adjustment the books can't take never fails the run: it is logged and tried again
   * next run. True when it went through.
   */
  private async isolated(context: Record<string, unknown>, work: () => Promise<unknown>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      this.logger.error(
        { ...context, err: describeError(err) },
        'could not bring one order up to date; the next run tries again',
      );
      return false;
    }
  }

  private async recordAdjustmentFill(adjustment: BookAdjustment, side: 'buy' | 'sell'): Promise<void> {
    await this.trades.recordFill({
      executionId: adjustmentExecutionId(adjustment.id),
      tradeId: null,
      symbol: adjustment.symbol,
      side,
      qty: adjustment.qty.abs(),
      price: adjustment.price,
      portfolioName: adjustment.portfolioName,
      filledAt: adjustment.createdAt,
      source: 'adjustment',
    });
  }
}
