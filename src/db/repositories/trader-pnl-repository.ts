import { APPROVAL_ERROR_CODES } from '../../domain/approvals';
import { UNPLACED_STATUSES } from '../../domain/order';
import type { TraderFill } from '../../domain/trader-pnl';
import type { Orm } from '../orm';

/**
 * What P&L per trader reads: every fill with its order's trader, in the order positions fold them
 * (filled_at, then id), and how many orders each trader placed. Plain SQL over raw rows: the
 * report reads every fill the books hold, and hydrating 100,000 entities would cost more than the
 * arithmetic. `fills_filled_at_id_index` lets both databases read the fills in that order without
 * sorting them.
 */

interface FillRow {
  id: number;
  user_id: string | null;
  trade_id: number | null;
  portfolio_name: string;
  symbol: string;
  side: 'BUY' | 'SELL';
  qty: string | number;
  price: string | number;
}

/** A fill with its id, so a report can continue after the highest one it read. */
export interface StoredTraderFill extends TraderFill {
  id: number;
}

/** A fill added since a report last read, with when it was filled (epoch milliseconds). */
export interface NewerTraderFill extends StoredTraderFill {
  filledAt: number;
}

/** filled_at only for the few newer fills: node-postgres making 100,000 Dates costs more than the rest of the rows. */
const COLUMNS = 'f.id, t.user_id, f.trade_id, f.portfolio_name, f.symbol, f.side, f.qty, f.price';
const FROM = ' from fills f left join trades t on t.id = f.trade_id';
const IN_FOLD_ORDER = ' order by f.filled_at, f.id';

/** A datetime is epoch milliseconds on SQLite (a number, or digits from an aggregate) and a Date on PostgreSQL. */
function epochMs(value: Date | number | string): number {
  if (value instanceof Date) return value.getTime();
  return typeof value === 'number' || /^\d+$/.test(value) ? Number(value) : new Date(value).getTime();
}

function toFill(row: FillRow): StoredTraderFill {
  return {
    id: Number(row.id),
    userId: row.user_id,
    orderId: row.trade_id === null ? null : Number(row.trade_id),
    portfolioName: row.portfolio_name,
    symbol: row.symbol,
    side: row.side === 'BUY' ? 'buy' : 'sell',
    qty: row.qty,
    price: row.price,
  };
}

/** Never-placed orders: failed, refused by the broker, awaiting approval, or ended by an approval decision. */
const NEVER_SENT = [...UNPLACED_STATUSES];
const APPROVAL_ENDINGS = Object.values(APPROVAL_ERROR_CODES);
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

const ORDERS_PER_TRADER =
  'select user_id, count(*) as orders from trades ' +
  `where status not in (${placeholders(NEVER_SENT.length)}) ` +
  `and (error_code is null or error_code not in (${placeholders(APPROVAL_ENDINGS.length)})) ` +
  'group by user_id';

export class TraderPnlRepository {
  constructor(private readonly orm: Orm) {}

  /** Every fill in fold order; a fill without an order (a book adjustment) has no trader. */
  async fillsInOrder(): Promise<StoredTraderFill[]> {
    const rows: FillRow[] = await this.orm.em.getConnection().execute(`select ${COLUMNS}${FROM}${IN_FOLD_ORDER}`);
    const fills = new Array<StoredTraderFill>(rows.length);
    for (let i = 0; i < rows.length; i++) fills[i] = toFill(rows[i]!);
    return fills;
  }

  /** Fills with an id above `afterId`, in fold order: the ones added since (fills are never updated or deleted). */
  async fillsAfter(afterId: number): Promise<NewerTraderFill[]> {
    const rows: (FillRow & { filled_at: Date | number | string })[] = await this.orm.em
      .getConnection()
      .execute(`select ${COLUMNS}, f.filled_at${FROM} where f.id > ?${IN_FOLD_ORDER}`, [afterId]);
    return rows.map((row) => ({ ...toFill(row), filledAt: epochMs(row.filled_at) }));
  }

  /** The latest filled_at of any fill (epoch milliseconds), 0 when there is none. */
  async latestFilledAt(): Promise<number> {
    const [row] = await this.orm.em.getConnection().execute('select max(filled_at) as latest from fills');
    const latest = (row as { latest: Date | number | string | null } | undefined)?.latest;
    return latest == null ? 0 : epochMs(latest);
  }

  /**
   * How many fills have an id up to `upToId`: with the ones a report has read, tells whether a fill
   * committed behind a higher id was missed (fills added after the read are not counted).
   */
  async fillCount(upToId: number): Promise<number> {
    const [row] = await this.orm.em
      .getConnection()
      .execute('select count(*) as fills from fills where id <= ?', [upToId], 'all');
    return Number((row as { fills: string | number }).fills);
  }

  /** Orders each trader placed (accepted by the broker, whatever became of them since). */
  async ordersPerTrader(): Promise<Map<string, number>> {
    const rows: { user_id: string; orders: string | number }[] = await this.orm.em
      .getConnection()
      .execute(ORDERS_PER_TRADER, [...NEVER_SENT, ...APPROVAL_ENDINGS], 'all');
    return new Map(rows.map((r) => [r.user_id, Number(r.orders)]));
  }
}
