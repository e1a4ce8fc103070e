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
  timestamp: string;
  /** Omitted = the column default (CURRENT_TIMESTAMP); the column is nullable, so NULL is possible too. */
  created_at?: string | null;
}

/** The earlier OMS's schema, verbatim: no migrations table, just `trades`. */
const LEGACY_DDL: Record<DatabaseTarget['kind'], string> = {
  postgresql: `CREATE TABLE trades (
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
  sqlite: `CREATE TABLE trades (
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
};

/** Creates the earlier OMS's `trades` table in an empty database and inserts the rows in order (ids 1..n). */
export async function createLegacyOmsDatabase(target: DatabaseTarget, rows: readonly LegacyTradeRow[]): Promise<void> {
  const db =
    target.kind === 'sqlite'
      ? knex({ client: 'better-sqlite3', connection: { filename: target.url }, useNullAsDefault: true })
      : knex({ client: 'pg', connection: target.url, pool: { min: 0, max: 1 } });
  try {
    await db.raw(LEGACY_DDL[target.kind]);
    for (const row of rows) await db('trades').insert(row);
  } finally {
    await db.destroy();
  }
}
