import { randomUUID } from 'node:crypto';
import { type EntityData, type FilterQuery, LockMode, raw } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/knex';
import { APPROVAL_ERROR_CODES, type ApprovalDecision } from '../../domain/approvals';
import { type Dec, dec, decToString } from '../../domain/money';
import { type Notification, tradeChanged, tradeFinished, traderChanged } from '../../domain/notifications';
import { type Side, TERMINAL_STATUSES, UNPLACED_STATUSES } from '../../domain/order';
import { type StoredFills, summariseFills } from '../../domain/order-updates';
import { portfolioNameKey } from '../../domain/portfolio-name';
import {
  type Fill,
  hasConfirmationPlace,
  hasTrader,
  isSlackMemberId,
  type NewFill,
  type NewTrade,
  reachedFinalState,
  type Trade,
  type TradePatch,
  visiblyChanged,
} from '../../domain/trade';
import {
  ApprovalEntity,
  FillEntity,
  type FillRecord,
  type StoredSide,
  TradeEntity,
  type TradeRecord,
} from '../entities';
import { isPostgres, type Orm } from '../orm';
import { appendNotifications, appendNotificationsRaw } from './outbox-repository';
import { applyFillToPositions } from './position-repository';
import { type RawSession, withRawSession } from './raw-statements';

/**
 * Rows of one portfolio, matched on the trimmed, lower-cased name like portfolio keys, because rows
 * of the earlier OMS spell one portfolio several ways. (SQL lower() folds ASCII only on SQLite.)
 */
export function portfolioMatch(portfolioName: string): FilterQuery<TradeRecord> {
  return { [raw('lower(trim(portfolio_name))')]: portfolioNameKey(portfolioName) };
}

/** Statuses after which nothing more will happen to an order: listUnsettled() skips them. */
const SETTLED = [...TERMINAL_STATUSES];
/** Waiting for an approver: not the broker's business, so never settled, sent or failed by a settle pass. */
const AWAITING_APPROVAL = 'pending_approval';

function toStoredSide(side: Side): StoredSide {
  return side === 'buy' ? 'BUY' : 'SELL';
}

function fromStoredSide(side: StoredSide): Side {
  return side === 'BUY' ? 'buy' : 'sell';
}

const decOrNull = (value: string | null | undefined): Dec | null => (value == null ? null : dec(value));
const storedDec = (value: Dec | null | undefined): string | null => (value == null ? null : decToString(value));

function toTrade(row: TradeRecord): Trade {
  return {
    id: row.id,
    tradeId: row.tradeId,
    clientOrderId: row.clientOrderId ?? null,
    source: row.source,
    status: row.status,
    symbol: row.symbol,
    side: fromStoredSide(row.side),
    quantity: decOrNull(row.quantity),
    notional: decOrNull(row.notional),
    gmv: decOrNull(row.gmv),
    orderType: row.orderType ?? null,
    timeInForce: row.timeInForce ?? null,
    limitPrice: decOrNull(row.limitPrice),
    stopPrice: decOrNull(row.stopPrice),
    extendedHours: row.extendedHours,
    portfolioName: row.portfolioName,
    userId: row.userId,
    timestamp: row.timestamp,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    submittedAt: row.submittedAt ?? null,
    marketOpenAtSubmit: row.marketOpenAtSubmit ?? null,
    slackChannelId: row.slackChannelId ?? null,
    slackMessageTs: row.slackMessageTs ?? null,
    errorCode: row.errorCode ?? null,
    errorKind: row.errorKind ?? null,
    errorMessage: row.errorMessage ?? null,
    alpacaOrderId: row.alpacaOrderId ?? null,
    alpacaStatus: row.alpacaStatus ?? null,
    alpacaFilledQty: decOrNull(row.alpacaFilledQty),
    alpacaFilledPrice: decOrNull(row.alpacaFilledPrice),
    alpacaFilledAt: row.alpacaFilledAt ?? null,
    alpacaUpdatedAt: row.alpacaUpdatedAt ?? null,
    submitLeaseOwner: row.submitLeaseOwner ?? null,
    submitLeaseUntil: row.submitLeaseUntil ?? null,
  };
}

