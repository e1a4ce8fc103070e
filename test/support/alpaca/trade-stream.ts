import type http from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import type { TradeUpdate } from './brokerage';

/**
 * Alpaca's `trade_updates` WebSocket at /stream: JSON frames, `authenticate` then `listen`.
 * Alpaca's paper endpoint sends its frames as binary WebSocket messages; the SDK's JSON codec
 * decodes Buffers, so every server frame here goes out binary too.
 */

interface Connection {
  socket: WebSocket;
  authenticated: boolean;
  streams: Set<string>;
}

const KNOWN_STREAMS = new Set(['trade_updates']);

export class TradeUpdateStream {
  private readonly server: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private listeningWaiters: (() => void)[] = [];

  constructor(private readonly credentials: { keyId: string; secretKey: string }) {
    this.server = new WebSocketServer({ noServer: true });
    this.server.on('connection', (socket) => this.accept(socket));
  }

  /** Serves the WebSocket at /stream on the trading server; other upgrade paths are refused. */
  attach(httpServer: http.Server): void {
    httpServer.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', 'http://stand-in').pathname !== '/stream') {
        socket.destroy();
        return;
      }
      this.server.handleUpgrade(req, socket, head, (ws) => this.server.emit('connection', ws, req));
    });
  }

  publish(update: TradeUpdate): void {
    for (const connection of this.connections) {
      if (connection.authenticated && connection.streams.has('trade_updates')) {
        send(connection.socket, { stream: 'trade_updates', data: update });
      }
    }
  }

  /** Cuts every stream connection without a close handshake, like a network drop. */
  dropConnections(): void {
    for (const connection of this.connections) connection.socket.terminate();
    this.connections.clear();
  }

  connectionCount(): number {
    return this.connections.size;
  }

  async waitForListening(timeoutMs = 5000): Promise<void> {
    if (this.isAnyoneListening()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeningWaiters = this.listeningWaiters.filter((w) => w !== done);
        reject(new Error(`no trade_updates listener within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.listeningWaiters.push(done);
    });
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private isAnyoneListening(): boolean {
    return [...this.connections].some((c) => c.authenticated && c.streams.has('trade_updates'));
  }

  private accept(socket: WebSocket): void {
    const connection: Connection = { socket, authenticated: false, streams: new Set() };
    this.connections.add(connection);
    socket.on('close', () => this.connections.delete(connection));
    socket.on('error', () => this.connections.delete(connection));
    socket.on('message', (raw) => this.receive(connection, raw.toString()));
  }

  private receive(connection: Connection, text: string): void {
    let frame: { action?: unknown; data?: Record<string, unknown> };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      send(connection.socket, { action: 'error', data: { error_message: 'invalid syntax' } });
      return;
    }
    if (frame.action === 'authenticate') {
      const data = frame.data ?? {};
      connection.authenticated =
        data.key_id === this.credentials.keyId && data.secret_key === this.credentials.secretKey;
      send(
        connection.socket,
        connection.authenticated
          ? { stream: 'authorization', data: { action: 'authenticate', status: 'authorized' } }
          : {
              stream: 'authorization',
              data: { action: 'authenticate', message: 'access key verification failed', status: 'unauthorized' },
            },
      );
      return;
    }
    if (frame.action === 'listen') {
      if (!connection.authenticated) {
        send(connection.socket, { stream: 'authorization', data: { action: 'listen', status: 'unauthorized' } });
        return;
      }
      const requested = Array.isArray(frame.data?.streams) ? (frame.data.streams as unknown[]) : [];
      connection.streams = new Set(requested.filter((s): s is string => typeof s === 'string' && KNOWN_STREAMS.has(s)));
      send(connection.socket, { stream: 'listening', data: { streams: [...connection.streams] } });
      if (this.isAnyoneListening()) {
        const waiters = this.listeningWaiters;
        this.listeningWaiters = [];
        for (const wake of waiters) wake();
      }
      return;
    }
    send(connection.socket, { action: 'error', data: { error_message: `unknown action: ${String(frame.action)}` } });
  }
}

function send(socket: WebSocket, frame: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(Buffer.from(JSON.stringify(frame)), { binary: true });
}
