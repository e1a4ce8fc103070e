import { knex } from '@mikro-orm/knex';
import type { DatabaseTarget } from '../../src/config';

/** A row as the earlier OMS wrote it. Timestamps are naive UTC text, as that service stored them. */
export interface LegacyTradeRow {
  trade_id: string;
  symbol: string;
  quantity: number;
  gmv: string;
  side: 'BUY' | 'SELL';
  portfolio_name: string;
  user_id: string;
  /** The earlier model left it nullable. */
  timestamp: string | null;
  /** Omitted = the column default (the current time); the column is nullable, so NULL is possible too. */
  created_at?: string | null;
  alpaca_order_id?: string | null;
  alpaca_filled_price?: number | null;
  alpaca_filled_qty?: number | null;
  alpaca_status?: string | null;
  alpaca_filled_at?: string | null;
}

export type HandAddedAlpacaColumn =
  | 'alpaca_order_id'
  | 'alpaca_filled_price'
  | 'alpaca_filled_qty'
  | 'alpaca_status'
  | 'alpaca_filled_at';

/**
 * How the earlier OMS's table came to be:
 * - `sqlalchemy`: `Base.metadata.create_all` from its `Trade` model, exactly as SQLAlchemy emits it
 *   (a native enum `tradeside` and timezone-aware timestamps on PostgreSQL, VARCHAR(4) and naive
 *   DATETIME text on SQLite; `trade_id` unique through the index `ix_trades_trade_id`, plus
 *   `ix_trades_id`, `ix_trades_symbol`, `ix_trades_portfolio_name`);
 * - `hand-written`: an early deployment's own DDL (a UNIQUE constraint, a CHECK on side, naive timestamps).
 */
export type LegacySchema = 'sqlalchemy' | 'hand-written';

const SQLALCHEMY_DDL: Record<DatabaseTarget['kind'], string[]> = {
  postgresql: [
    `CREATE TYPE tradeside AS ENUM ('BUY', 'SELL')`,
    `CREATE TABLE trades (
	id SERIAL NOT NULL, 
	trade_id VARCHAR NOT NULL, 
	symbol VARCHAR(10) NOT NULL, 
	quantity INTEGER NOT NULL, 
	gmv NUMERIC(15, 2) NOT NULL, 
	side tradeside NOT NULL, 
	portfolio_name VARCHAR(100) NOT NULL, 
	user_id VARCHAR(50) NOT NULL, 
	timestamp TIMESTAMP WITH TIME ZONE, 
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now(), 
	PRIMARY KEY (id)
)`,
    'CREATE INDEX ix_trades_id ON trades (id)',
    'CREATE UNIQUE INDEX ix_trades_trade_id ON trades (trade_id)',
    'CREATE INDEX ix_trades_symbol ON trades (symbol)',
    'CREATE INDEX ix_trades_portfolio_name ON trades (portfolio_name)',
  ],
  sqlite: [
    `CREATE TABLE trades (
	id INTEGER NOT NULL, 
	trade_id VARCHAR NOT NULL, 
	symbol VARCHAR(10) NOT NULL, 
	quantity INTEGER NOT NULL, 
	gmv NUMERIC(15, 2) NOT NULL, 
	side VARCHAR(4) NOT NULL, 
	portfolio_name VARCHAR(100) NOT NULL, 
	user_id VARCHAR(50) NOT NULL, 
	timestamp DATETIME, 
	created_at DATETIME DEFAULT (CURRENT_TIMESTAMP), 
	PRIMARY KEY (id)
)`,
    'CREATE INDEX ix_trades_id ON trades (id)',
    'CREATE UNIQUE INDEX ix_trades_trade_id ON trades (trade_id)',
    'CREATE INDEX ix_trades_symbol ON trades (symbol)',
    'CREATE INDEX ix_trades_portfolio_name ON trades (portfolio_name)',
  ],
};