/** The columns a new pending row sets, each with the record property it stores. */
const PENDING_COLUMNS = [
  ['trade_id', 'tradeId'],
  ['client_order_id', 'clientOrderId'],
  ['source', 'source'],
  ['status', 'status'],
  ['symbol', 'symbol'],
  ['side', 'side'],
  ['quantity', 'quantity'],
  ['notional', 'notional'],
  ['gmv', 'gmv'],
  ['order_type', 'orderType'],
  ['time_in_force', 'timeInForce'],
  ['limit_price', 'limitPrice'],
  ['stop_price', 'stopPrice'],
  ['extended_hours', 'extendedHours'],
  ['portfolio_name', 'portfolioName'],
  ['user_id', 'userId'],
  ['slack_channel_id', 'slackChannelId'],
  ['market_open_at_submit', 'marketOpenAtSubmit'],
  ['timestamp', 'timestamp'],
  ['created_at', 'createdAt'],
  ['updated_at', 'updatedAt'],
] as const satisfies readonly (readonly [string, keyof TradeRecord])[];
type PendingRecord = Pick<TradeRecord, (typeof PENDING_COLUMNS)[number][1]>;
const PENDING_TRADE_COLUMNS = PENDING_COLUMNS.map(([column]) => `"${column}"`).join(', ');
const PENDING_TRADE_VALUES = PENDING_COLUMNS.map(() => '?').join(', ');

const INSERT_PENDING_TRADE_SQL =
  `insert into "trades" (${PENDING_TRADE_COLUMNS}) values (${PENDING_TRADE_VALUES}) ` +
  'on conflict ("client_order_id") do nothing returning "id"';

const NEXT_TRADE_ID_SQL = `select nextval(pg_get_serial_sequence('trades', 'id')) as "id"`;

/** The row (its id given) and its notifications in one statement; "inserted" is 0 when the row already existed. */
const INSERT_PENDING_TRADE_WITH_OUTBOX_PG_SQL =
  `with "t" as (insert into "trades" ("id", ${PENDING_TRADE_COLUMNS}) values (?, ${PENDING_TRADE_VALUES}) ` +
  'on conflict ("client_order_id") do nothing returning "id"), ' +
  '"o" as (insert into "outbox" ("topic", "stream", "coalesce_key", "payload", "version", "attempts", ' +
  '"available_at", "created_at", "updated_at") ' +
  'select "n"."topic", "n"."stream", "n"."coalesce_key", "n"."payload", 1, 0, ?, ?, ? ' +
  'from unnest(?::text[], ?::text[], ?::text[], ?::text[]) as "n" ("topic", "stream", "coalesce_key", "payload") ' +
  'where exists (select 1 from "t") ' +
  'on conflict ("coalesce_key") do update set "version" = "outbox"."version" + 1, ' +
  '"payload" = excluded."payload", "updated_at" = excluded."updated_at") ' +
  'select count(*)::int as "inserted" from "t"';

type CreatedPending = { trade: Trade; notified: number } | undefined;

/** SQLite: the row and its notifications in one transaction of prepared statements. */
function insertPendingSqlite(
  session: RawSession,
  pending: Omit<Trade, 'id'>,
  values: unknown[],
  at: Date,
): Promise<CreatedPending> {
  return session.transaction(async () => {
    const inserted = await session.all<{ id: number }>('insert_pending_trade', INSERT_PENDING_TRADE_SQL, values);
    if (inserted.length === 0) return undefined;
    const trade: Trade = { ...pending, id: Number(inserted[0]!.id) };
    return { trade, notified: await appendNotificationsRaw(session, notificationsFor(undefined, trade), at) };
  });
}

/**
 * PostgreSQL: the id is drawn first so the notifications can name it, then the row and its
 * notifications go as one statement (atomic on its own): two round trips, no transaction.
 */
