import type { Orm } from '../orm';

/**
 * A few hot statements (an order's pending row, written before Slack's ack) skip the ORM's query
 * building: each is written once and prepared once per connection. They run on a connection
 * taken from the ORM's own pool, so they queue with its transactions (SQLite has one connection)
 * and see the same schema.
 */
export interface RawSession {
  readonly postgres: boolean;
  /** Rows a statement returns (RETURNING or SELECT); `?` placeholders. */
  all<T>(name: string, sql: string, params: readonly unknown[]): Promise<T[]>;
  /** How many rows it changed. */
  run(name: string, sql: string, params: readonly unknown[]): Promise<number>;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
}

/** The part of better-sqlite3's statement and connection used here (the package ships no types). */
interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
}
interface PgConnection {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: unknown[]; rowCount: number | null }>;
  query(text: string): Promise<unknown>;
}

const sqliteStatements = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

function sqliteSession(db: SqliteConnection): RawSession {
  const cache = sqliteStatements.get(db) ?? new Map<string, SqliteStatement>();
  sqliteStatements.set(db, cache);
  const statement = (name: string, sql: string) => {
    const prepared = cache.get(name) ?? db.prepare(sql);
    cache.set(name, prepared);
    return prepared;
  };
  // better-sqlite3 binds neither Dates nor booleans: stored as the ORM stores them (epoch ms, 0/1).
  const bind = (params: readonly unknown[]) =>
    params.map((p) => (p instanceof Date ? p.getTime() : typeof p === 'boolean' ? Number(p) : p));
  return {
    postgres: false,
    all: async <T>(name: string, sql: string, params: readonly unknown[]) =>
      statement(name, sql).all(...bind(params)) as T[],
    run: async (name: string, sql: string, params: readonly unknown[]) =>
      statement(name, sql).run(...bind(params)).changes,
    transaction: async <T>(work: () => Promise<T>) => {
      db.exec('begin immediate');
      try {
        const result = await work();
        db.exec('commit');
        return result;
      } catch (err) {
        db.exec('rollback');
        throw err;
      }
    },
  };
}

const pgTexts = new Map<string, string>();

function pgText(sql: string): string {
  let text = pgTexts.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    pgTexts.set(sql, text);
  }
  return text;
}

function pgSession(client: PgConnection): RawSession {
  // Named statements are parsed and planned once per pooled connection.
  const query = (name: string, sql: string, params: readonly unknown[]) =>
    client.query({ name: `oms_${name}`, text: pgText(sql), values: [...params] });
  return {
    postgres: true,
    all: async <T>(name: string, sql: string, params: readonly unknown[]) =>
      (await query(name, sql, params)).rows as T[],
    run: async (name: string, sql: string, params: readonly unknown[]) =>
      (await query(name, sql, params)).rowCount ?? 0,
    transaction: async <T>(work: () => Promise<T>) => {
      await client.query('begin');
      try {
        const result = await work();
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      }
    },
  };
}

/**
 * Runs `work` on a connection of the ORM's pool, held until it settles: on SQLite nothing else
 * uses the database meanwhile.
 */
export async function withRawSession<T>(orm: Orm, work: (session: RawSession) => Promise<T>): Promise<T> {
  const client = orm.em.getConnection().getKnex().client;
  const connection = await client.acquireConnection();
  try {
    return await work(
      client.dialect === 'postgresql'
        ? pgSession(connection as PgConnection)
        : sqliteSession(connection as SqliteConnection),
    );
  } finally {
    await client.releaseConnection(connection);
  }
}
