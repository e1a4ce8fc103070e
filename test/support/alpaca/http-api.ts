import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { AlpacaApiError, alpacaErrors, defaultFaultBody } from './errors';

/**
 * The HTTP side of the stand-in: Alpaca's key headers, a per-minute request budget with
 * X-RateLimit-* headers on every answer, injected faults and latency, and a log of every request.
 */

export type ApiName = 'trading' | 'data';

export interface StandInRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** HTTP status answered; 0 when the connection was dropped instead. */
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
  body?: any;
  api: ApiName;
}

export interface FaultInjection {
  method?: string;
  /** A path prefix, or a RegExp tested against the path (no query string). */
  path: string | RegExp;
  /** How many matching requests the fault applies to. Default 1. */
  times?: number;
  status?: number;
  body?: any;
  latencyMs?: number;
  /** Perform the real request first, then answer with the fault (the ambiguous "500 that placed the order"). */
  afterHandling?: boolean;
  /** Destroy the socket instead of answering: the client sees a network error. */
  dropConnection?: boolean;
  /** Perform the real request, then hold the answer this long (a window in which the caller can die). */
  holdResponseMs?: number;
  /**
   * For a 429: the rate window reopens this many seconds from now (X-RateLimit-Reset), instead of
   * at the real window's end.
   */
  resetInSeconds?: number;
}

export interface RouteRequest {
  params: string[];
  query: Record<string, string>;
  body: unknown;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface Route {
  method: string;
  /** The path as Alpaca's OpenAPI document writes it, e.g. /v2/orders/{order_id}. */
  template: string;
  pattern: RegExp;
  handle(request: RouteRequest): RouteResult;
}

export function pathMatches(path: string, filter: string | RegExp, prefix: boolean): boolean {
  if (typeof filter !== 'string') return filter.test(path);
  return prefix ? path.startsWith(filter) : path === filter;
}

export class FaultBook {
  private readonly pending: (FaultInjection & { remaining: number })[] = [];

  add(fault: FaultInjection): void {
    this.pending.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** The first pending fault for this request, consuming one of its uses. */
  take(method: string, path: string): FaultInjection | undefined {
    const index = this.pending.findIndex(
      (f) => (f.method === undefined || f.method.toUpperCase() === method) && pathMatches(path, f.path, true),
    );
    const fault = this.pending[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.pending.splice(index, 1);
    return fault;
  }
}

interface RateWindow {
  limit: number;
  remaining: number;
  /** Unix seconds when the window resets. */
  reset: number;
}

/** Alpaca counts requests per key per minute; one fixed one-minute window per API host here. */
export class RequestBudget {
  private windowStart = 0;
  private used = 0;

  constructor(private readonly limit: number) {}

  /** Counts a request; `allowed` false once the minute's budget is spent. */
  take(now: number): RateWindow & { allowed: boolean } {
    this.roll(now);
    this.used += 1;
    return { ...this.window(), allowed: this.used <= this.limit };
  }

  peek(now: number): RateWindow {
    this.roll(now);
    return this.window();
  }

  private roll(now: number): void {
    if (now - this.windowStart >= 60_000) {
      this.windowStart = now;
      this.used = 0;
    }
  }

  private window(): RateWindow {
    return {
      limit: this.limit,
      remaining: Math.max(0, this.limit - this.used),
      reset: Math.ceil((this.windowStart + 60_000) / 1000),
    };
  }
}

export interface ApiServerOptions {
  api: ApiName;
  routes: Route[];
  credentials: { keyId: string; secretKey: string };
  budget: RequestBudget;
  faults: FaultBook;
  latencyMs: () => number;
  record: (request: StandInRequest) => void;
}

function collectQuery(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of params) query[key] = key in query ? `${query[key]},${value}` : value;
  return query;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function createApiServer(options: ApiServerOptions): http.Server {
  return http.createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'Content-Type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify({ code: 50010000, message: `stand-in failure: ${String(err)}` }));
      }
    });
  });
}

async function handle(options: ApiServerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const at = Date.now();
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://stand-in');
  const path = url.pathname;
  const query = collectQuery(url.searchParams);
  const text = await readBody(req);
  let body: unknown;
  let malformed = false;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      malformed = true;
    }
  }
  const entry: StandInRequest = {
    method,
    path,
    query,
    status: 0,
    at,
    api: options.api,
    ...(body === undefined ? {} : { body }),
  };

  const fault = options.faults.take(method, path);
  const delay = options.latencyMs() + (fault?.latencyMs ?? 0);
  if (delay > 0) await sleep(delay);

  const answersWithFault = fault !== undefined && (fault.dropConnection === true || fault.status !== undefined);
  if (fault && answersWithFault && !fault.afterHandling) {
    entry.status = respondWithFault(options, fault, req, res);
    options.record(entry);
    return;
  }

  const result = perform(options, method, path, query, body, malformed, req.headers);
  if (fault?.holdResponseMs) await sleep(fault.holdResponseMs);
  if (fault && answersWithFault) {
    entry.status = respondWithFault(options, fault, req, res);
  } else {
    entry.status = result.status;
    send(res, result.status, result.body, result.rate);
  }
  options.record(entry);
}

function perform(
  options: ApiServerOptions,
  method: string,
  path: string,
  query: Record<string, string>,
  body: unknown,
  malformed: boolean,
  headers: http.IncomingHttpHeaders,
): RouteResult & { rate: RateWindow } {
  const authorized =
    headers['apca-api-key-id'] === options.credentials.keyId &&
    headers['apca-api-secret-key'] === options.credentials.secretKey;
  // The budget belongs to a key, so requests with wrong keys do not spend it.
  const rate = authorized ? options.budget.take(Date.now()) : { ...options.budget.peek(Date.now()), allowed: true };
  try {
    if (!authorized) throw alpacaErrors.unauthorized();
    if (!rate.allowed) throw alpacaErrors.rateLimited();
    if (malformed) throw alpacaErrors.malformedBody();
    for (const route of options.routes) {
      if (route.method !== method) continue;
      const match = route.pattern.exec(path);
      if (!match) continue;
      const params = match.slice(1).map((p) => decodeURIComponent(p));
      return { ...route.handle({ params, query, body }), rate };
    }
    throw alpacaErrors.endpointNotFound();
  } catch (err) {
    if (err instanceof AlpacaApiError) return { status: err.status, body: err.body, rate };
    throw err;
  }
}

function respondWithFault(
  options: ApiServerOptions,
  fault: FaultInjection,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): number {
  if (fault.dropConnection) {
    req.socket.destroy();
    return 0;
  }
  const status = fault.status ?? 500;
  const rate = options.budget.peek(Date.now());
  const window =
    fault.resetInSeconds === undefined
      ? rate
      : { ...rate, remaining: 0, reset: Math.ceil(Date.now() / 1000) + fault.resetInSeconds };
  send(res, status, fault.body ?? defaultFaultBody(status), window);
  return status;
}

function send(res: http.ServerResponse, status: number, body: unknown, rate: RateWindow): void {
  if (res.destroyed || res.writableEnded) return;
  const headers: http.OutgoingHttpHeaders = {
    'X-RateLimit-Limit': String(rate.limit),
    'X-RateLimit-Remaining': String(rate.remaining),
    'X-RateLimit-Reset': String(rate.reset),
    'X-Request-ID': randomBytes(16).toString('hex'),
  };
  if (status === 204 || body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
}