async function insertPendingPostgres(
  session: RawSession,
  pending: Omit<Trade, 'id'>,
  values: unknown[],
  at: Date,
): Promise<CreatedPending> {
  const [next] = await session.all<{ id: string | number }>('next_trade_id', NEXT_TRADE_ID_SQL, []);
  const trade: Trade = { ...pending, id: Number(next!.id) };
  const notifications = notificationsFor(undefined, trade);
  const [result] = await session.all<{ inserted: number }>(
    'insert_pending_trade_with_outbox',
    INSERT_PENDING_TRADE_WITH_OUTBOX_PG_SQL,
    [
      trade.id,
      ...values,
      at,
      at,
      at,
      notifications.map((n) => n.topic),
      notifications.map((n) => n.stream),
      notifications.map((n) => n.coalesceKey ?? null),
      notifications.map((n) => JSON.stringify(n.payload)),
    ],
  );
  return result!.inserted > 0 ? { trade, notified: notifications.length } : undefined;
}

/** A new pending row as stored (decimals as their stored strings), all but its id. */
function pendingRecord(row: NewTrade, at: Date): PendingRecord {
  return {
    tradeId: row.tradeId ?? randomUUID(),
    clientOrderId: row.clientOrderId,
    source: row.source,
    status: 'pending_submit',
    symbol: row.symbol,
    side: toStoredSide(row.side),
    quantity: storedDec(row.quantity),
    notional: storedDec(row.notional),
    gmv: storedDec(row.gmv),
    orderType: row.orderType,
    timeInForce: row.timeInForce,
    limitPrice: storedDec(row.limitPrice),
    stopPrice: storedDec(row.stopPrice),
    extendedHours: row.extendedHours,
    portfolioName: row.portfolioName,
    userId: row.userId,
    slackChannelId: row.slackChannelId ?? null,
    marketOpenAtSubmit: row.marketOpenAtSubmit ?? null,
    timestamp: at,
    createdAt: at,
    updatedAt: at,
  };
}

function toFill(row: FillRecord): Fill {
  return {
    id: row.id,
    executionId: row.executionId,
    tradeId: row.trade ?? null,
    symbol: row.symbol,
    side: fromStoredSide(row.side),
    qty: dec(row.qty),
    price: dec(row.price),
    portfolioName: row.portfolioName,
    filledAt: row.filledAt,
    source: row.source,
    createdAt: row.createdAt,
  };
}

function patchData(patch: TradePatch): EntityData<TradeRecord> {
  const data: EntityData<TradeRecord> = {};
  if (patch.status !== undefined) data.status = patch.status;
  if (patch.quantity !== undefined) data.quantity = storedDec(patch.quantity);
  if (patch.gmv !== undefined) data.gmv = storedDec(patch.gmv);
  if (patch.submittedAt !== undefined) data.submittedAt = patch.submittedAt;
  if (patch.marketOpenAtSubmit !== undefined) data.marketOpenAtSubmit = patch.marketOpenAtSubmit;
  if (patch.slackChannelId !== undefined) data.slackChannelId = patch.slackChannelId;
  if (patch.slackMessageTs !== undefined) data.slackMessageTs = patch.slackMessageTs;
  if (patch.errorCode !== undefined) data.errorCode = patch.errorCode;
  if (patch.errorKind !== undefined) data.errorKind = patch.errorKind;
  if (patch.errorMessage !== undefined) data.errorMessage = patch.errorMessage;
  if (patch.alpacaOrderId !== undefined) data.alpacaOrderId = patch.alpacaOrderId;
  if (patch.alpacaStatus !== undefined) data.alpacaStatus = patch.alpacaStatus;
  if (patch.alpacaFilledQty !== undefined) data.alpacaFilledQty = storedDec(patch.alpacaFilledQty);
  if (patch.alpacaFilledPrice !== undefined) data.alpacaFilledPrice = storedDec(patch.alpacaFilledPrice);
  if (patch.alpacaFilledAt !== undefined) data.alpacaFilledAt = patch.alpacaFilledAt;
  if (patch.alpacaUpdatedAt !== undefined) data.alpacaUpdatedAt = patch.alpacaUpdatedAt;
  return data;
}

