import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';

async function getHealth(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the app against Slack and Alpaca stand-ins on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let launched: LaunchedApp;

    beforeAll(async () => {
      db = await kind.create();
      launched = await launchApp({ database: db.target });
    });
    afterAll(async () => {
      await launched?.stop();
      await db?.drop();
    });

    it('connects over socket mode and logs one line naming the team, the Alpaca account and the database', () => {
      expect(launched.slack.connectionCount()).toBe(1);
      const ready = launched.logs.entries().filter((e) => String(e.msg).includes(' ready — '));
      expect(ready).toHaveLength(1);
      const line = String(ready[0]!.msg);
      expect(line).toMatch(/Slack team .+ \(T[A-Z0-9]+\)/);
      expect(line).toMatch(/Alpaca paper account \S+/);
      expect(line).toContain(kind.name === 'sqlite' ? 'SQLite' : 'PostgreSQL');
    });

    it('answers /health with 200 and every field when all is connected', async () => {
      const { status, body } = await getHealth(launched.healthUrl);
      expect(status).toBe(200);
      expect(body).toMatchObject({
        status: 'ok',
        db: 'ok',
        slack_connected: true,
        alpaca_connected: true,
        use_alpaca: true,
      });
      expect(typeof body.version).toBe('string');
      expect(typeof body.uptime_s).toBe('number');
    });

    it('asks Alpaca at most once per 30 s however often /health is polled', async () => {
      const before = launched.alpaca.requestCount({ path: /^\/v2\/clock/ });
      await Promise.all(Array.from({ length: 25 }, () => getHealth(launched.healthUrl)));
      for (let i = 0; i < 10; i++) await getHealth(launched.healthUrl);
      expect(launched.alpaca.requestCount({ path: /^\/v2\/clock/ }) - before).toBeLessThanOrEqual(1);
    });

    it('acks an event envelope well inside Slack\u2019s 3 s', async () => {
      const result = await launched.slack.appHomeOpened('U0TESTUSER');
      expect(result.ackMs).toBeLessThan(3000);
    });

    it('is ready once the leader listens to trade_updates; live always', async () => {
      await expect
        .poll(async () => (await getHealth(`${launched.baseUrl}/readyz`)).body, { timeout: 5000 })
        .toEqual({ status: 'ready', db: true, slack_connected: true, leader_stream_listening: true });
      const live = await getHealth(`${launched.baseUrl}/livez`);
      expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
      const missing = await getHealth(`${launched.baseUrl}/nowhere`);
      expect(missing).toEqual({
        status: 404,
        body: { success: false, error: 'not_found', detail: 'There is no GET /nowhere.' },
      });
    });

    it('reports 503 (and not ready, but live) while the Slack socket is down, 200 once it reconnects', async () => {
      launched.slack.dropAll();
      await expect.poll(async () => (await getHealth(launched.healthUrl)).status, { timeout: 5000 }).toBe(503);
      const down = await getHealth(launched.healthUrl);
      expect(down.body.slack_connected).toBe(false);
      expect((await getHealth(`${launched.baseUrl}/readyz`)).status).toBe(503);
      expect((await getHealth(`${launched.baseUrl}/livez`)).status).toBe(200);
      await launched.slack.waitForConnection(15_000);
      await expect.poll(async () => (await getHealth(launched.healthUrl)).status, { timeout: 5000 }).toBe(200);
    });

    it('is not ready while the trade_updates stream is down (Alpaca polled instead), ready again after', async () => {
      launched.alpaca.dropStreamConnections();
      await expect
        .poll(async () => (await getHealth(`${launched.baseUrl}/readyz`)).status, { timeout: 5000 })
        .toBe(503);
      expect((await getHealth(`${launched.baseUrl}/readyz`)).body.leader_stream_listening).toBe(false);
      await expect
        .poll(async () => (await getHealth(`${launched.baseUrl}/readyz`)).status, { timeout: 15_000 })
        .toBe(200);
    });
  });
}

describe('ledger-only mode (USE_ALPACA=false)', () => {
  let db: TestDatabase;
  let launched: LaunchedApp;

  beforeAll(async () => {
    db = await testDatabaseTargets()[0]!.create();
    launched = await launchApp({ database: db.target, useAlpaca: false });
  });
  afterAll(async () => {
    await launched?.stop();
    await db?.drop();
  });

  it('starts without touching Alpaca and says so', async () => {
    expect(launched.alpaca.requests).toHaveLength(0);
    expect(launched.logs.text()).toContain('ledger-only');
    const { status, body } = await getHealth(launched.healthUrl);
    expect(status).toBe(200);
    expect(body).toMatchObject({ use_alpaca: false, alpaca_connected: null });
    // No broker, no stream to wait for.
    expect((await getHealth(`${launched.baseUrl}/readyz`)).body).toMatchObject({
      status: 'ready',
      leader_stream_listening: null,
    });
  });
});
