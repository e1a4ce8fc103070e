import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MikroORM, type Options } from '@mikro-orm/core';
import type { AbstractSqlDriver, EntityManager } from '@mikro-orm/knex';
import type { Migrator } from '@mikro-orm/migrations';
import { MIGRATION_NAMES } from '../../migrations/names';
import { type DatabaseTarget, parsePostgresUrl } from '../config';
import type { Logger } from '../logger';
import { ENTITIES } from './entities';

/** The ORM as every repository sees it: a SQL driver (SQLite or PostgreSQL) with the knex query builder. */
export type Orm = MikroORM<AbstractSqlDriver>;

export interface InitOrmOptions {
  logger?: Logger;
  /** Log every SQL query at debug level. */
  debug?: boolean;
  /** PostgreSQL connection pool size; SQLite always uses one connection. */
  pool?: { min?: number; max?: number };
}

/** better-sqlite3's connection object, as much of it as the pool hook needs (it runs synchronously). */
interface SqliteRawConnection {
  exec(sql: string): unknown;
}

/**
 * Set on every SQLite connection the pool opens, not once at start-up: foreign_keys is
 * per-connection in SQLite, and a replaced connection would silently lose it. WAL lets readers
 * run while a writer commits; busy_timeout waits for a lock (e.g. `npm run migrate` alongside the
 * app) instead of failing at once.
 */
const SQLITE_CONNECTION_PRAGMAS = 'PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;';

async function sqliteOptions(path: string): Promise<Options<AbstractSqlDriver>> {
  const { BetterSqliteDriver } = await import('@mikro-orm/better-sqlite');
  return {
    driver: BetterSqliteDriver as unknown as Options<AbstractSqlDriver>['driver'],
    dbName: path,
    pool: {
      min: 1,
      max: 1,
      afterCreate: (
        connection: SqliteRawConnection,
        done: (error: Error | null, connection: SqliteRawConnection) => void,
      ) => {
        try {
          connection.exec(SQLITE_CONNECTION_PRAGMAS);
          done(null, connection);
        } catch (error) {
          done(error as Error, connection);
        }
      },
    },
  };
}

/** node-postgres ignores libpq's `sslmode`; map it so hosted databases that require TLS work from the URL alone. */
function postgresSsl(url: URL): false | { rejectUnauthorized: boolean } {
  const mode = url.searchParams.get('sslmode') ?? (url.searchParams.get('ssl') === 'true' ? 'require' : 'disable');
  if (mode === 'verify-ca' || mode === 'verify-full') return { rejectUnauthorized: true };
  if (mode === 'require' || mode === 'no-verify') return { rejectUnauthorized: false };
  return false;
}

export interface PostgresConnection {
  /** The URL without its query string, whose libpq options node-postgres would misread. */
  connectionString: string;
  ssl: false | { rejectUnauthorized: boolean };
}

/** How node-postgres reaches a PostgreSQL URL: shared by the ORM's pool and the leader lock's own session. */
export function postgresConnection(url: string): PostgresConnection {
  const parsed = new URL(url);
  const ssl = postgresSsl(parsed);
  parsed.search = '';
  return { connectionString: parsed.toString(), ssl };
}

async function postgresOptions(url: string, pool: InitOrmOptions['pool']): Promise<Options<AbstractSqlDriver>> {
  const { connectionString, ssl } = postgresConnection(url);
  const { PostgreSqlDriver } = await import('@mikro-orm/postgresql');
  return {
    driver: PostgreSqlDriver as unknown as Options<AbstractSqlDriver>['driver'],
    clientUrl: connectionString,
    pool: { min: pool?.min ?? 0, max: Math.max(2, pool?.max ?? 10) },
    ...(ssl ? { driverOptions: { connection: { ssl } } } : {}),
  };
}

/**
 * Connects to the configured database. The schema is never synchronised from the entities:
 * call migrateToLatest() to bring it up to date.
 */