/**
 * What the trader's surfaces must be told about a change from `before` to `after` (none for rows
 * nobody placed here).
 */
function notificationsFor(before: Trade | undefined, after: Trade): Notification[] {
  if (!hasTrader(after) || (before && !visiblyChanged(before, after))) return [];
  const out: Notification[] = [];
  if (hasConfirmationPlace(after)) {
    out.push(tradeChanged(after.id));
    // A ledger order is recorded in the trader's presence; a broker order may finish hours later.
    if (before && after.source !== 'ledger' && reachedFinalState(before, after))
      out.push(tradeFinished(after.id, after.status));
  }
  if (isSlackMemberId(after.userId)) out.push(traderChanged(after.userId));
  return out;
}

/**
 * A sell being recorded is checked against what the portfolio can still sell, in the same
 * transaction as its insert.
 */
export interface SellCheck {
  /**
   * Turns the unfilled part of working dollar-amount sells into shares; without it such sells make
   * the check fail closed.
   */
  price?: Dec;
  /** A refusal sentence, or undefined to go ahead. */
  check(sellable: Sellable): string | undefined;
}

export interface Sellable {
  /** Filled buys minus filled sells, minus every working sell's unfilled part. */
  qty: Dec;
  /** True when a working dollar-amount sell could not be turned into shares (no price given). */
  unpriced: boolean;
}

export type InsertPendingResult = { kind: 'created' | 'existing'; trade: Trade } | { kind: 'refused'; reason: string };

/** The request written with an order that waits for an approver, and who is told about it (same transaction). */
export interface ApprovalRequestRow {
  priceAtRequest: Dec;
  estimatedValue: Dec;
  notifications: (trade: Trade) => Notification[];
}

/** A decision on an order waiting for approval, and the change to the order it makes. */
export interface ApprovalDecisionRow {
  tradeId: number;
  decision: ApprovalDecision;
  /** Undefined for the expiry sweep: nobody decided. */
  userId?: string;
  reason?: string;
  priceAtDecision?: Dec;
  patch: TradePatch;
  notifications: Notification[];
}

export type ApprovalDecisionResult =
  | { kind: 'decided'; trade: Trade }
  /** Another decision got there first (a second approver, a double click, a redelivery): nothing changed. */
  | { kind: 'already'; trade: Trade }
  | { kind: 'missing' };

/**
 * Queries on `trades` and `fills`. Every call runs on its own forked EntityManager; every change
 * a trader would see is written to the outbox in the same transaction (see notificationsFor).
 */
export class TradeRepository {
  constructor(
    private readonly orm: Orm,
    private readonly now: () => Date = () => new Date(),
    /** Called after a transaction that wrote notifications commits (the outbox worker wakes up). */
    private readonly onNotified: () => void = () => undefined,
  ) {}

  /** Runs `work` in a transaction; tells onNotified once it committed, if it wrote notifications. */
  private async transaction<T>(work: (em: EntityManager, written: { count: number }) => Promise<T>): Promise<T> {
    const written = { count: 0 };
    const result = await this.orm.em.fork().transactional((em) => work(em, written));
    if (written.count > 0) this.onNotified();
    return result;
  }

  /**
   * Writes the trade row before the broker is called. Idempotent on client_order_id: a Slack
   * redelivery or a double click gets the existing row back with created=false. The unique index
   * decides (INSERT … ON CONFLICT DO NOTHING), so concurrent callers cannot both create one.
   */
  async insertPending(row: NewTrade): Promise<{ trade: Trade; created: boolean }> {
    const result = await this.recordPending(row);
    if (result.kind === 'refused') throw new Error(result.reason);
    return { trade: result.trade, created: result.kind === 'created' };
  }

