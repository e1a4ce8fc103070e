import { Client, type DatabaseError } from 'pg';
import type { DatabaseTarget } from '../config';
import { type PostgresConnection, postgresConnection } from '../db/orm';
import { describeError } from '../domain/errors';
import type { Logger } from '../logger';

/** How often a standby tries to become leader; a leader proves it still leads three times as often. */
export const DEFAULT_LEADER_RETRY_MS = 15_000;

/** Spells "OMS_LEAD": a fixed key every instance of this app agrees on. */
const LEADER_LOCK_KEY = 0x4f4d535f4c454144n;

/**
 * Is the lock held by this very session? pg_locks shows a bigint advisory key as two 32-bit halves,
 * with objsubid 1.
 */
const HOLDS_LEADER_LOCK = `select exists(
  select 1 from pg_locks
   where locktype = 'advisory' and pid = pg_backend_pid() and granted
     and classid = $1 and objid = $2 and objsubid = 1
) as held`;

/** PostgreSQL's "unrecognized configuration parameter": idle_session_timeout before version 14. */
const UNDEFINED_OBJECT = '42704';

export interface LeadershipHandlers {
  /** Became leader: start the work only one instance may do. */
  onElected(): void | Promise<void>;
  /** No longer leader (lost the lock or stopping): stop that work, promptly (see leaderTimings). */
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
 * held on a connection of its own, outside the ORM's pool; when the process dies its session ends
 * and the lock is free for a standby's next attempt. SQLite means a single instance, which always
 * leads.
 */
export function createLeaderElection(
  database: DatabaseTarget,
  handlers: LeadershipHandlers,
  logger: Logger,
  retryMs = DEFAULT_LEADER_RETRY_MS,
): LeaderElection {
  return database.kind === 'postgresql'
    ? new PostgresLeaderElection(postgresConnection(database.url), handlers, logger, retryMs)
    : new SoleInstance(handlers, logger);
}

class SoleInstance implements LeaderElection {
  private leading = false;

  constructor(
    private readonly handlers: LeadershipHandlers,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.leading = true;
    this.logger.info(
      'elected leader (SQLite: the only instance): ' +
        'this instance runs the reconcile scheduler and the trade_updates consumer',
    );
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

/**
 * The invariant: a leader that can no longer prove it holds the lock deposes itself before the
 * server can free the lock for a standby. It proves it every heartbeat and gives each statement
 * queryTimeoutMs, so it deposes at most heartbeat + queryTimeout (8/15 of retryMs) after its last
 * proof. A session that went silent (partition, frozen peer) is ended by the server only after
 * idleSessionTimeout (retryMs) of silence, or once its TCP keepalives have failed (idle +
 * interval × count ≥ retryMs): 7/15 of retryMs later at the earliest, the time left for the
 * duties to stop. Without these bounds the server's defaults (keepalives after 2 h, ~15 min of
 * retransmissions) decide, and a standby can lead while a partitioned leader still believes it does.
 * Beyond these bounds: a lock freed where the leader can't hear it (its session killed during a
 * partition, a failover to a replica, which has no locks) or a leader process frozen that long.
 */
function leaderTimings(retryMs: number) {
  const seconds = retryMs / 1000;
  return {
    heartbeatMs: Math.round(retryMs / 3),
    queryTimeoutMs: Math.round(retryMs / 5),
    connectTimeoutMs: Math.round(retryMs / 2),
    idleSessionTimeoutMs: retryMs,
    keepalives: { idle: Math.ceil(seconds / 2), interval: Math.ceil(seconds / 10), count: 5 },
  };
}

class PostgresLeaderElection implements LeaderElection {
  /** The session that holds, or is trying for, the lock; a session that failed is ended, never reused. */
  private session: Client | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private work: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly timings: ReturnType<typeof leaderTimings>;

  constructor(
    private readonly connection: PostgresConnection,
    private readonly handlers: LeadershipHandlers,
    private readonly logger: Logger,
    private readonly retryMs: number,
  ) {
    this.timings = leaderTimings(retryMs);
  }

  start(): Promise<void> {
    return this.serially(() => this.tick());
  }

  isLeader(): boolean {
    return this.leading;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.serially(async () => {
      const session = this.session;
      this.session = undefined;
      if (this.leading) await this.depose('stopping');
      if (!session) return;
      // Ending the session would free the lock too; unlocking first means it is free when stop() returns.
      await session.query('select pg_advisory_unlock($1)', [LEADER_LOCK_KEY.toString()]).catch(() => undefined);
      endSession(session);
    });
  }

  /**
   * Attempts, heartbeats, a lost session and stop() take turns, so a slow database never stacks
   * them up; the next tick is timed from the end of the last one.
   */
  private serially(task: () => Promise<void>): Promise<void> {
    clearTimeout(this.timer);
    this.work = this.work
      .then(task)
      // A step that threw must not break the chain: every later attempt and heartbeat waits on it.
      .catch((err: unknown) => this.logger.error({ err: describeError(err) }, 'leader election step failed'))
      .then(() => {
        if (this.stopped) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(
          () => void this.serially(() => this.tick()),
          this.leading ? this.timings.heartbeatMs : this.retryMs,
        );
        this.timer.unref();
      });
    return this.work;
  }

  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.leading ? this.checkStillLeading() : this.tryToLead();
  }

  private async tryToLead(): Promise<void> {
    const session = this.openSession();
    try {
      await session.connect();
      await this.configure(session);
      const { rows } = await session.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        LEADER_LOCK_KEY.toString(),
      ]);
      if (rows[0]?.locked !== true) {
        this.discard(session);
        return;
      }
      this.leading = true;
      this.logger.info('elected leader: this instance runs the reconcile scheduler and the trade_updates consumer');
      await this.handlers.onElected();
    } catch (err) {
      if (this.leading) {
        await this.stepDown(session, 'starting leader-only work failed', err);
        return;
      }
      this.logger.warn({ err: describeError(err) }, 'could not try for leadership; retrying');
      this.discard(session);
    }
  }

