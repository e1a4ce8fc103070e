// Socket mode: apps.connections.open tickets, the `ws` server on /link/, hello, disconnect and
// dropped links, and envelopes the app must ack in time (late acks are recorded, not lost).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { isRecord, type Json } from './json';

const STAND_IN_HOST = 'applink-standin';
const DISCONNECTED_SOCKET_GRACE_MS = 5000;
const SERVER_PING_INTERVAL_MS = 10_000;
const CLOSE_HANDSHAKE_TIMEOUT_MS = 500;

export interface AckResult {
  envelopeId: string;
  /** The `payload` of the app's ack; undefined for a bare ack (Bolt sends `{}` for `ack()`). */
  ackPayload: Json | undefined;
  ackMs: number;
}

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

export interface EnvelopeRecord {
  envelopeId: string;
  type: EnvelopeType;
  payload: Json;
  sentAt: number;
  outcome: 'pending' | 'acked' | 'timed_out' | 'late_ack' | 'aborted';
  ackPayload?: Json;
  ackMs?: number;
}

export interface EnvelopeOptions {
  envelopeId?: string;
  retryAttempt?: number;
  retryReason?: string;
}

export interface SocketModeOptions {
  baseUrl: string;
  appId: string;
  /** How long the app has to ack an envelope (Slack: 3 s). */
  ackTimeoutMs?: number;
}

interface Connection {
  ws: WebSocket;
  retiring: boolean;
  timers: NodeJS.Timeout[];
}

interface PendingAck {
  record: EnvelopeRecord;
  timer: NodeJS.Timeout;
  onAck?: (payload: Json | undefined) => void;
  resolve: (result: AckResult) => void;
  reject: (error: Error) => void;
}

function describePayload(type: EnvelopeType, payload: Json): string {
  if (type === 'slash_commands') return `slash command ${payload.command ?? ''}`.trim();
  if (type === 'events_api') return `event ${payload.event?.type ?? 'unknown'}`;
  const detail =
    payload.view?.callback_id ?? payload.action_id ?? payload.actions?.[0]?.action_id ?? payload.callback_id;
  return `interactive ${payload.type ?? 'payload'}${detail ? ` (${detail})` : ''}`;
}

export class SocketModeLink {
  readonly envelopes: EnvelopeRecord[] = [];

  private readonly baseUrl: string;
  private readonly appId: string;
  private readonly ackTimeoutMs: number;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<Connection>();
  private greetedConnections = 0;
  private readonly connectionWaiters = new Set<() => void>();
  private readonly pendingAcks = new Map<string, PendingAck>();
  private readonly tickets = new Set<string>();
  private closed = false;

  constructor(opts: SocketModeOptions) {
    this.baseUrl = opts.baseUrl;
    this.appId = opts.appId;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 3000;
  }

