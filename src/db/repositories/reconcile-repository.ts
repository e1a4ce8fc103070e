import { raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { type Dec, dec, decToString } from '../../domain/money';
import { type Notification, RECONCILE_STREAM } from '../../domain/notifications';
import type { TradeStatus } from '../../domain/order';
import type {
  BookAdjustment,
  FindingChanges,
  ReconcileOutcome,
  ReconcileRun,
  ReconcileRunCounts,
  ReconcileTrigger,
  RunFinishedPayload,
  StoredDiscrepancy,
} from '../../domain/reconciliation';
import {
  type BookHolding,
  type BookOrderFacts,
  breakdownFromDetails,
  breakdownToDetails,
  type DiscrepancyDetails,
  type DiscrepancyKind,
  isPositionKind,
  type OpenPositionFinding,
  type OrderFindingKind,
  type PositionDiscrepancy,
  type PositionPlan,
} from '../../domain/reconciliation';
import {
  BookAdjustmentEntity,
  type BookAdjustmentRecord,
  DiscrepancyEntity,
  type DiscrepancyRecord,
  FillEntity,
  ReconcileRunEntity,
  type ReconcileRunRecord,
  TradeEntity,
} from '../entities';
import { isPostgres, type Orm } from '../orm';
import { appendNotifications } from './outbox-repository';

/** An order finding to record once (its key decides). */
export interface NewOrderFinding {
  key: string;
  kind: OrderFindingKind;
  symbol: string;
  details: DiscrepancyDetails;
}

export type NewBookAdjustment = Omit<BookAdjustment, 'id' | 'createdAt'> & {
  /** The request that asked for it: a repeated request finds the adjustment it already booked. */
  requestKey?: string;
};

const notice = (topic: Notification['topic'], payload: Record<string, unknown>): Notification => ({
  topic,
  stream: RECONCILE_STREAM,
  payload,
});
const ids = (findings: readonly StoredDiscrepancy[]) => findings.map((f) => f.id);

/** PostgreSQL advisory locks are keyed by integers; this one spells "OMS_RECN". */
const RUN_LOCK_KEY = 0x4f4d535f5245434en;

/** Bound on IN (…) lists, well under every driver's parameter limit. */
const IN_CHUNK = 500;

/** SQLite keeps NUMERIC as REAL: round reads to the column's scale to drop float noise. */
const qtyOf = (value: string | number): Dec => dec(String(value)).toDecimalPlaces(9);
const qtyOrNull = (value: string | number | null | undefined): Dec | null => (value == null ? null : qtyOf(value));

function toRun(row: ReconcileRunRecord): ReconcileRun {
  return {
    id: row.id,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt ?? null,
    outcome: row.outcome ?? null,
    trigger: row.trigger,
    error: row.error ?? null,
    symbolsChecked: row.symbolsChecked,
    ordersChecked: row.ordersChecked,
    openDiscrepancies: row.openDiscrepancies,
    newDiscrepancies: row.newDiscrepancies,
    resolvedDiscrepancies: row.resolvedDiscrepancies,
    ordersRepaired: row.ordersRepaired,
    ordersAdopted: row.ordersAdopted,
    ordersExternal: row.ordersExternal,
    brokerRequests: row.brokerRequests,
  };
}

function parseDetails(text: string): DiscrepancyDetails {
  try {
    return JSON.parse(text) as DiscrepancyDetails;
  } catch {
    return {};
  }
}

function toDiscrepancy(row: DiscrepancyRecord): StoredDiscrepancy {
  return {
    id: row.id,
    key: row.key,
    kind: row.kind,
    symbol: row.symbol,
    details: parseDetails(row.details),
    booksQty: qtyOrNull(row.booksQty),
    brokerQty: qtyOrNull(row.brokerQty),
    difference: qtyOrNull(row.difference),
    firstSeenAt: row.firstSeenAt,
    lastSeenAt: row.lastSeenAt,
    resolvedAt: row.resolvedAt ?? null,
    acknowledgedBy: row.acknowledgedBy ?? null,
    acknowledgedAt: row.acknowledgedAt ?? null,
    slackChannelId: row.slackChannelId ?? null,
    slackMessageTs: row.slackMessageTs ?? null,
    lastRunId: row.lastRun ?? null,
  };
}

function figures(found: PositionDiscrepancy): {
  kind: DiscrepancyKind;
  details: string;
  booksQty: string;
  brokerQty: string;
  difference: string;
} {
  return {
    kind: found.kind,
    details: JSON.stringify({ breakdown: breakdownToDetails(found.breakdown) } satisfies DiscrepancyDetails),
    booksQty: decToString(found.booksQty),
    brokerQty: decToString(found.brokerQty),
    difference: decToString(found.difference),
  };
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += IN_CHUNK) out.push(items.slice(i, i + IN_CHUNK));
  return out;
}

