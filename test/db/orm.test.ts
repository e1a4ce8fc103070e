import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseLabel, initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';

describe('databaseLabel', () => {
  it('names SQLite by its file', () => {
    expect(databaseLabel({ kind: 'sqlite', url: './data/slack-oms.sqlite' })).toBe('SQLite (./data/slack-oms.sqlite)');
  });

  it('names PostgreSQL by host and database, never the password', () => {
    const label = databaseLabel({
      kind: 'postgresql',
      url: 'postgres://oms:s3cr3t-pw@db.internal:6543/books?sslmode=require',
    });
    expect(label).toBe('PostgreSQL (db.internal:6543/books)');
    expect(label).not.toContain('s3cr3t-pw');
    expect(label).not.toContain('oms:');
  });
});

describe('initORM on SQLite', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  async function pragmas(orm: Orm) {
    const connection = orm.em.getConnection();
    const [journal] = await connection.execute<{ journal_mode: string }[]>('pragma journal_mode');
    const [foreignKeys] = await connection.execute<{ foreign_keys: number }[]>('pragma foreign_keys');
    return { journalMode: journal?.journal_mode, foreignKeys: foreignKeys?.foreign_keys };
  }

  it('creates the missing parent folder, runs in WAL mode and enforces foreign keys on every connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slack-oms-orm-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'nested', 'deeper', 'oms.sqlite');
    const orm = await initORM({ kind: 'sqlite', url: file });
    cleanup.push(() => orm.close(true));
    expect((await stat(file)).isFile()).toBe(true);

    expect(await pragmas(orm)).toEqual({ journalMode: 'wal', foreignKeys: 1 });
    // Replace the pool under MikroORM, as after a dropped connection: the new connection must
    // get the pragmas from the pool itself, not from MikroORM's one-off connect() hook.
    const knexClient = orm.em.getConnection().getKnex().client as { destroy(): Promise<void>; initializePool(): void };
    await knexClient.destroy();
    knexClient.initializePool();
    expect(await pragmas(orm)).toEqual({ journalMode: 'wal', foreignKeys: 1 });
    // And inside a transaction, where units of work run.
    await orm.em.fork().transactional(async (em) => {
      const [row] = await em
        .getConnection()
        .execute<{ foreign_keys: number }[]>('pragma foreign_keys', [], 'all', em.getTransactionContext());
      expect(row?.foreign_keys).toBe(1);
    });
  });

  it('works in memory for quick unit tests', async () => {
    const orm = await initORM({ kind: 'sqlite', url: ':memory:' });
    cleanup.push(() => orm.close(true));
    expect(await migrateToLatest(orm)).not.toEqual([]);
    expect((await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).trim()).toBe('');
  });
});

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`referential integrity on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase | undefined;
    let orm: Orm | undefined;
    afterEach(async () => {
      await orm?.close(true);
      await db?.drop();
      orm = undefined;
      db = undefined;
    });

    it('refuses a fill for a trade that does not exist, and deleting a trade that has fills', async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      const trades = new TradeRepository(orm);
      const fill = {
        symbol: 'AAPL',
        side: 'buy' as const,
        qty: dec(1),
        price: dec(100),
        portfolioName: 'P',
        filledAt: new Date(),
        source: 'broker' as const,
      };
      await expect(trades.recordFill({ ...fill, executionId: 'exec-orphan', tradeId: 424242 })).rejects.toThrow(
        /foreign key/i,
      );

      const { trade } = await trades.insertPending({
        clientOrderId: 'c-fk',
        source: 'slack',
        symbol: 'AAPL',
        side: 'buy',
        quantity: dec(1),
        orderType: 'market',
        timeInForce: 'day',
        extendedHours: false,
        portfolioName: 'P',
        userId: 'U1',
      });
      expect(await trades.recordFill({ ...fill, executionId: 'exec-1', tradeId: trade.id })).toBe(true);
      await expect(orm.em.getConnection().execute(`delete from trades where id = ${trade.id}`)).rejects.toThrow(
        /foreign key/i,
      );
    });
  });
}