  /** A single-use WebSocket URL, as apps.connections.open returns it. */
  openTicket(): string {
    const ticket = randomUUID();
    this.tickets.add(ticket);
    const wsBase = this.baseUrl.replace(/^http/, 'ws');
    return `${wsBase}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  /** The HTTP server's upgrade listener: only /link/ with an unused ticket gets a socket. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const ticket = url.searchParams.get('ticket');
    if (this.closed || url.pathname !== '/link/' || !ticket || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  // ---------------------------------------------------------------- connections

  private accept(ws: WebSocket): void {
    const connection: Connection = { ws, retiring: false, timers: [] };
    this.connections.add(connection);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onSocketMessage(data.toString());
    });
    ws.on('close', () => {
      connection.timers.forEach(clearTimeout);
      this.connections.delete(connection);
    });
    ws.on('error', () => ws.terminate());
    // Slack pings its socket-mode clients; the client watches for them once the first arrives.
    const pinger = setInterval(() => ws.ping(), SERVER_PING_INTERVAL_MS);
    pinger.unref();
    connection.timers.push(pinger);
    this.greetedConnections += 1;
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.connectionCount(),
        debug_info: { host: STAND_IN_HOST, build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }),
    );
    for (const waiter of [...this.connectionWaiters]) waiter();
  }

  private liveConnections(): Connection[] {
    return [...this.connections].filter((c) => !c.retiring && c.ws.readyState === c.ws.OPEN);
  }

  connectionCount(): number {
    return this.liveConnections().length;
  }

  totalConnections(): number {
    return this.greetedConnections;
  }

  waitForConnection(timeoutMs = 5000): Promise<void> {
    if (this.connectionCount() > 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = () => {
        if (this.connectionCount() === 0) return;
        clearTimeout(timer);
        this.connectionWaiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(() => {
        this.connectionWaiters.delete(waiter);
        reject(new Error(`Slack stand-in: no socket-mode client connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.connectionWaiters.add(waiter);
    });
  }

  disconnectAll(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    for (const connection of this.liveConnections()) {
      connection.retiring = true;
      connection.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: STAND_IN_HOST } }));
      // Slack closes the old link itself if the client does not.
      const reaper = setTimeout(() => connection.ws.terminate(), DISCONNECTED_SOCKET_GRACE_MS);
      reaper.unref();
      connection.timers.push(reaper);
    }
  }

  dropAll(): void {
    for (const connection of [...this.connections]) {
      connection.retiring = true;
      connection.ws.terminate();
    }
  }

  // ---------------------------------------------------------------- envelopes

  /**
   * Sends one envelope; `onAck` runs as soon as the ack frame arrives (before the app's next API call)
   * and may throw to fail the delivery.
   */
  deliver(
    type: EnvelopeType,
    payload: Json,
    opts: EnvelopeOptions,
    onAck?: (ackPayload: Json | undefined) => void,
  ): Promise<AckResult> {
    const description = describePayload(type, payload);
    const connection = this.liveConnections().at(-1);
    if (!connection) {
      return Promise.reject(
        new Error(
          `Slack stand-in: no socket-mode connection to deliver ${description} to ` +
            '(start the app / await waitForConnection() first)',
        ),
      );
    }
    const envelopeId = opts.envelopeId ?? randomUUID();
    if (this.pendingAcks.has(envelopeId)) {
      return Promise.reject(new Error(`Slack stand-in: envelope ${envelopeId} is already awaiting its ack`));
    }
    const acceptsResponsePayload =
      type === 'slash_commands' ||
      (type === 'interactive' && ['view_submission', 'block_suggestion'].includes(payload.type));
    const frame: Json = { envelope_id: envelopeId, type, payload, accepts_response_payload: acceptsResponsePayload };
    if (type === 'events_api') {
      frame.retry_attempt = opts.retryAttempt ?? 0;
      frame.retry_reason = opts.retryReason ?? (opts.retryAttempt ? 'timeout' : '');
    }
    const record: EnvelopeRecord = { envelopeId, type, payload, sentAt: Date.now(), outcome: 'pending' };
    this.envelopes.push(record);
    return new Promise<AckResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(envelopeId);
        record.outcome = 'timed_out';
        reject(
          new Error(
            `Slack stand-in: the app did not ack ${description} (envelope ${envelopeId}) ` +
              `within ${this.ackTimeoutMs} ms — Slack would show the user an error`,
          ),
        );
      }, this.ackTimeoutMs);
      this.pendingAcks.set(envelopeId, { record, timer, onAck, resolve, reject });
      connection.ws.send(JSON.stringify(frame));
    });
  }

  private onSocketMessage(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(frame) || typeof frame.envelope_id !== 'string') return;
    const ackPayload = isRecord(frame.payload) && Object.keys(frame.payload).length > 0 ? frame.payload : undefined;
    const pending = this.pendingAcks.get(frame.envelope_id);
    if (!pending) {
      const late = this.envelopes.find((e) => e.envelopeId === frame.envelope_id && e.outcome === 'timed_out');
      if (late) {
        late.outcome = 'late_ack';
        late.ackPayload = ackPayload;
        late.ackMs = Date.now() - late.sentAt;
      }
      return;
    }
    this.pendingAcks.delete(frame.envelope_id);
    clearTimeout(pending.timer);
    const { record } = pending;
    record.outcome = 'acked';
    record.ackPayload = ackPayload;
    record.ackMs = Date.now() - record.sentAt;
    try {
      pending.onAck?.(ackPayload);
    } catch (error) {
      pending.reject(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    pending.resolve({ envelopeId: record.envelopeId, ackPayload, ackMs: record.ackMs });
  }

  // ---------------------------------------------------------------- shutdown

  /** A close handshake rather than a reset, so a client that is stopping sees a clean close instead of an error. */
  private closeGracefully(connection: Connection): Promise<void> {
    connection.timers.forEach(clearTimeout);
    const { ws } = connection;
    if (ws.readyState === ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const forced = setTimeout(() => ws.terminate(), CLOSE_HANDSHAKE_TIMEOUT_MS);
      ws.once('close', () => {
        clearTimeout(forced);
        resolve();
      });
      if (ws.readyState === ws.OPEN) ws.close(1001, 'stand-in closing');
    });
  }

  /** Fails every envelope still awaiting its ack, closes every link and refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.pendingAcks.values()) {
      clearTimeout(pending.timer);
      pending.record.outcome = 'aborted';
      pending.reject(new Error(`Slack stand-in closed before envelope ${pending.record.envelopeId} was acked`));
    }
    this.pendingAcks.clear();
    await Promise.all([...this.connections].map((connection) => this.closeGracefully(connection)));
    this.connections.clear();
    this.wss.close();
  }
}
