import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

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

/** `GET /health` → 200 when every dependency is up, 503 otherwise; anything else → 404. */
export function startHealthServer(
  probes: HealthProbes,
  port: number,
  host = '0.0.0.0',
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || path !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    collectHealth(probes).then(
      (report) => {
        res.writeHead(report.status === 'ok' ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        });
        res.end(JSON.stringify(report));
      },
      () => res.writeHead(503).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