/** Queries for reconciliation: runs, findings, adjustments, and the books' side of the diff. */
export class ReconcileRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
    /** Called after a transaction that wrote notifications commits (the outbox worker wakes up). */
    private readonly onNotified: () => void = () => undefined,
  ) {}

  /** Runs `work` in a transaction that also writes `notifications(result)`; tells onNotified once committed. */
  private async withNotice<T>(
    work: (em: EntityManager) => Promise<T>,
    notifications: (result: T) => Notification[],
  ): Promise<T> {
    let written = 0;
    const result = await this.orm.em.fork().transactional(async (em) => {
      const value = await work(em);
      written = await appendNotifications(em, notifications(value), this.now());
      return value;
    });
    if (written > 0) this.onNotified();
    return result;
  }

  /**
   * Runs `work` unless another instance is reconciling right now (PostgreSQL: a
   * transaction-scoped advisory lock, released by commit or by the session dying). SQLite means
   * one instance, so it always runs. `work` itself uses other connections.
   */
  async exclusively<T>(work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const connection = this.orm.em.getConnection();
    if (!isPostgres(this.orm.em)) return { ran: true, value: await work() };
    return connection.transactional(async (trx) => {
      const [row] = await connection.execute<{ locked: boolean }[]>(
        'select pg_try_advisory_xact_lock(?) as locked',
        [RUN_LOCK_KEY.toString()],
        'all',
        trx,
      );
      if (!row?.locked) return { ran: false as const };
      return { ran: true as const, value: await work() };
    });
  }

  async startRun(trigger: ReconcileTrigger): Promise<ReconcileRun> {
    const em = this.orm.em.fork();
    const id = await em.insert(ReconcileRunEntity, {
      startedAt: this.now(),
      trigger,
      symbolsChecked: 0,
      ordersChecked: 0,
      openDiscrepancies: 0,
      newDiscrepancies: 0,
      resolvedDiscrepancies: 0,
      ordersRepaired: 0,
      ordersAdopted: 0,
      ordersExternal: 0,
      brokerRequests: 0,
    });
    return toRun(await em.findOneOrFail(ReconcileRunEntity, { id }));
  }

  /**
   * Stores a run's findings, finishes the run and writes its notice, in one transaction: the alert
   * the run calls for can't be lost to a crash, nor sent for findings that were never stored.
   */
  async completeRun(
    runId: number,
    plan: PositionPlan,
    orderFindings: readonly NewOrderFinding[],
    counts: Omit<ReconcileRunCounts, 'openDiscrepancies' | 'newDiscrepancies' | 'resolvedDiscrepancies'>,
  ): Promise<{ run: ReconcileRun; changes: FindingChanges }> {
    const at = this.now();
    return this.withNotice(
      async (em) => {
        const changes = await recordFindingsIn(em, runId, plan, orderFindings, at);
        const open = await em.count(DiscrepancyEntity, { resolvedAt: null });
        const run = await finishRunIn(
          em,
          runId,
          {
            ...counts,
            outcome: open > 0 || changes.created.length > 0 ? 'discrepancies' : 'ok',
            openDiscrepancies: open,
            newDiscrepancies: changes.created.length,
            resolvedDiscrepancies: changes.resolved.length,
          },
          at,
        );
        return { run, changes };
      },
      ({ changes }) => [
        notice('reconcile.run_finished', {
          runId,
          created: ids(changes.created),
          changed: ids(changes.changed),
          unchanged: ids(changes.unchanged),
          resolved: ids(changes.resolved),
        } satisfies RunFinishedPayload),
      ],
    );
  }

  /** A run that could not compare (the broker was unreachable): finished as failed, with its notice. */
  async failRun(runId: number, error: string, brokerRequests: number): Promise<ReconcileRun> {
    return this.withNotice(
      (em) => finishRunIn(em, runId, { outcome: 'failed', error, brokerRequests }, this.now()),
      () => [
        notice('reconcile.run_finished', {
          runId,
          created: [],
          changed: [],
          unchanged: [],
          resolved: [],
        } satisfies RunFinishedPayload),
      ],
    );
  }

  async findRun(id: number): Promise<ReconcileRun | null> {
    const row = await this.orm.em.fork().findOne(ReconcileRunEntity, { id });
    return row ? toRun(row) : null;
  }

  /** Findings by id, in id order (missing ids are left out). */
  async findDiscrepancies(findingIds: readonly number[]): Promise<StoredDiscrepancy[]> {
    const em = this.orm.em.fork();
    const out: StoredDiscrepancy[] = [];
    for (const part of chunks(findingIds))
      out.push(
        ...(await em.find(DiscrepancyEntity, { id: { $in: part } }, { orderBy: { id: 'asc' } })).map(toDiscrepancy),
      );
    return out;
  }

  /** The outcome of the last finished run before `runId` (null when there was none). */
  async previousOutcome(runId: number): Promise<ReconcileOutcome | null> {
    const row = await this.orm.em
      .fork()
      .findOne(ReconcileRunEntity, { id: { $lt: runId }, outcome: { $ne: null } }, { orderBy: { id: 'desc' } });
    return row?.outcome ?? null;
  }

  /** The newest run that ended (a run still going, or cut short by a crash, has no outcome). */
  async latestFinishedRun(): Promise<ReconcileRun | null> {
    const row = await this.orm.em
      .fork()
      .findOne(ReconcileRunEntity, { outcome: { $ne: null } }, { orderBy: { id: 'desc' } });
    return row ? toRun(row) : null;
  }

  /** Filled quantity per portfolio (as spelled in fills) and symbol, signed: one GROUP BY over `fills`. */
  async bookHoldings(): Promise<BookHolding[]> {
    const rows = await this.orm.em
      .fork()
      .createQueryBuilder(FillEntity, 'f')
      .select(['f.portfolio_name', 'f.symbol', raw("sum(case when f.side = 'BUY' then f.qty else -f.qty end) as qty")])
      .groupBy(['f.portfolio_name', 'f.symbol'])
      .execute<{ portfolio_name: string; symbol: string; qty: string | number | null }[]>('all', false);
    return rows
      .map((r) => ({ portfolioName: r.portfolio_name, symbol: r.symbol, qty: qtyOf(r.qty ?? 0) }))
      .filter((h) => !h.qty.isZero());
  }

  /** Filled quantity of one symbol over every portfolio. */
  async bookTotal(symbol: string): Promise<Dec> {
    const row = await this.orm.em
      .fork()
      .createQueryBuilder(FillEntity, 'f')
      .select([raw("coalesce(sum(case when f.side = 'BUY' then f.qty else -f.qty end), 0) as qty")])
      .where({ symbol })
      .execute<{ qty: string | number | null }>('get', false);
    return qtyOf(row?.qty ?? 0);
  }

  /**
   * Average price of the symbol's stored buys (undefined with none): the price a correction without
   * a broker price is booked at.
   */
  async averageBuyPrice(symbol: string): Promise<Dec | undefined> {
    const row = await this.orm.em
      .fork()
      .createQueryBuilder(FillEntity, 'f')
      .select([raw('sum(f.qty * f.price) as value'), raw('sum(f.qty) as qty')])
      .where({ symbol, side: 'BUY' })
      .execute<{ value: string | number | null; qty: string | number | null }>('get', false);
    if (row?.qty == null || row.value == null || Number(row.qty) === 0) return undefined;
    return dec(String(row.value))
      .div(dec(String(row.qty)))
      .toDecimalPlaces(6);
  }

  /** Order rows matching any of these client order ids or broker order ids, with what their stored fills add up to. */
  async bookOrders(clientOrderIds: readonly string[], alpacaOrderIds: readonly string[]): Promise<BookOrderFacts[]> {
    const em = this.orm.em.fork();
    const found = new Map<number, BookOrderFacts>();
    const load = async (where: Record<string, unknown>) => {
      const rows = await em
        .createQueryBuilder(TradeEntity, 't')
        .select([
          't.id',
          't.client_order_id',
          't.alpaca_order_id',
          't.status',
          't.portfolio_name',
          raw('(select coalesce(sum(f.qty), 0) from fills f where f.trade_id = t.id) as filled'),
        ])
        .where(where)
        .execute<
          {
            id: number;
            client_order_id: string | null;
            alpaca_order_id: string | null;
            status: TradeStatus;
            portfolio_name: string;
            filled: string | number;
          }[]
        >('all', false);
      for (const r of rows) {
        found.set(r.id, {
          id: r.id,
          clientOrderId: r.client_order_id,
          alpacaOrderId: r.alpaca_order_id,
          status: r.status,
          portfolioName: r.portfolio_name,
          filledQty: qtyOf(r.filled),
        });
      }
    };
    for (const ids of chunks(clientOrderIds)) await load({ clientOrderId: { $in: ids } });
    for (const ids of chunks(alpacaOrderIds)) await load({ alpacaOrderId: { $in: ids } });
    return [...found.values()];
  }

  async openPositionFindings(): Promise<OpenPositionFinding[]> {
    const rows = await this.orm.em.fork().find(DiscrepancyEntity, { resolvedAt: null }, { orderBy: { id: 'asc' } });
    return rows.map(toDiscrepancy).flatMap((d) =>
      isPositionKind(d.kind)
        ? [
            {
              id: d.id,
              key: d.key,
              symbol: d.symbol,
              kind: d.kind,
              booksQty: d.booksQty ?? dec(0),
              brokerQty: d.brokerQty ?? dec(0),
              breakdown: breakdownFromDetails(d.details),
            },
          ]
        : [],
    );
  }

  async findDiscrepancy(id: number): Promise<StoredDiscrepancy | null> {
    const row = await this.orm.em.fork().findOne(DiscrepancyEntity, { id });
    return row ? toDiscrepancy(row) : null;
  }

  /** Open findings no alert was posted for (no channel configured then, or Slack refused). */
  async openWithoutAlert(): Promise<StoredDiscrepancy[]> {
    const rows = await this.orm.em
      .fork()
      .find(DiscrepancyEntity, { resolvedAt: null, slackMessageTs: null }, { orderBy: { id: 'asc' } });
    return rows.map(toDiscrepancy);
  }

  async attachAlert(ids: readonly number[], channelId: string, messageTs: string): Promise<void> {
    const em = this.orm.em.fork();
    for (const part of chunks(ids))
      await em.nativeUpdate(
        DiscrepancyEntity,
        { id: { $in: part } },
        { slackChannelId: channelId, slackMessageTs: messageTs },
      );
  }

  /** Every finding shown in one alert message, in the order they were found. */
  async listByAlert(channelId: string, messageTs: string): Promise<StoredDiscrepancy[]> {
    const rows = await this.orm.em
      .fork()
      .find(DiscrepancyEntity, { slackChannelId: channelId, slackMessageTs: messageTs }, { orderBy: { id: 'asc' } });
    return rows.map(toDiscrepancy);
  }

  /** Records who acknowledged the findings of one alert (the first acknowledgement of each stands). */
  async acknowledgeAlert(channelId: string, messageTs: string, userId: string): Promise<StoredDiscrepancy[]> {
    const at = this.now();
    const acknowledged = await this.withNotice(
      (em) =>
        em.nativeUpdate(
          DiscrepancyEntity,
          { slackChannelId: channelId, slackMessageTs: messageTs, acknowledgedBy: null },
          { acknowledgedBy: userId, acknowledgedAt: at },
        ),
      (count) =>
        count > 0 ? [notice('reconcile.acknowledged', { channelId, messageTs, userId, at: at.toISOString() })] : [],
    );
    return acknowledged > 0 ? this.listByAlert(channelId, messageTs) : [];
  }

  /**
   * Books an adjustment and writes its notice. With a request key, a repeated request inserts
   * nothing and returns the adjustment it booked the first time, with `created` false.
   */
  async insertAdjustment(adjustment: NewBookAdjustment): Promise<BookAdjustment & { created: boolean }> {
    return this.withNotice(
      async (em) => {
        const result = await em
          .createQueryBuilder(BookAdjustmentEntity)
          .insert({
            portfolioName: adjustment.portfolioName,
            symbol: adjustment.symbol,
            qty: decToString(adjustment.qty),
            price: decToString(adjustment.price),
            reason: adjustment.reason,
            userId: adjustment.userId,
            createdAt: this.now(),
            discrepancy: adjustment.discrepancyId,
            requestKey: adjustment.requestKey ?? null,
          })
          .onConflict('requestKey')
          .ignore()
          .execute('run');
        if (result.affectedRows === 0 && adjustment.requestKey) {
          return {
            ...toAdjustment(await em.findOneOrFail(BookAdjustmentEntity, { requestKey: adjustment.requestKey })),
            created: false,
          };
        }
        return { ...(await this.mustFindAdjustment(em, result.insertId)), created: true };
      },
      (booked) =>
        booked.created
          ? [notice('reconcile.books_adjusted', { adjustmentId: booked.id, discrepancyId: booked.discrepancyId })]
          : [],
    );
  }

  async findAdjustment(id: number): Promise<BookAdjustment | null> {
    const row = await this.orm.em.fork().findOne(BookAdjustmentEntity, { id });
    return row ? toAdjustment(row) : null;
  }

  /** Adjustments whose fill is missing (the process died between the two writes): the fill is recorded again. */
  async adjustmentsWithoutFill(): Promise<BookAdjustment[]> {
    const em = this.orm.em.fork();
    const rows = await em
      .getConnection()
      .execute<{ id: number }[]>(
        'select a.id from book_adjustments a where not exists (select 1 from fills f ' +
          `where f.execution_id = '${ADJUSTMENT_EXECUTION_PREFIX}' || a.id) order by a.id`,
      );
    const out: BookAdjustment[] = [];
    for (const { id } of rows) out.push(await this.mustFindAdjustment(em, Number(id)));
    return out;
  }

  private async mustFindAdjustment(em: EntityManager, id: number): Promise<BookAdjustment> {
    return toAdjustment(await em.findOneOrFail(BookAdjustmentEntity, { id }));
  }
}

