import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knex } from '@mikro-orm/knex';
import type { DatabaseTarget } from '../../src/config';

export interface TestDatabase {
  target: DatabaseTarget;
  /** Removes the database (and, for SQLite, its WAL files). Close every ORM on it first. */
  drop(): Promise<void>;
}

export interface TestDatabaseKind {
  name: 'sqlite' | 'postgresql';
  /** False when the kind cannot run here (PostgreSQL without TEST_DATABASE_URL). */
  available: boolean;
  /** A fresh, empty database that no other test touches. */
  create(): Promise<TestDatabase>;
}

/** The PostgreSQL server tests may use, e.g. postgresql://postgres@127.0.0.1:5432/test. */
function testServerUrl(): string | undefined {
  const url = process.env.TEST_DATABASE_URL?.trim();
  return url ? url : undefined;
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'slack-oms-db-'));
  return {
    target: { kind: 'sqlite', url: join(dir, 'test.sqlite') },
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * Runs one statement on the server's maintenance connection (CREATE/DROP DATABASE cannot run inside
 * a database's own session).
 */
async function onServer(serverUrl: string, sql: string): Promise<void> {
  const admin = knex({ client: 'pg', connection: serverUrl, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(sql);
  } finally {
    await admin.destroy();
  }
}

async function createPostgresDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `oms_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `create database "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    target: { kind: 'postgresql', url: url.toString() },
    // FORCE ends sessions a failed test may have left open, so the drop never hangs.
    drop: () => onServer(serverUrl, `drop database if exists "${name}" with (force)`),
  };
}

/**
 * TEST_DATABASE_KINDS=postgresql leaves the SQLite variants out (CI's PostgreSQL pass: its SQLite
 * pass already ran them); unset, every kind available runs.
 */
function sqliteWanted(): boolean {
  const kinds = process.env.TEST_DATABASE_KINDS?.trim();
  return !kinds || kinds.split(',').includes('sqlite');
}

/** Every database kind the persistence tests run on; PostgreSQL only when TEST_DATABASE_URL is set. */
export function testDatabaseTargets(): TestDatabaseKind[] {
  const serverUrl = testServerUrl();
  return [
    { name: 'sqlite', available: sqliteWanted(), create: createSqliteDatabase },
    {
      name: 'postgresql',
      available: serverUrl !== undefined,
      create: () => {
        if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
        return createPostgresDatabase(serverUrl);
      },
    },
  ];
}

/** A describe() title that says plainly why a kind is skipped. */
export function databaseSuiteName(kind: TestDatabaseKind): string {
  if (kind.available) return kind.name;
  return kind.name === 'sqlite'
    ? 'sqlite (SKIPPED: TEST_DATABASE_KINDS leaves it out; the SQLite pass runs it)'
    : `${kind.name} (SKIPPED: set TEST_DATABASE_URL to run against PostgreSQL)`;
}