  /**
   * insertPending, with a sell checked against the holding inside the same transaction: sells of
   * one portfolio and symbol are serialised (a PostgreSQL advisory lock; SQLite has one writer),
   * so two sells submitted at once cannot both sell the same shares.
   */
  async recordPending(row: NewTrade, sell?: SellCheck, approval?: ApprovalRequestRow): Promise<InsertPendingResult> {
    if (!approval && !(sell && row.side === 'sell')) return this.recordPlainPending(row);
    const at = this.now();
    return this.transaction(async (em, written) => {
      const existing = await em.findOne(TradeEntity, { clientOrderId: row.clientOrderId });
      if (existing) return { kind: 'existing', trade: toTrade(existing) };
      if (sell && row.side === 'sell') {
        if (isPostgres(em)) {
          await em
            .getConnection()
            .execute(
              'select pg_advisory_xact_lock(hashtext(?))',
              [`sell:${portfolioNameKey(row.portfolioName)}:${row.symbol}`],
              'run',
              em.getTransactionContext(),
            );
        }
        const reason = sell.check(await sellableIn(em, row.portfolioName, row.symbol, sell.price));
        if (reason !== undefined) return { kind: 'refused', reason };
      }
      const result = await em
        .createQueryBuilder(TradeEntity)
        .insert({ ...pendingRecord(row, at), status: approval ? AWAITING_APPROVAL : 'pending_submit' })
        .onConflict('clientOrderId')
        .ignore()
        .execute('run');
      const trade = toTrade(await em.findOneOrFail(TradeEntity, { clientOrderId: row.clientOrderId }));
      if (result.affectedRows === 0) return { kind: 'existing', trade };
      if (approval) {
        await em
          .createQueryBuilder(ApprovalEntity)
          .insert({
            trade: trade.id,
            requestedBy: trade.userId,
            requestedAt: at,
            priceAtRequest: decToString(approval.priceAtRequest),
            estimatedValue: decToString(approval.estimatedValue.toDecimalPlaces(2)),
          })
          .execute('run');
        written.count += await appendNotifications(em, approval.notifications(trade), at);
      }
      written.count += await appendNotifications(em, notificationsFor(undefined, trade), at);
      return { kind: 'created', trade };
    });
  }

  /**
   * Most orders (no sell check, no approval) are one INSERT … ON CONFLICT DO NOTHING and their
   * notifications, in prepared SQL: this runs before Slack's ack, for every order of a burst.
   */
  private async recordPlainPending(row: NewTrade): Promise<InsertPendingResult> {
    const at = this.now();
    const record = pendingRecord(row, at);
    // The order as toTrade would read it back, all but the id the insert gives it.
    const { id: _, ...pending } = toTrade({ id: 0, ...record } as TradeRecord);
    const values = PENDING_COLUMNS.map(([, property]) => record[property]);
    const created = await withRawSession(this.orm, (session) =>
      session.postgres
        ? insertPendingPostgres(session, pending, values, at)
        : insertPendingSqlite(session, pending, values, at),
    );
    if (created) {
      if (created.notified > 0) this.onNotified();
      return { kind: 'created', trade: created.trade };
    }
    const existing = await this.findByClientOrderId(row.clientOrderId);
    if (!existing) throw new Error(`No order with client_order_id ${row.clientOrderId} after a conflict on it`);
    return { kind: 'existing', trade: existing };
  }

  async findById(id: number): Promise<Trade | null> {
    const row = await this.orm.em.fork().findOne(TradeEntity, { id });
    return row ? toTrade(row) : null;
  }

  async findByClientOrderId(clientOrderId: string): Promise<Trade | null> {
    const row = await this.orm.em.fork().findOne(TradeEntity, { clientOrderId });
    return row ? toTrade(row) : null;
  }

