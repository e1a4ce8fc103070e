// Slack's HTTP side: the Web API under /api/ (form or JSON arguments, bot and app token checks,
// injected failures and outages, every call recorded) and the response_url endpoints.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQueryString } from 'node:querystring';
import { type ApiResult, fail } from './api-result';
import type { FileStore } from './files';
import { isRecord, type Json } from './json';
import type { ResponseUrls } from './response-urls';

export interface RecordedCall {
  method: string;
  /**
   * The arguments as parsed from the request (form fields, with JSON fields such as `blocks`/`view` decoded);
   * never the token.
   */
  args: Json;
  at: number;
  status: number;
  response: Json;
}

export interface ApiMethod {
  token: 'bot' | 'app';
  handle: (args: Json) => ApiResult;
}

export interface WebApiOptions {
  baseUrl: string;
  botToken?: string;
  appToken?: string;
  methods: Record<string, ApiMethod>;
  responseUrls: ResponseUrls;
  /** Upload URLs handed out by files.getUploadURLExternal. */
  files?: FileStore;
}

interface InjectedFailure {
  error: string;
  status: number;
  retryAfter?: number;
  remaining: number;
}

// Fields the Web API client JSON-encodes inside form bodies.
const JSON_ENCODED_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata', 'unfurls']);

function decodeJsonField(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function parseArgs(contentType: string | undefined, raw: string, query: URLSearchParams): Json {
  const args: Json = Object.fromEntries(query.entries());
  if (raw.length > 0) {
    if (contentType?.includes('application/json')) {
      const body = JSON.parse(raw) as unknown;
      if (isRecord(body)) Object.assign(args, body);
    } else {
      for (const [key, value] of Object.entries(parseQueryString(raw))) {
        args[key] = Array.isArray(value) ? value.join(',') : value;
      }
    }
  }
  for (const key of JSON_ENCODED_FIELDS) {
    if (key in args) args[key] = decodeJsonField(args[key]);
  }
  return args;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export class WebApi {
  readonly botToken: string;
  readonly appToken: string;
  readonly calls: RecordedCall[] = [];

  private readonly callWaiters = new Set<(call: RecordedCall) => void>();
  private readonly failures = new Map<string, InjectedFailure[]>();
  private outage: { prefixes: string[]; status: number } | undefined;

  constructor(private readonly options: WebApiOptions) {
    this.botToken = options.botToken ?? 'xoxb-test-standin-bot-token';
    this.appToken = options.appToken ?? 'xapp-test-standin-app-token';
  }

  /** The HTTP server's request listener. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    this.route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(error) });
    });
  }

  // ---------------------------------------------------------------- recording

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  waitForCall(
    method: string,
    predicate: (c: RecordedCall) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<RecordedCall> {
    const matches = (call: RecordedCall) => call.method === method && predicate(call);
    const existing = this.calls.find(matches);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const waiter = (call: RecordedCall) => {
        if (!matches(call)) return;
        clearTimeout(timer);
        this.callWaiters.delete(waiter);
        resolve(call);
      };
      const timer = setTimeout(() => {
        this.callWaiters.delete(waiter);
        const seen = this.calls.map((call) => call.method).join(', ') || 'none';
        reject(new Error(`Slack stand-in: no matching ${method} call within ${timeoutMs} ms (calls so far: ${seen})`));
      }, timeoutMs);
      this.callWaiters.add(waiter);
    });
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    for (const waiter of [...this.callWaiters]) waiter(call);
  }

  // ---------------------------------------------------------------- failures

  failNext(method: string, error: string, opts: { status?: number; retryAfter?: number; times?: number } = {}): void {
    const status = opts.status ?? (opts.retryAfter !== undefined || error === 'ratelimited' ? 429 : 200);
    const queue = this.failures.get(method) ?? [];
    queue.push({ error, status, retryAfter: opts.retryAfter, remaining: opts.times ?? 1 });
    this.failures.set(method, queue);
  }

  startOutage(prefixes: readonly string[], opts: { status?: number } = {}): void {
    this.outage = { prefixes: [...prefixes], status: opts.status ?? 500 };
  }

  endOutage(): void {
    this.outage = undefined;
  }

  private takeFailure(method: string): InjectedFailure | undefined {
    const queue = this.failures.get(method);
    const failure = queue?.[0];
    if (!queue || !failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) queue.shift();
    return failure;
  }

  // ---------------------------------------------------------------- requests

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.options.baseUrl);
    const bytes = await readBody(req);
    const { files } = this.options;
    if (req.method === 'POST' && files?.isUploadPath(url.pathname)) {
      // Not a Web API method: the upload URL takes the file's bytes and answers in plain text.
      const answer = await files.receive(url.pathname, req.headers['content-type'], bytes);
      res.writeHead(answer.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(answer.text);
      return;
    }
    const raw = bytes.toString('utf8');
    if (url.pathname.startsWith('/api/')) {
      this.handleApi(url.pathname.slice('/api/'.length), req, raw, url.searchParams, res);
      return;
    }
    const { responseUrls } = this.options;
    if (req.method === 'POST' && responseUrls.has(url.pathname)) {
      const answer = responseUrls.post(url, req.headers['content-type'], raw);
      sendJson(res, answer.status, answer.body);
      return;
    }
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  private handleApi(
    method: string,
    req: IncomingMessage,
    raw: string,
    query: URLSearchParams,
    res: ServerResponse,
  ): void {
    const at = Date.now();
    let args: Json;
    try {
      args = parseArgs(req.headers['content-type'], raw, query);
    } catch {
      const response = fail('invalid_json');
      this.record({ method, args: { raw }, at, status: 200, response });
      sendJson(res, 200, response);
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token: unknown = bearer ?? args.token;
    delete args.token;
    const respond = (status: number, response: ApiResult, headers: Record<string, string> = {}) => {
      this.record({ method, args, at, status, response });
      sendJson(res, status, response, headers);
    };

    const api = this.options.methods[method];
    if (!api) return respond(200, fail('unknown_method'));
    if (typeof token !== 'string' || token === '') return respond(200, fail('not_authed'));
    const tokenKind = token === this.botToken ? 'bot' : token === this.appToken ? 'app' : undefined;
    if (!tokenKind) return respond(200, fail('invalid_auth'));
    if (tokenKind !== api.token) return respond(200, fail('not_allowed_token_type'));

    if (this.outage?.prefixes.some((prefix) => method.startsWith(prefix))) {
      return respond(this.outage.status, fail('internal_error'));
    }
    const failure = this.takeFailure(method);
    if (failure) {
      const headers: Record<string, string> =
        failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
      return respond(failure.status, fail(failure.error), headers);
    }
    respond(200, api.handle(args));
  }
}
