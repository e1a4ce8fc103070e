import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../../src/config';
import { createLeaderElection, type LeaderElection } from '../../src/jobs/leader-lock';
import { createLogger } from '../../src/logger';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { TcpProxy } from '../support/tcp-proxy';

const postgres = testDatabaseTargets().find((k) => k.name === 'postgresql')!;

/** Short enough for a quick file; the leader heartbeats every RETRY_MS / 3 and gives a check RETRY_MS / 5. */
const RETRY_MS = 1_500;
/** Heartbeat interval + query timeout: the longest a leader may go without proof that it leads. */
const DEPOSE_BOUND_MS = RETRY_MS / 3 + RETRY_MS / 5;
/** Timers on a busy two-core machine fire late. */
const SCHEDULING_SLACK_MS = 500;

/** The app's lock key, 0x4f4d535f4c454144, as pg_locks shows a bigint advisory key. */
const LOCK_CLASSID = 0x4f4d535f;
const LOCK_OBJID = 0x4c454144;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  name: string;
  election: LeaderElection;
  /** Its log lines, as written. */
  logs: string[];
  elected: number[];
  deposed: number[];
}

describe.skipIf(!postgres.available)(`leader election on ${databaseSuiteName(postgres)}`, () => {
  let db: TestDatabase;
  let admin: Client;
  let proxy: TcpProxy;
  let instances: Instance[];
  /** Who runs leader-only work right now, as the duties themselves see it. */
  let running: Set<string>;
  let overlaps: string[];

  beforeEach(async () => {
    db = await postgres.create();
    admin = new Client({ connectionString: db.target.url });
    await admin.connect();
    proxy = await TcpProxy.start(db.target.url);
    instances = [];
    running = new Set();
    overlaps = [];
  });
  afterEach(async () => {
    proxy?.resume();
    await Promise.all(instances.map((i) => i.election.stop()));
    await proxy?.close();
    await admin?.end();
    await db?.drop();
  });

  /** An instance whose duties record when they run, and note any moment another instance's duties ran too. */
  function instance(
    name: string,
    target: DatabaseTarget,
    onDeposed: () => Promise<void> = async () => undefined,
  ): Instance {
    const logs: string[] = [];
    const self: Instance = { name, logs, elected: [], deposed: [], election: undefined as unknown as LeaderElection };
    self.election = createLeaderElection(
      target,
      {
        onElected: () => {
          if (running.size > 0)
            overlaps.push(`${name} elected while ${[...running].join(', ')} still ran leader duties`);
          running.add(name);
          self.elected.push(performance.now());
        },
        onDeposed: async () => {
          await onDeposed();
          running.delete(name);
          self.deposed.push(performance.now());
        },
      },
      createLogger({ level: 'debug', secrets: [], destination: { write: (line: string) => logs.push(line) } }),
      RETRY_MS,
    );
    instances.push(self);
    return self;
  }

  const proxied = (): DatabaseTarget => ({ kind: 'postgresql', url: proxy.route(db.target.url) });

  /** The sessions holding the leader lock in this test's database. */
  async function lockHolders(): Promise<{ pid: number; port: number | null }[]> {
    const { rows } = await admin.query<{ pid: number; port: number | null }>(
      `select l.pid, a.client_port as port from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.classid = $1 and l.objid = $2 and l.objsubid = 1 and l.granted
          and l.database = (select oid from pg_database where datname = current_database())`,
      [LOCK_CLASSID, LOCK_OBJID],
    );
    return rows;
  }

  async function sessionExists(pid: number): Promise<boolean> {
    const { rows } = await admin.query<{ alive: boolean }>(
      'select exists(select 1 from pg_stat_activity where pid = $1) as alive',
      [pid],
    );
    return rows[0]!.alive;
  }

  /** Leadership intervals [elected, deposed] of every instance, in time order, never overlapping. */
  function expectNoOverlap(): void {
    expect(overlaps).toEqual([]);
    const intervals = instances
      .flatMap((i) =>
        i.elected.map((start, n) => ({ who: i.name, start, end: i.deposed[n] ?? Number.POSITIVE_INFINITY })),
      )
      .sort((a, b) => a.start - b.start);
    for (let n = 1; n < intervals.length; n++)
      expect(
        intervals[n]!.start,
        `${intervals[n]!.who} elected before ${intervals[n - 1]!.who} was deposed`,
      ).toBeGreaterThanOrEqual(intervals[n - 1]!.end);
  }

  it(
    'the leader whose lock session is terminated stops its duties at once; ' + 'the standby takes over only after that',
    async () => {
      const leader = instance('leader', db.target);
      await leader.election.start();
      expect(leader.election.isLeader()).toBe(true);
      // Out of phase with the leader, so the standby's next attempt falls between the kill and the leader's next check.
      await sleep(RETRY_MS / 2);
      const standby = instance('standby', db.target);
      await standby.election.start();
      expect(standby.election.isLeader()).toBe(false);
      await sleep(RETRY_MS * 0.7);

      const [holder] = await lockHolders();
      const fault = performance.now();
      const { rows } = await admin.query<{ terminated: boolean }>('select pg_terminate_backend($1) as terminated', [
        holder!.pid,
      ]);
      expect(rows[0]!.terminated).toBe(true);

      await expect.poll(() => standby.elected.length, { timeout: 3 * RETRY_MS, interval: 20 }).toBe(1);
      expect(leader.deposed).toHaveLength(1);
      expect(leader.deposed[0]! - fault).toBeLessThan(SCHEDULING_SLACK_MS);
      expect(leader.logs.join('')).toContain('stepping down');
      expect(leader.logs.join('')).toContain('no longer leader');
      expect(standby.logs.join('')).toContain('elected leader');
      expectNoOverlap();
    },
  );

  it(
    'a leader cut off from the database (a stalled connection) steps down within its bound, ' +
      'before the server frees the lock for the standby',
    async () => {
      let heldWhileStopping: boolean | undefined;
      let leaderPid = 0;
      const leader = instance('leader', proxied(), async () => {
        heldWhileStopping ??= (await lockHolders()).some((h) => h.pid === leaderPid);
      });
      await leader.election.start();
      expect(leader.election.isLeader()).toBe(true);
      leaderPid = (await lockHolders())[0]!.pid;
      const standby = instance('standby', db.target);
      await standby.election.start();
      expect(standby.election.isLeader()).toBe(false);
      await sleep(RETRY_MS);

      proxy.stall('both');
      const fault = performance.now();

      await expect
        .poll(() => leader.deposed.length, { timeout: DEPOSE_BOUND_MS + SCHEDULING_SLACK_MS, interval: 20 })
        .toBe(1);
      expect(leader.deposed[0]! - fault).toBeLessThan(DEPOSE_BOUND_MS + SCHEDULING_SLACK_MS);
      expect(leader.election.isLeader()).toBe(false);
      // The leader cannot reach the server to end its session: the server ends it, once it has idled
      // for RETRY_MS, and only then is the lock free.
      expect(heldWhileStopping).toBe(true);
      await expect.poll(() => sessionExists(leaderPid), { timeout: 2 * RETRY_MS, interval: 20 }).toBe(false);
      await expect.poll(() => standby.elected.length, { timeout: 2 * RETRY_MS, interval: 20 }).toBe(1);
      expectNoOverlap();
    },
  );

  it(
    'a lock session that failed is ended, never kept or pooled: ' +
      'duties stop while it still holds the lock, then it goes, and the instance can lead again',
    async () => {
      let heldWhileStopping: boolean | undefined;
      let leaderPid = 0;
      const leader = instance('leader', proxied(), async () => {
        heldWhileStopping ??= (await lockHolders()).some((h) => h.pid === leaderPid);
      });
      await leader.election.start();
      expect(leader.election.isLeader()).toBe(true);
      leaderPid = (await lockHolders())[0]!.pid;
      const standby = instance('standby', db.target);
      await standby.election.start();

      // The server still gets every statement, and the leader's end of the session; only its answers are held.
      proxy.stall('responses');
      await expect
        .poll(() => leader.deposed.length, { timeout: DEPOSE_BOUND_MS + SCHEDULING_SLACK_MS, interval: 20 })
        .toBe(1);
      expect(heldWhileStopping).toBe(true);
      // Gone well before the server's idle timeout (RETRY_MS after the last statement) could have
      // ended it: the leader closed it.
      await expect.poll(() => sessionExists(leaderPid), { timeout: RETRY_MS / 3, interval: 20 }).toBe(false);

      proxy.resume();
      await expect.poll(() => standby.elected.length, { timeout: 3 * RETRY_MS, interval: 20 }).toBe(1);

      await standby.election.stop();
      await expect.poll(() => leader.elected.length, { timeout: 3 * RETRY_MS, interval: 20 }).toBe(2);
      const [holder] = await lockHolders();
      expect(holder!.pid).not.toBe(leaderPid);
      expect(proxy.serverSidePorts()).toContain(holder!.port);
      expectNoOverlap();
    },
  );
});