  /** By the human-facing id (the earlier OMS's `trade_id`). */
  async findByTradeId(tradeId: string): Promise<Trade | undefined> {
    const row = await this.orm.em.fork().findOne(TradeEntity, { tradeId });
    return row ? toTrade(row) : undefined;
  }

  /** A page of orders, newest first, optionally of one symbol and one portfolio (matched like a portfolio key). */
  async list(query: { skip: number; limit: number; symbol?: string; portfolio?: string }): Promise<Trade[]> {
    const where: FilterQuery<TradeRecord> = {};
    if (query.symbol) where.symbol = query.symbol.trim().toUpperCase();
    if (query.portfolio) Object.assign(where, portfolioMatch(query.portfolio));
    const rows = await this.orm.em
      .fork()
      .find(TradeEntity, where, { orderBy: { id: 'desc' }, offset: query.skip, limit: query.limit });
    return rows.map(toTrade);
  }

  /** How many orders a portfolio placed (refused and failed ones never were), and of them the buys and the sells. */
  async countsForPortfolio(portfolioName: string): Promise<{ total: number; buys: number; sells: number }> {
    const rows: { side: StoredSide; count: number | string }[] = await this.orm.em
      .fork()
      .createQueryBuilder(TradeEntity)
      .select(['side', raw('count(*) as count')])
      .where({
        $and: [
          portfolioMatch(portfolioName),
          { status: { $nin: [...UNPLACED_STATUSES] } },
          // Withdrawn or expired before approval: never placed either.
          { $or: [{ errorCode: null }, { errorCode: { $nin: Object.values(APPROVAL_ERROR_CODES) } }] },
        ],
      })
      .groupBy('side')
      .execute('all', false);
    const count = (side: StoredSide) => Number(rows.find((row) => row.side === side)?.count ?? 0);
    return { total: count('BUY') + count('SELL'), buys: count('BUY'), sells: count('SELL') };
  }

  /** Applies the patch and returns the row as stored. Throws when no trade has that id. */
  async update(id: number, patch: TradePatch): Promise<Trade> {
    const updated = await this.updateIf(id, patch, () => true);
    if (!updated) throw new Error(`No trade with id ${id}`);
    return updated;
  }

  /**
   * Applies the patch only if `condition` holds for the row as locked; returns the row as stored
   * after the patch, or undefined when there is no such row or the condition failed.
   */
  async updateIf(id: number, patch: TradePatch, condition: (trade: Trade) => boolean): Promise<Trade | undefined> {
    return this.transaction(async (em, written) => {
      const before = await lockTrade(em, { id });
      if (!before || !condition(before)) return undefined;
      return writePatch(em, before, patch, this.now(), written);
    });
  }

  /**
   * Brings one order up to date from the broker, under its row lock (PostgreSQL FOR UPDATE; SQLite
   * has one writer): `plan` sees the row and its stored fills as they are, and its fills and patch
   * commit together with their positions and notifications. Undefined when no row matches.
   */
  async applyUnderLock(
    match: { id: number } | { clientOrderId?: string; alpacaOrderId: string },
    plan: (trade: Trade, stored: StoredFills) => { fills: NewFill[]; patch: TradePatch },
  ): Promise<Trade | undefined> {
    return this.transaction(async (em, written) => {
      const trade =
        'id' in match
          ? await lockTrade(em, { id: match.id })
          : ((match.clientOrderId ? await lockTrade(em, { clientOrderId: match.clientOrderId }) : undefined) ??
            (await lockTrade(em, { alpacaOrderId: match.alpacaOrderId })));
      if (!trade) return undefined;
      const stored = (await em.find(FillEntity, { trade: trade.id })).map(toFill);
      const { fills, patch } = plan(trade, summariseFills(stored));
      const at = this.now();
      for (const fill of fills) await insertFill(em, fill, at);
      return writePatch(em, trade, patch, at, written);
    });
  }