const HAND_WRITTEN_DDL: Record<DatabaseTarget['kind'], string[]> = {
  postgresql: [
    `CREATE TABLE trades (
    id SERIAL PRIMARY KEY,
    trade_id VARCHAR(255) UNIQUE NOT NULL,
    symbol VARCHAR(10) NOT NULL,
    quantity INTEGER NOT NULL,
    gmv NUMERIC(15,2) NOT NULL,
    side VARCHAR(4) NOT NULL CHECK (side IN ('BUY','SELL')),
    portfolio_name VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
  )`,
  ],
  sqlite: [
    `CREATE TABLE trades (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trade_id TEXT UNIQUE NOT NULL,
    symbol TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    gmv NUMERIC(15,2) NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('BUY','SELL')),
    portfolio_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    created_at TEXT DEFAULT CURRENT_TIMESTAMP
  )`,
  ],
};

/** The columns as the Alpaca plan's hand-run steps added them (SQLAlchemy types: String, Float, Integer, DateTime). */
const HAND_ADDED_DDL: Record<DatabaseTarget['kind'], Record<HandAddedAlpacaColumn, string>> = {
  postgresql: {
    alpaca_order_id: 'VARCHAR',
    alpaca_filled_price: 'FLOAT',
    alpaca_filled_qty: 'INTEGER',
    alpaca_status: 'VARCHAR',
    alpaca_filled_at: 'TIMESTAMP WITH TIME ZONE',
  },
  sqlite: {
    alpaca_order_id: 'VARCHAR',
    alpaca_filled_price: 'FLOAT',
    alpaca_filled_qty: 'INTEGER',
    alpaca_status: 'VARCHAR',
    alpaca_filled_at: 'DATETIME',
  },
};

/**
 * Creates the earlier OMS's `trades` table in an empty database, as `schema` describes, with the
 * hand-added Alpaca columns listed, and inserts the rows in order (ids 1..n).
 */
export async function createLegacyOmsDatabase(
  target: DatabaseTarget,
  rows: readonly LegacyTradeRow[],
  options: { schema?: LegacySchema; alpacaColumns?: readonly HandAddedAlpacaColumn[] } = {},
): Promise<void> {
  const schema = options.schema ?? 'sqlalchemy';
  const alpacaColumns = options.alpacaColumns ?? [];
  const db =
    target.kind === 'sqlite'
      ? knex({ client: 'better-sqlite3', connection: { filename: target.url }, useNullAsDefault: true })
      : knex({ client: 'pg', connection: target.url, pool: { min: 0, max: 1 } });
  // SQLAlchemy sends timezone-aware values to a timezone-aware PostgreSQL column; the naive text is UTC.
  const zoned = schema === 'sqlalchemy' && target.kind === 'postgresql';
  const at = (text: string | null | undefined) =>
    text && zoned && !/([zZ]|[+-]\d\d(:?\d\d)?)$/.test(text) ? `${text}+00` : text;
  try {
    for (const sql of (schema === 'sqlalchemy' ? SQLALCHEMY_DDL : HAND_WRITTEN_DDL)[target.kind]) await db.raw(sql);
    for (const column of alpacaColumns)
      await db.raw(`ALTER TABLE trades ADD COLUMN ${column} ${HAND_ADDED_DDL[target.kind][column]}`);
    for (const row of rows) {
      const values: Record<string, unknown> = {
        trade_id: row.trade_id,
        symbol: row.symbol,
        quantity: row.quantity,
        gmv: row.gmv,
        side: row.side,
        portfolio_name: row.portfolio_name,
        user_id: row.user_id,
        timestamp: at(row.timestamp),
        ...(row.created_at === undefined ? {} : { created_at: at(row.created_at) }),
      };
      for (const column of alpacaColumns)
        values[column] = column === 'alpaca_filled_at' ? at(row[column]) : (row[column] ?? null);
      await db('trades').insert(values);
    }
  } finally {
    await db.destroy();
  }
}