/**
 * Stores one run's findings: new position findings (or ones back after being resolved) open
 * afresh, changed ones take the new figures (and lose an acknowledgement given for the old ones),
 * unchanged ones only move last_seen, cleared ones are resolved. Order findings are inserted once
 * per key, already resolved: they are reports.
 */
async function recordFindingsIn(
  em: EntityManager,
  runId: number,
  plan: PositionPlan,
  orderFindings: readonly NewOrderFinding[],
  at: Date,
): Promise<FindingChanges> {
  const createdIds: number[] = [];
  for (const found of plan.create) {
    const reopened = await em.nativeUpdate(
      DiscrepancyEntity,
      { key: found.key },
      {
        ...figures(found),
        symbol: found.symbol,
        firstSeenAt: at,
        lastSeenAt: at,
        resolvedAt: null,
        acknowledgedBy: null,
        acknowledgedAt: null,
        slackChannelId: null,
        slackMessageTs: null,
        lastRun: runId,
      },
    );
    if (reopened > 0) createdIds.push((await em.findOneOrFail(DiscrepancyEntity, { key: found.key })).id);
    else
      createdIds.push(
        await em.insert(DiscrepancyEntity, {
          ...figures(found),
          key: found.key,
          symbol: found.symbol,
          firstSeenAt: at,
          lastSeenAt: at,
          lastRun: runId,
        }),
      );
  }
  for (const { id, found } of plan.change) {
    await em.nativeUpdate(
      DiscrepancyEntity,
      { id },
      { ...figures(found), lastSeenAt: at, lastRun: runId, acknowledgedBy: null, acknowledgedAt: null },
    );
  }
  const keepIds = plan.keep.map((k) => k.id);
  for (const ids of chunks(keepIds))
    await em.nativeUpdate(DiscrepancyEntity, { id: { $in: ids } }, { lastSeenAt: at, lastRun: runId });
  for (const ids of chunks(plan.resolve))
    await em.nativeUpdate(DiscrepancyEntity, { id: { $in: ids } }, { resolvedAt: at, lastRun: runId });
  for (const finding of orderFindings) {
    const inserted = await em
      .createQueryBuilder(DiscrepancyEntity)
      .insert({
        key: finding.key,
        kind: finding.kind,
        symbol: finding.symbol,
        details: JSON.stringify(finding.details),
        firstSeenAt: at,
        lastSeenAt: at,
        resolvedAt: at,
        lastRun: runId,
      })
      .onConflict('key')
      .ignore()
      .execute('run');
    if (inserted.affectedRows > 0)
      createdIds.push((await em.findOneOrFail(DiscrepancyEntity, { key: finding.key })).id);
  }
  const load = async (ids: readonly number[]) => {
    const out: StoredDiscrepancy[] = [];
    for (const part of chunks(ids))
      out.push(
        ...(await em.find(DiscrepancyEntity, { id: { $in: part } }, { orderBy: { id: 'asc' } })).map(toDiscrepancy),
      );
    return out;
  };
  return {
    created: await load(createdIds),
    changed: await load(plan.change.map((c) => c.id)),
    unchanged: await load(keepIds),
    resolved: await load(plan.resolve),
  };
}

async function finishRunIn(
  em: EntityManager,
  id: number,
  result: Partial<ReconcileRunCounts> & { outcome: ReconcileOutcome; error?: string | null },
  at: Date,
): Promise<ReconcileRun> {
  await em.nativeUpdate(ReconcileRunEntity, { id }, { ...result, error: result.error ?? null, finishedAt: at });
  return toRun(await em.findOneOrFail(ReconcileRunEntity, { id }, { refresh: true }));
}

const ADJUSTMENT_EXECUTION_PREFIX = 'adjustment:';

/** The fill an adjustment becomes is keyed by this, so recording it twice stores it once. */
export function adjustmentExecutionId(adjustmentId: number): string {
  return `${ADJUSTMENT_EXECUTION_PREFIX}${adjustmentId}`;
}

function toAdjustment(row: BookAdjustmentRecord): BookAdjustment {
  return {
    id: row.id,
    portfolioName: row.portfolioName,
    symbol: row.symbol,
    qty: qtyOf(row.qty),
    price: dec(String(row.price)).toDecimalPlaces(6),
    reason: row.reason,
    userId: row.userId,
    createdAt: row.createdAt,
    discrepancyId: row.discrepancy ?? null,
  };
}