  /**
   * Rows the broker still has to settle: `pending_submit` and every other non-terminal status, oldest
   * first. Orders awaiting approval were never sent: they are not the broker's to settle.
   */
  async listUnsettled(): Promise<Trade[]> {
    const rows = await this.orm.em
      .fork()
      .find(TradeEntity, { status: { $nin: [...SETTLED, AWAITING_APPROVAL] } }, { orderBy: { id: 'asc' } });
    return rows.map(toTrade);
  }

  /**
   * Decides an order waiting for approval, exactly once: the order leaves `pending_approval` by a
   * conditional UPDATE (… WHERE status = 'pending_approval', on the locked row), and the decision,
   * the order's change and its notifications commit together. Concurrent deciders, double clicks
   * and redeliveries find the order moved on and get 'already'.
   */
  async decideApproval(row: ApprovalDecisionRow): Promise<ApprovalDecisionResult> {
    return this.transaction(async (em, written) => {
      const at = this.now();
      // Written before anything is read: the UPDATE takes the row's lock (PostgreSQL) or the database's
      // write lock (SQLite) at once, so deciders queue here instead of upgrading a read lock into a deadlock.
      const moved = await em.nativeUpdate(
        TradeEntity,
        { id: row.tradeId, status: AWAITING_APPROVAL },
        { ...patchData(row.patch), updatedAt: at },
      );
      const stored = await em.findOne(TradeEntity, { id: row.tradeId }, { refresh: true });
      if (!stored) return { kind: 'missing' };
      const after = toTrade(stored);
      if (moved === 0) return { kind: 'already', trade: after };
      const recorded = await em.nativeUpdate(
        ApprovalEntity,
        { trade: row.tradeId, decision: null },
        {
          decision: row.decision,
          decidedBy: row.userId ?? null,
          decidedAt: at,
          reason: row.reason ?? null,
          priceAtDecision: storedDec(row.priceAtDecision),
        },
      );
      // An order awaiting approval always has its undecided request: anything else rolls back.
      if (recorded === 0) throw new Error(`Order ${row.tradeId} awaits approval without an undecided request`);
      // What the trader saw before: the same order, still awaiting approval.
      const before: Trade = {
        ...after,
        status: AWAITING_APPROVAL,
        errorCode: null,
        errorKind: null,
        errorMessage: null,
      };
      written.count += await appendNotifications(em, [...notificationsFor(before, after), ...row.notifications], at);
      return { kind: 'decided', trade: after };
    });
  }

  /**
   * Takes (or renews) the right to send this order to the broker until `until`. Only one holder
   * at a time, across instances: granted when the lease is free, expired, already `owner`'s, or
   * held by `takeOverFrom` (a holder known to be dead), and only while the order still waits to
   * be sent or confirmed.
   */
  async acquireSubmitLease(id: number, owner: string, until: Date, takeOverFrom?: string): Promise<Trade | undefined> {
    const now = this.now();
    const holders = takeOverFrom ? [owner, takeOverFrom] : [owner];
    const won = await this.orm.em.fork().nativeUpdate(
      TradeEntity,
      {
        id,
        status: { $in: ['pending_submit', 'submitted'] },
        $or: [{ submitLeaseUntil: null }, { submitLeaseUntil: { $lt: now } }, { submitLeaseOwner: { $in: holders } }],
      },
      { submitLeaseOwner: owner, submitLeaseUntil: until },
    );
    return won > 0 ? ((await this.findById(id)) ?? undefined) : undefined;
  }

  /** Extends a lease `owner` still holds; false when it was lost (expired and taken, or the order moved on). */
  async renewSubmitLease(id: number, owner: string, until: Date): Promise<boolean> {
    const won = await this.orm.em
      .fork()
      .nativeUpdate(TradeEntity, { id, submitLeaseOwner: owner }, { submitLeaseUntil: until });
    return won > 0;
  }

  async releaseSubmitLease(id: number, owner: string): Promise<void> {
    await this.orm.em
      .fork()
      .nativeUpdate(TradeEntity, { id, submitLeaseOwner: owner }, { submitLeaseOwner: null, submitLeaseUntil: null });
  }

