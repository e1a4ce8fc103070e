import type { FastifyPluginAsync } from 'fastify';

export interface HealthReport {
  status: 'ok' | 'degraded';
  db: 'ok' | 'error';
  slack_connected: boolean;
  alpaca_connected: boolean | null;
  use_alpaca: boolean;
  version: string;
  uptime_s: number;
}

export interface HealthProbes {
  version: string;
  useAlpaca: boolean;
  startedAt: number;
  checkDatabase(): Promise<boolean>;
  slackConnected(): boolean;
  /** Already rate-limited by the caller: this may be polled any number of times. */
  alpacaConnected(): Promise<boolean>;
  /** Undefined when this instance does not lead; otherwise whether its trade_updates consumer is listening. */
  leaderStreamListening(): boolean | undefined;
}

export async function collectHealth(probes: HealthProbes, now = Date.now()): Promise<HealthReport> {
  const [db, alpaca] = await Promise.all([
    probes.checkDatabase().catch(() => false),
    probes.useAlpaca ? probes.alpacaConnected().catch(() => false) : Promise.resolve(null),
  ]);
  const slack = probes.slackConnected();
  const healthy = db && slack && (alpaca === null || alpaca);
  return {
    status: healthy ? 'ok' : 'degraded',
    db: db ? 'ok' : 'error',
    slack_connected: slack,
    alpaca_connected: alpaca,
    use_alpaca: probes.useAlpaca,
    version: probes.version,
    uptime_s: Math.floor((now - probes.startedAt) / 1000),
  };
}

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * `GET /health`: the earlier JSON, 503 when anything is down (Alpaca included) — for people and
 * dashboards. `GET /livez`: the process and its event loop answer — for restarting a stuck
 * process, never failing because Slack or Alpaca is away. `GET /readyz`: the database answers,
 * the Slack socket is open and, on the leader, the trade_updates consumer is listening — for
 * routing traffic.
 */
export function healthRoutes(probes: HealthProbes): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
      const report = await collectHealth(probes);
      return reply
        .code(report.status === 'ok' ? 200 : 503)
        .headers(NO_STORE)
        .send(report);
    });
    app.get('/livez', { schema: { hide: true } }, async (_request, reply) =>
      reply.headers(NO_STORE).send({ status: 'ok', uptime_s: Math.floor((Date.now() - probes.startedAt) / 1000) }),
    );
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      const db = await probes.checkDatabase().catch(() => false);
      const slack = probes.slackConnected();
      const stream = probes.leaderStreamListening();
      const ready = db && slack && stream !== false;
      return reply
        .code(ready ? 200 : 503)
        .headers(NO_STORE)
        .send({
          status: ready ? 'ready' : 'not_ready',
          db,
          slack_connected: slack,
          leader_stream_listening: stream ?? null,
        });
    });
  };
}