export async function initORM(target: DatabaseTarget, opts: InitOrmOptions = {}): Promise<Orm> {
  if (target.kind === 'sqlite' && target.url !== ':memory:') {
    await mkdir(dirname(target.url), { recursive: true });
  }
  const logger = opts.logger;
  // Only the configured driver is loaded, and the migrator only when a migration is pending:
  // each is a tenth of a second of start-up (see migrateToLatest).
  const options =
    target.kind === 'sqlite' ? await sqliteOptions(target.url) : await postgresOptions(target.url, opts.pool);
  const driverLog = logger?.child({ component: 'database' });
  return MikroORM.init<AbstractSqlDriver>({
    ...options,
    // knex prints its warnings ("Connection Error: …" when a connection drops) with console.log;
    // they belong in the JSON log like everything else.
    driverOptions: {
      ...(options.driverOptions as object | undefined),
      log: {
        warn: (message: unknown) => driverLog?.warn(String(message)),
        error: (message: unknown) => driverLog?.error(String(message)),
        deprecate: (message: unknown) => driverLog?.debug(String(message)),
        debug: (message: unknown) => driverLog?.debug(String(message)),
      },
    },
    entities: ENTITIES,
    // Entities are plain EntitySchema definitions: no folder scanning, no ts-morph, no cache files.
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    metadataCache: { enabled: false },
    migrations: {
      tableName: MIGRATIONS_TABLE,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      // MikroORM would disable them with session_replication_role on PostgreSQL, which needs a superuser.
      disableForeignKeys: false,
    },
    allowGlobalContext: false,
    debug: opts.debug ?? false,
    logger: (message: string) => logger?.debug({ component: 'orm' }, message),
  });
}

/** Any fixed number: PostgreSQL advisory locks are keyed by integers. Spells "OMS migrate". */
const MIGRATION_LOCK_KEY = 0x4f4d535f4d4947n;

/** Where MikroORM records the migrations applied (its default name, kept by every database made so far). */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

/** Whether the ORM talks to PostgreSQL, asked of the connection so the PostgreSQL driver is loaded only when used. */
export function isPostgres(em: EntityManager): boolean {
  return em.getConnection().getKnex().client.dialect === 'postgresql';
}

/** Whether every migration is recorded as applied: one query, so a restart needs no migrator. */
async function upToDate(orm: Orm): Promise<boolean> {
  const em = orm.em.fork();
  const tableExists = isPostgres(em)
    ? await em.execute('select 1 from pg_catalog.pg_tables where schemaname = current_schema() and tablename = ?', [
        MIGRATIONS_TABLE,
      ])
    : await em.execute("select 1 from sqlite_master where type = 'table' and name = ?", [MIGRATIONS_TABLE]);
  if (tableExists.length === 0) return false;
  const rows: { name: string }[] = await em.execute(`select name from ${MIGRATIONS_TABLE}`);
  const applied = new Set(rows.map((row) => row.name));
  return MIGRATION_NAMES.every((name) => applied.has(name));
}

/** MikroORM's migrator over every migration, loaded on first use rather than at start-up. */
export async function loadMigrator(orm: Orm): Promise<Migrator> {
  const [{ Migrator }, { MIGRATIONS }] = await Promise.all([
    import('@mikro-orm/migrations'),
    import('../../migrations'),
  ]);
  orm.config.set('migrations', { ...orm.config.get('migrations'), migrationsList: MIGRATIONS });
  return new Migrator(orm.em);
}

/**
 * Applies every pending migration in order; returns the names applied (empty when up to date).
 * On PostgreSQL several workers may start at once: a transaction-scoped advisory lock makes them
 * take turns, and each one after the first finds nothing left to do. (MikroORM creates its
 * migrations table on a second pooled connection, so the pool needs at least two.)
 */
export async function migrateToLatest(orm: Orm): Promise<string[]> {
  if (await upToDate(orm)) return [];
  const migrator = await loadMigrator(orm);
  const connection = orm.em.getConnection();
  const applied = isPostgres(orm.em)
    ? await connection.transactional(async (trx) => {
        await connection.execute('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY.toString()], 'run', trx);
        return migrator.up({ transaction: trx });
      })
    : await migrator.up();
  return applied.map((migration) => migration.name);
}

/** What the start-up log line shows: the kind and where, never a password. */
export function databaseLabel(target: DatabaseTarget): string {
  if (target.kind === 'sqlite') return `SQLite (${target.url})`;
  const parts = parsePostgresUrl(target.url);
  return parts ? `PostgreSQL (${parts.host}${parts.database})` : 'PostgreSQL';
}