  /**
   * Stores one execution and its effect on positions in one transaction. Idempotent on
   * execution_id: true when this call inserted it.
   */
  async recordFill(fill: NewFill): Promise<boolean> {
    const at = this.now();
    return this.orm.em.fork().transactional((em) => insertFill(em, fill, at));
  }

  async listFillsForTrade(tradeId: number): Promise<Fill[]> {
    const rows = await this.orm.em
      .fork()
      .find(FillEntity, { trade: tradeId }, { orderBy: { filledAt: 'asc', id: 'asc' } });
    return rows.map(toFill);
  }

  /**
   * What a portfolio holds of a symbol and can still sell: filled buys minus filled sells, minus the
   * unfilled part of sells still working — share sells by quantity, dollar-amount sells at `price`
   * (so two open sells cannot sell the same shares).
   */
  async sellableQuantity(portfolioName: string, symbol: string, price?: Dec): Promise<Sellable> {
    return sellableIn(this.orm.em.fork(), portfolioName, symbol, price);
  }
}

async function lockTrade(
  em: EntityManager,
  where: { id: number } | { clientOrderId: string } | { alpacaOrderId: string },
): Promise<Trade | undefined> {
  const row = await em.findOne(TradeEntity, where, {
    ...(isPostgres(em) ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}),
    refresh: true,
  });
  return row ? toTrade(row) : undefined;
}

async function writePatch(
  em: EntityManager,
  before: Trade,
  patch: TradePatch,
  at: Date,
  written: { count: number },
): Promise<Trade> {
  await em.nativeUpdate(TradeEntity, { id: before.id }, { ...patchData(patch), updatedAt: at });
  // The row is locked: what it holds now is what was read plus the patch, without reading it again.
  const after: Trade = { ...before, ...definedFields(patch), updatedAt: at };
  written.count += await appendNotifications(em, notificationsFor(before, after), at);
  return after;
}

function definedFields(patch: TradePatch): TradePatch {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as TradePatch;
}

async function insertFill(em: EntityManager, fill: NewFill, at: Date): Promise<boolean> {
  const result = await em
    .createQueryBuilder(FillEntity)
    .insert({
      executionId: fill.executionId,
      trade: fill.tradeId,
      symbol: fill.symbol,
      side: toStoredSide(fill.side),
      qty: decToString(fill.qty),
      price: decToString(fill.price),
      portfolioName: fill.portfolioName,
      filledAt: fill.filledAt,
      source: fill.source,
      createdAt: at,
    })
    .onConflict('executionId')
    .ignore()
    .execute('run');
  if (result.affectedRows === 0) return false;
  await applyFillToPositions(em, { ...fill, id: result.insertId }, at);
  return true;
}

async function sellableIn(
  em: EntityManager,
  portfolioName: string,
  symbol: string,
  price: Dec | undefined,
): Promise<Sellable> {
  const filled = await em
    .createQueryBuilder(FillEntity, 'f')
    .select([raw("coalesce(sum(case when f.side = 'BUY' then f.qty else -f.qty end), 0) as net")])
    .where({ portfolioName, symbol })
    .execute<{ net: string | number | null }>('get');
  const working = await em.find(TradeEntity, { portfolioName, symbol, side: 'SELL', status: { $nin: SETTLED } });
  let qty = dec(String(filled?.net ?? 0));
  let unpriced = false;
  for (const sell of working.map(toTrade)) {
    const filledQty = sell.alpacaFilledQty ?? dec(0);
    if (sell.quantity) qty = qty.minus(sell.quantity.minus(filledQty));
    else if (sell.notional) {
      const left = sell.notional.minus(filledQty.times(sell.alpacaFilledPrice ?? 0));
      if (left.lte(0)) continue;
      if (price?.gt(0)) qty = qty.minus(left.div(price));
      else unpriced = true;
    }
  }
  return { qty: qty.toDecimalPlaces(9), unpriced };
}
