import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import type { Orm } from '../db/orm';
import type { Logger } from '../logger';

/** How often a standby tries to become leader, and a leader checks it still is. */
export const DEFAULT_LEADER_RETRY_MS = 15_000;

/** Spells "OMS_LEAD": a fixed key every instance of this app agrees on. */
const LEADER_LOCK_KEY = 0x4f4d535f4c454144n;

export interface LeadershipHandlers {
  /** Became leader: start the work only one instance may do. */
  onElected(): void | Promise<void>;
  /** No longer leader (lost the lock or stopping): stop that work. */
  onDeposed(): void | Promise<void>;
}

export interface LeaderElection {
  start(): Promise<void>;
  isLeader(): boolean;
  /** Steps down (calling onDeposed) and releases the lock. */
  stop(): Promise<void>;
}

/**
 * One leader among the instances sharing a database. PostgreSQL: a session-level advisory lock
 * held on a connection of its own, kept out of the pool for as long as this instance leads; when
 * the process dies its session ends and the lock is free for a standby's next attempt. SQLite
 * means a single instance, which always leads.
 */
export function createLeaderElection(orm: Orm, handlers: LeadershipHandlers, logger: Logger, retryMs = DEFAULT_LEADER_RETRY_MS): LeaderElection {
  return orm.em.getDriver() instanceof PostgreSqlDriver ? new PostgresLeaderElection(orm, handlers, logger, retryMs) : new SoleInstance(handlers, logger);
}

class SoleInstance implements LeaderElection {
  private leading = false;

  constructor(
    private readonly handlers: LeadershipHandlers,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.leading = true;
    this.logger.info('elected leader (SQLite: the only instance): this instance runs the reconcile scheduler and the trade_updates consumer');
    await this.handlers.onElected();
  }

  isLeader(): boolean {
    return this.leading;
  }

  async stop(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.handlers.onDeposed();
  }
}

/** The raw driver connection, as knex hands it out; only passed back to knex. */
type RawConnection = object;

class PostgresLeaderElection implements LeaderElection {
  private connection: RawConnection | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly orm: Orm,
    private readonly handlers: LeadershipHandlers,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {}

  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.retryMs);
    this.timer.unref();
  }

  isLeader(): boolean {
    return this.leading;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.attempt;
    if (this.leading) await this.depose('stopping');
    if (this.connection) {
      await this.query('select pg_advisory_unlock(?) as unlocked', [LEADER_LOCK_KEY.toString()]).catch(() => undefined);
      this.release();
    }
  }

  /** One attempt at a time: a slow database must not stack attempts up. */
  private tick(): Promise<void> {
    this.attempt = this.attempt.then(() => (this.stopped ? undefined : this.leading ? this.checkStillLeading() : this.tryToLead()));
    return this.attempt;
  }

  private async tryToLead(): Promise<void> {
    try {
      this.connection ??= (await this.knex().client.acquireConnection()) as RawConnection;
      const locked = await this.query('select pg_try_advisory_lock(?) as locked', [LEADER_LOCK_KEY.toString()]);
      if (!locked) return;
      this.leading = true;
      this.logger.info('elected leader: this instance runs the reconcile scheduler and the trade_updates consumer');
      await this.handlers.onElected();
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not try for leadership; retrying');
      this.release();
    }
  }

  /** The lock lives as long as the session: a connection that still answers still holds it. */
  private async checkStillLeading(): Promise<void> {
    try {
      await this.query('select 1 as alive');
    } catch (err) {
      this.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'lost the leader connection; stepping down');
      this.release();
      await this.depose('connection lost');
    }
  }

  private async depose(reason: string): Promise<void> {
    this.leading = false;
    this.logger.info({ reason }, 'no longer leader');
    try {
      await this.handlers.onDeposed();
    } catch (err) {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'stopping leader-only work failed');
    }
  }

  private async query(sql: string, bindings: readonly string[] = []): Promise<boolean> {
    if (!this.connection) throw new Error('no leader connection');
    const result = (await this.knex().raw(sql, [...bindings]).connection(this.connection)) as { rows: Record<string, unknown>[] };
    const value = Object.values(result.rows[0] ?? {})[0];
    return value === true || value === 1;
  }

  private release(): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) void Promise.resolve(this.knex().client.releaseConnection(connection)).catch(() => undefined);
  }

  private knex() {
    return this.orm.em.getConnection().getKnex();
  }
}