  /**
   * Proof, not liveness: a session that answers may still have lost the lock (or be a different
   * backend behind a pooler).
   */
  private async checkStillLeading(): Promise<void> {
    const session = this.session;
    if (!session) return;
    try {
      const { rows } = await session.query<{ held: boolean }>(HOLDS_LEADER_LOCK, [
        Number(LEADER_LOCK_KEY >> 32n),
        Number(LEADER_LOCK_KEY & 0xffffffffn),
      ]);
      if (rows[0]?.held !== true) await this.stepDown(session, 'the lock session no longer holds the lock');
    } catch (err) {
      await this.stepDown(session, 'the lock session did not answer in time or failed', err);
    }
  }

  private openSession(): Client {
    const { heartbeatMs, queryTimeoutMs, connectTimeoutMs } = this.timings;
    const session = new Client({
      connectionString: this.connection.connectionString,
      ssl: this.connection.ssl,
      application_name: 'slack-oms leader lock',
      keepAlive: true,
      keepAliveInitialDelayMillis: heartbeatMs,
      connectionTimeoutMillis: connectTimeoutMs,
      // Client-side: the server cannot time out a statement it never received, nor an answer lost on the way.
      query_timeout: queryTimeoutMs,
    });
    // Either event means the session, and with it the lock, may be gone: step down now, not at the next heartbeat.
    session.on('error', (err) => void this.serially(() => this.stepDown(session, 'the lock session failed', err)));
    session.on('end', () => void this.serially(() => this.stepDown(session, 'the lock session ended')));
    this.session = session;
    return session;
  }

  /** Set with SET rather than startup parameters, which connection poolers such as PgBouncer refuse. */
  private async configure(session: Client): Promise<void> {
    const { queryTimeoutMs, idleSessionTimeoutMs, keepalives } = this.timings;
    await session.query(
      `set statement_timeout = ${queryTimeoutMs}; set tcp_keepalives_idle = ${keepalives.idle}; ` +
        `set tcp_keepalives_interval = ${keepalives.interval}; set tcp_keepalives_count = ${keepalives.count}`,
    );
    await session.query(`set idle_session_timeout = ${idleSessionTimeoutMs}`).catch((err: unknown) => {
      // PostgreSQL 13 and older: the keepalives alone bound a silent session.
      if ((err as Partial<DatabaseError>).code !== UNDEFINED_OBJECT) throw err;
    });
  }

  /** Duties first, then the session: while they stop, the lock (if still held) keeps a standby out. */
  private async stepDown(session: Client, reason: string, err?: unknown): Promise<void> {
    if (this.session !== session) return;
    this.session = undefined;
    if (this.leading) {
      this.logger.error(
        { err: err === undefined ? undefined : describeError(err), reason },
        'cannot prove this instance still leads; stepping down',
      );
      await this.depose(reason);
    }
    endSession(session);
  }

  private discard(session: Client): void {
    if (this.session === session) this.session = undefined;
    endSession(session);
  }

  private async depose(reason: string): Promise<void> {
    this.leading = false;
    this.logger.info({ reason }, 'no longer leader');
    try {
      await this.handlers.onDeposed();
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'stopping leader-only work failed');
    }
  }
}

/** Never back in any pool. end() alone waits for the server to close its side, which a stalled network never does. */
function endSession(session: Client): void {
  session.end().catch(() => undefined);
  session.connection.stream.destroy();
}
