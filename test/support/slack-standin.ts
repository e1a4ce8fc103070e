// A local Slack for end-to-end tests: the Web API over HTTP and the socket-mode WebSocket,
// close enough to real Slack that an unmodified @slack/bolt App (socket mode, with
// `clientOptions.slackApiUrl` pointing here) runs against it. It also enforces what real
// Slack enforces and tests tend to forget: 3-second single-use trigger_ids, Block Kit limits,
// acks within 3 seconds. Pattern: slackapi/node-slack-sdk socket-mode integration tests
// (a `ws` server + an `http` server).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQueryString } from 'node:querystring';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkBlockKit, checkOptionsResponse } from './slack/block-kit';
import {
  buildAction,
  buildStateValues,
  findElement,
  interactiveElements,
  type ElementInput,
} from './slack/view-state';

export { checkBlockKit, checkOptionsResponse, BLOCK_KIT_LIMITS, type BlockKitSurface } from './slack/block-kit';
export type { ElementInput } from './slack/view-state';

// Slack payloads are free-form JSON; the stand-in reads them the way Slack's servers do.
type Json = Record<string, any>;

export const DEFAULT_USER_ID = 'U0TESTUSER';
export const DEFAULT_CHANNEL_ID = 'C0GENERAL';
const STAND_IN_HOST = 'applink-standin';
const DISCONNECTED_SOCKET_GRACE_MS = 5000;
const SERVER_PING_INTERVAL_MS = 10_000;
const MAX_VIEW_STACK = 3;
const CLOSE_HANDSHAKE_TIMEOUT_MS = 500;

export interface SlackStandInOptions {
  botToken?: string;
  appToken?: string;
  teamId?: string;
  teamName?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  /** How long a trigger_id stays usable (Slack: 3 s). */
  triggerTtlMs?: number;
  /** How long the app has to ack an envelope (Slack: 3 s). */
  ackTimeoutMs?: number;
}

export interface RecordedCall {
  method: string;
  /** The arguments as parsed from the request (form fields, with JSON fields such as `blocks`/`view` decoded); never the token. */
  args: Json;
  at: number;
  status: number;
  response: Json;
}

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

export interface StoredView {
  id: string;
  type: 'modal' | 'home';
  userId: string;
  /** The view as Slack returns it: what the app sent plus id, hash, state, ids filled in. */
  view: Json;
  /** Every version of the view, oldest first; the last one is `view`. */
  history: Json[];
  closed: boolean;
  /** Errors from the latest `response_action: 'errors'` ack, by block_id. */
  errors?: Record<string, string>;
}

export interface StoredMessage {
  ts: string;
  channel: string;
  text?: string;
  blocks?: Json[];
  attachments?: Json[];
  metadata?: Json;
  threadTs?: string;
  updates: number;
  ephemeral?: boolean;
  /** For an ephemeral message, the only user who sees it. */
  user?: string;
  /** Every version of the message, oldest first. */
  history: { text?: string; blocks?: Json[] }[];
}

export interface ResponseUrlPost {
  url: string;
  body: Json;
  at: number;
  error?: string;
}

export interface StandInUser {
  id: string;
  name?: string;
  realName?: string;
  tz?: string;
  isBot?: boolean;
  isAdmin?: boolean;
}

export interface StandInChannel {
  id: string;
  name?: string;
  isPrivate?: boolean;
  isMember?: boolean;
}

export interface SlashCommandInput {
  command: string;
  text?: string;
  userId?: string;
  channelId?: string;
  envelopeId?: string;
}

export interface SubmitViewInput {
  viewId: string;
  userId?: string;
  values: Record<string, ElementInput>;
  envelopeId?: string;
}

export interface BlockActionInput {
  userId?: string;
  actionId: string;
  value?: string;
  selectedOption?: string;
  selectedOptions?: string[];
  viewId?: string;
  channelId?: string;
  messageTs?: string;
  blockId?: string;
  /** Inputs the user typed into the view before the action, by action_id. */
  values?: Record<string, ElementInput>;
  envelopeId?: string;
}

export interface BlockSuggestionInput {
  userId?: string;
  actionId: string;
  value: string;
  viewId: string;
  envelopeId?: string;
}

export interface ShortcutInput {
  callbackId: string;
  userId?: string;
  envelopeId?: string;
}

export interface SlackStandIn {
  apiUrl: string;
  botToken: string;
  appToken: string;
  teamId: string;
  appId: string;
  botUserId: string;
  botId: string;
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** The first call to `method` (already made or still to come) that satisfies `predicate`. */
  waitForCall(method: string, predicate?: (c: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Resolves once a socket client has received `hello` and is not being told to disconnect. */
  waitForConnection(timeoutMs?: number): Promise<void>;
  connectionCount(): number;
  /** Every socket connection ever greeted with `hello`. */
  totalConnections(): number;
  envelopes: EnvelopeRecord[];
  sendEnvelope(
    type: EnvelopeType,
    payload: object,
    opts?: { envelopeId?: string; retryAttempt?: number; retryReason?: string },
  ): Promise<AckResult>;
  slashCommand(a: SlashCommandInput): Promise<AckResult & { triggerId: string; responseUrl: string }>;
  submitView(a: SubmitViewInput): Promise<AckResult>;
  blockAction(a: BlockActionInput): Promise<AckResult & { triggerId: string; responseUrl?: string }>;
  blockSuggestion(a: BlockSuggestionInput): Promise<AckResult>;
  shortcut(a: ShortcutInput): Promise<AckResult & { triggerId: string }>;
  appHomeOpened(userId: string): Promise<AckResult>;
  /** A trigger_id as if `userId` had just interacted (inside view `viewId`, if given). */
  issueTriggerId(context?: { userId?: string; viewId?: string }): string;
  views: Map<string, StoredView>;
  homeView(userId: string): StoredView | undefined;
  /** Open modals of a user, bottom of the stack first. */
  openModals(userId: string): StoredView[];
  messages(channel: string): StoredMessage[];
  responses: ResponseUrlPost[];
  failNext(method: string, error: string, opts?: { status?: number; retryAfter?: number; times?: number }): void;
  /** An outage: every Web API call whose method starts with one of `prefixes` answers `status` (default 500) until endOutage(). */
  startOutage(prefixes: readonly string[], opts?: { status?: number }): void;
  endOutage(): void;
  setChannelMembership(channelId: string, isMember: boolean): void;
  addChannel(channel: StandInChannel): void;
  addUser(user: StandInUser): void;
  disconnectAll(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  dropAll(): void;
  close(): Promise<void>;
}

interface TriggerRecord {
  issuedAt: number;
  used: boolean;
  userId?: string;
  viewId?: string;
}

interface ResponseUrlContext {
  channelId: string;
  userId: string;
  messageTs?: string;
  postedTs?: string;
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

interface InjectedFailure {
  error: string;
  status: number;
  retryAfter?: number;
  remaining: number;
}

interface ApiMethod {
  token: 'bot' | 'app';
  handle: (args: Json) => ApiResult;
}

type ApiResult = Json & { ok: boolean };

// Fields the Web API client JSON-encodes inside form bodies.
const JSON_ENCODED_FIELDS = new Set(['blocks', 'view', 'attachments', 'metadata', 'unfurls']);
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

function randomDigits(length: number): string {
  let digits = '';
  for (const byte of randomBytes(length)) digits += String(byte % 10);
  return digits;
}

function ok(fields: Json = {}): ApiResult {
  return { ok: true, ...fields };
}

function fail(error: string, fields: Json = {}): ApiResult {
  return { ok: false, error, ...fields };
}

function invalidBlocks(problems: string[]): ApiResult {
  return fail('invalid_blocks', {
    errors: problems,
    response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) },
  });
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function describePayload(type: EnvelopeType, payload: Json): string {
  if (type === 'slash_commands') return `slash command ${payload.command ?? ''}`.trim();
  if (type === 'events_api') return `event ${payload.event?.type ?? 'unknown'}`;
  const detail = payload.view?.callback_id ?? payload.action_id ?? payload.actions?.[0]?.action_id ?? payload.callback_id;
  return `interactive ${payload.type ?? 'payload'}${detail ? ` (${detail})` : ''}`;
}

class SlackStandInServer implements SlackStandIn {
  apiUrl = '';
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly calls: RecordedCall[] = [];
  readonly envelopes: EnvelopeRecord[] = [];
  readonly views = new Map<string, StoredView>();
  readonly responses: ResponseUrlPost[] = [];

  private baseUrl = '';
  private readonly teamName: string;
  private readonly teamDomain: string;
  private readonly triggerTtlMs: number;
  private readonly ackTimeoutMs: number;
  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly connections = new Set<Connection>();
  private greetedConnections = 0;
  private readonly connectionWaiters = new Set<() => void>();
  private readonly callWaiters = new Set<(call: RecordedCall) => void>();
  private readonly pendingAcks = new Map<string, PendingAck>();
  private readonly tickets = new Set<string>();
  private readonly triggers = new Map<string, TriggerRecord>();
  private readonly responseUrls = new Map<string, ResponseUrlContext>();
  private readonly failures = new Map<string, InjectedFailure[]>();
  private outage: { prefixes: string[]; status: number } | undefined;
  private readonly channelMessages = new Map<string, StoredMessage[]>();
  private readonly channels = new Map<string, Required<StandInChannel> & { imUser?: string }>();
  private readonly imByUser = new Map<string, string>();
  private readonly users = new Map<string, StandInUser>();
  private readonly homeViewByUser = new Map<string, string>();
  /** What the user has typed or picked in each view so far, by view id then action_id. */
  private readonly viewInputs = new Map<string, Map<string, ElementInput>>();
  private lastTsMicros = 0n;
  private closed = false;
  private readonly methods: Record<string, ApiMethod>;

  constructor(opts: SlackStandInOptions) {
    this.botToken = opts.botToken ?? 'xoxb-test-standin-bot-token';
    this.appToken = opts.appToken ?? 'xapp-test-standin-app-token';
    this.teamId = opts.teamId ?? 'T0STANDIN';
    this.teamName = opts.teamName ?? 'Stand-in Team';
    this.teamDomain = this.teamName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'standin';
    this.appId = opts.appId ?? 'A0STANDIN';
    this.botUserId = opts.botUserId ?? 'U0STANDINBOT';
    this.botId = opts.botId ?? 'B0STANDIN';
    this.triggerTtlMs = opts.triggerTtlMs ?? 3000;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 3000;
    this.addChannel({ id: DEFAULT_CHANNEL_ID, name: 'general' });
    this.addUser({ id: DEFAULT_USER_ID, name: 'test.user', realName: 'Test User' });
    this.addUser({ id: this.botUserId, name: 'oms', realName: 'OMS', isBot: true });
    this.methods = this.buildMethods();
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(error) });
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api/`;
  }

  // ---------------------------------------------------------------- recording

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  waitForCall(method: string, predicate: (c: RecordedCall) => boolean = () => true, timeoutMs = 3000): Promise<RecordedCall> {
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

  // ---------------------------------------------------------------- ids

  private nextTs(): string {
    const nowMicros = BigInt(Date.now()) * 1000n;
    this.lastTsMicros = nowMicros > this.lastTsMicros ? nowMicros : this.lastTsMicros + 1n;
    const seconds = this.lastTsMicros / 1_000_000n;
    const micros = this.lastTsMicros % 1_000_000n;
    return `${seconds}.${micros.toString().padStart(6, '0')}`;
  }

  private newHash(): string {
    return `${Math.floor(Date.now() / 1000)}.${randomBytes(6).toString('base64url')}`;
  }

  issueTriggerId(context: { userId?: string; viewId?: string } = {}): string {
    return this.issueTrigger(context);
  }

  private issueTrigger(context: { userId?: string; viewId?: string }): string {
    const id = `${randomDigits(11)}.${randomDigits(12)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: Date.now(), used: false, ...context });
    return id;
  }

  /** Slack's trigger rules: known, unused, younger than 3 s. Returns the error code or the trigger. */
  private redeemTrigger(triggerId: unknown): string | TriggerRecord {
    if (typeof triggerId !== 'string' || triggerId.length === 0) return 'invalid_trigger_id';
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return 'invalid_trigger_id';
    if (trigger.used) return 'exchanged_trigger_id';
    if (Date.now() - trigger.issuedAt > this.triggerTtlMs) return 'expired_trigger_id';
    return trigger;
  }

  private issueResponseUrl(kind: 'commands' | 'actions', context: ResponseUrlContext): string {
    const url = `${this.baseUrl}/${kind}/${this.teamId}/${randomDigits(13)}/${randomBytes(12).toString('base64url')}`;
    this.responseUrls.set(new URL(url).pathname, context);
    return url;
  }

  // ---------------------------------------------------------------- workspace data

  addUser(user: StandInUser): void {
    this.users.set(user.id, user);
  }

  private user(id: string): Required<StandInUser> {
    const known = this.users.get(id);
    const name = known?.name ?? `user.${id.toLowerCase()}`;
    return {
      id,
      name,
      realName: known?.realName ?? name,
      tz: known?.tz ?? 'America/New_York',
      isBot: known?.isBot ?? false,
      isAdmin: known?.isAdmin ?? false,
    };
  }

  private userRef(id: string): Json {
    const user = this.user(id);
    return { id, username: user.name, name: user.name, team_id: this.teamId };
  }

  private teamRef(): Json {
    return { id: this.teamId, domain: this.teamDomain };
  }

  addChannel(channel: StandInChannel): void {
    this.channels.set(channel.id, {
      id: channel.id,
      name: channel.name ?? `channel-${channel.id.toLowerCase()}`,
      isPrivate: channel.isPrivate ?? channel.id.startsWith('G'),
      isMember: channel.isMember ?? true,
    });
  }

  setChannelMembership(channelId: string, isMember: boolean): void {
    const channel = this.channel(channelId);
    if (channel) channel.isMember = isMember;
    else this.addChannel({ id: channelId, isMember });
  }

  /** Known channel, or one created on first sight for any Slack-shaped id. */
  private channel(id: string): (Required<StandInChannel> & { imUser?: string }) | undefined {
    const known = this.channels.get(id);
    if (known) return known;
    if (!/^[CGD][A-Z0-9]{2,}$/.test(id)) return undefined;
    this.addChannel({ id });
    return this.channels.get(id);
  }

  private imChannelFor(userId: string): string {
    const existing = this.imByUser.get(userId);
    if (existing) return existing;
    const id = `D${userId.replace(/^[UW]/, '')}`;
    this.channels.set(id, { id, name: id, isPrivate: true, isMember: true, imUser: userId });
    this.imByUser.set(userId, id);
    return id;
  }

  /** Resolves `channel` as chat.* methods do: a user id means the app's DM with that user. */
  private resolvePostChannel(channel: unknown, purpose: 'post' | 'read'): string | ApiResult {
    if (typeof channel !== 'string' || channel.length === 0) return fail('channel_not_found');
    if (/^[UW][A-Z0-9]{2,}$/.test(channel)) return this.imChannelFor(channel);
    const known = this.channel(channel);
    if (!known) return fail('channel_not_found');
    if (!known.isMember && purpose === 'post') return fail(known.isPrivate ? 'channel_not_found' : 'not_in_channel');
    return known.id;
  }

  messages(channel: string): StoredMessage[] {
    return [...(this.channelMessages.get(channel) ?? [])];
  }

  private findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.messages(channel).find((message) => message.ts === ts);
  }

  private storeMessage(message: Omit<StoredMessage, 'ts' | 'updates' | 'history'>): StoredMessage {
    const stored: StoredMessage = {
      ...message,
      ts: this.nextTs(),
      updates: 0,
      history: [{ text: message.text, blocks: message.blocks }],
    };
    const list = this.channelMessages.get(message.channel) ?? [];
    list.push(stored);
    this.channelMessages.set(message.channel, list);
    return stored;
  }

  private updateMessage(message: StoredMessage, changes: { text?: string; blocks?: Json[]; attachments?: Json[] }): void {
    if (changes.text !== undefined) message.text = changes.text;
    if (changes.blocks !== undefined) message.blocks = changes.blocks;
    if (changes.attachments !== undefined) message.attachments = changes.attachments;
    message.updates += 1;
    message.history.push({ text: message.text, blocks: message.blocks });
  }

  private deleteMessage(channel: string, ts: string): boolean {
    const list = this.channelMessages.get(channel);
    const index = list?.findIndex((message) => message.ts === ts) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  private messageJson(message: StoredMessage): Json {
    return {
      type: 'message',
      user: this.botUserId,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.teamId,
      ts: message.ts,
      text: message.text ?? '',
      ...(message.blocks ? { blocks: message.blocks } : {}),
      ...(message.attachments ? { attachments: message.attachments } : {}),
      ...(message.threadTs ? { thread_ts: message.threadTs } : {}),
      bot_profile: { id: this.botId, app_id: this.appId, name: 'OMS', deleted: false, team_id: this.teamId },
    };
  }

  // ---------------------------------------------------------------- views

  homeView(userId: string): StoredView | undefined {
    const id = this.homeViewByUser.get(userId);
    return id ? this.views.get(id) : undefined;
  }

  openModals(userId: string): StoredView[] {
    return [...this.views.values()].filter((v) => v.type === 'modal' && v.userId === userId && !v.closed);
  }

  /** Slack fills in block_id / action_id the app left out; state and submissions are keyed by them. */
  private withIds(blocks: unknown): Json[] {
    if (!Array.isArray(blocks)) return [];
    const copy = structuredClone(blocks) as Json[];
    for (const block of copy) {
      if (block.block_id === undefined) block.block_id = randomBytes(4).toString('base64url').slice(0, 5);
      const elements: Json[] =
        block.type === 'actions' ? (block.elements ?? []) : [block.accessory, block.element].filter(Boolean);
      for (const element of elements) {
        if (element.type !== 'image' && element.action_id === undefined) {
          element.action_id = randomBytes(4).toString('base64url').slice(0, 5);
        }
      }
    }
    return copy;
  }

  private materializeView(
    sent: Json,
    ids: { id: string; rootViewId: string | null; previousViewId: string | null; externalId?: string },
  ): Json {
    const type = sent.type === 'home' ? 'home' : 'modal';
    return {
      ...structuredClone(sent),
      id: ids.id,
      team_id: this.teamId,
      type,
      blocks: this.withIds(sent.blocks),
      private_metadata: sent.private_metadata ?? '',
      callback_id: sent.callback_id ?? '',
      state: { values: {} },
      hash: this.newHash(),
      title: sent.title ?? (type === 'home' ? { type: 'plain_text', text: 'View Title', emoji: true } : undefined),
      clear_on_close: sent.clear_on_close ?? false,
      notify_on_close: sent.notify_on_close ?? false,
      close: sent.close ?? null,
      submit: sent.submit ?? null,
      previous_view_id: ids.previousViewId,
      root_view_id: ids.rootViewId,
      app_id: this.appId,
      external_id: ids.externalId ?? sent.external_id ?? '',
      app_installed_team_id: this.teamId,
      bot_id: this.botId,
    };
  }

  private createView(sent: Json, type: 'modal' | 'home', userId: string, previous?: StoredView): StoredView {
    const id = randomId('V');
    const view = this.materializeView(sent, {
      id,
      rootViewId: previous ? (previous.view.root_view_id ?? previous.id) : id,
      previousViewId: previous?.id ?? null,
    });
    const stored: StoredView = { id, type, userId, view, history: [view], closed: false };
    this.views.set(id, stored);
    this.viewInputs.set(id, new Map());
    return stored;
  }

  private replaceView(stored: StoredView, sent: Json): void {
    const view = this.materializeView(sent, {
      id: stored.id,
      rootViewId: stored.view.root_view_id ?? null,
      previousViewId: stored.view.previous_view_id ?? null,
      externalId: sent.external_id ?? stored.view.external_id,
    });
    stored.view = view;
    stored.history.push(view);
    delete stored.errors;
  }

  private viewWithState(stored: StoredView): Json {
    const inputs = this.viewInputs.get(stored.id) ?? new Map<string, ElementInput>();
    return { ...stored.view, state: { values: buildStateValues(stored.view.blocks, inputs) } };
  }

  private checkView(kind: 'modal' | 'home', view: unknown): ApiResult | undefined {
    if (!isRecord(view)) return fail('invalid_arguments', { errors: ['/view: must be a view object'] });
    if (view.type !== kind) {
      return fail('invalid_arguments', { errors: [`/view/type: must be ${JSON.stringify(kind)} (got ${JSON.stringify(view.type)})`] });
    }
    const problems = checkBlockKit(kind, view);
    return problems.length > 0 ? invalidBlocks(problems) : undefined;
  }

  private externalIdTaken(externalId: unknown): boolean {
    if (typeof externalId !== 'string' || externalId === '') return false;
    return [...this.views.values()].some((v) => v.view.external_id === externalId);
  }

  private closeModal(stored: StoredView, wholeStack: boolean): void {
    stored.closed = true;
    if (!wholeStack) return;
    const rootId = stored.view.root_view_id ?? stored.id;
    for (const view of this.views.values()) {
      if (view.type === 'modal' && (view.view.root_view_id ?? view.id) === rootId) view.closed = true;
    }
  }

  private stackDepth(stored: StoredView): number {
    let depth = 1;
    let current: StoredView | undefined = stored;
    while (current?.view.previous_view_id) {
      current = this.views.get(current.view.previous_view_id);
      if (current && !current.closed) depth += 1;
    }
    return depth;
  }

  // ---------------------------------------------------------------- Web API

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

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    if (url.pathname.startsWith('/api/')) {
      this.handleApi(url.pathname.slice('/api/'.length), req, raw, url.searchParams, res);
      return;
    }
    if (req.method === 'POST' && this.responseUrls.has(url.pathname)) {
      this.handleResponseUrl(url, req.headers['content-type'], raw, res);
      return;
    }
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  private handleApi(method: string, req: IncomingMessage, raw: string, query: URLSearchParams, res: ServerResponse): void {
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

    const api = this.methods[method];
    if (!api) return respond(200, fail('unknown_method'));
    if (typeof token !== 'string' || token === '') return respond(200, fail('not_authed'));
    const tokenKind = token === this.botToken ? 'bot' : token === this.appToken ? 'app' : undefined;
    if (!tokenKind) return respond(200, fail('invalid_auth'));
    if (tokenKind !== api.token) return respond(200, fail('not_allowed_token_type'));

    if (this.outage?.prefixes.some((prefix) => method.startsWith(prefix))) return respond(this.outage.status, fail('internal_error'));
    const failure = this.takeFailure(method);
    if (failure) {
      const headers: Record<string, string> = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
      return respond(failure.status, fail(failure.error), headers);
    }
    respond(200, api.handle(args));
  }

  private buildMethods(): Record<string, ApiMethod> {
    const bot = (handle: (args: Json) => ApiResult): ApiMethod => ({ token: 'bot', handle });
    return {
      'auth.test': bot(() =>
        ok({
          url: `https://${this.teamDomain}.slack.com/`,
          team: this.teamName,
          user: this.user(this.botUserId).name,
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        }),
      ),
      'apps.connections.open': {
        token: 'app',
        handle: () => {
          const ticket = randomUUID();
          this.tickets.add(ticket);
          const wsBase = this.baseUrl.replace(/^http/, 'ws');
          return ok({ url: `${wsBase}/link/?ticket=${ticket}&app_id=${this.appId}` });
        },
      },
      'team.info': bot(() =>
        ok({
          team: {
            id: this.teamId,
            name: this.teamName,
            domain: this.teamDomain,
            email_domain: '',
            icon: { image_default: true },
            is_verified: false,
          },
        }),
      ),
      'users.info': bot((args) => this.usersInfo(args)),
      'conversations.open': bot((args) => this.conversationsOpen(args)),
      'conversations.info': bot((args) => this.conversationsInfo(args)),
      'views.open': bot((args) => this.viewsOpen(args)),
      'views.push': bot((args) => this.viewsPush(args)),
      'views.update': bot((args) => this.viewsUpdate(args)),
      'views.publish': bot((args) => this.viewsPublish(args)),
      'chat.postMessage': bot((args) => this.chatPostMessage(args)),
      'chat.postEphemeral': bot((args) => this.chatPostEphemeral(args)),
      'chat.update': bot((args) => this.chatUpdate(args)),
      'chat.delete': bot((args) => this.chatDelete(args)),
    };
  }

  private usersInfo(args: Json): ApiResult {
    const id = args.user;
    if (typeof id !== 'string' || !/^[UWB][A-Z0-9]{2,}$/.test(id)) return fail('user_not_found');
    const user = this.user(id);
    return ok({
      user: {
        id,
        team_id: this.teamId,
        name: user.name,
        deleted: false,
        real_name: user.realName,
        tz: user.tz,
        tz_label: user.tz,
        is_admin: user.isAdmin,
        is_owner: false,
        is_bot: user.isBot,
        is_app_user: false,
        updated: Math.floor(Date.now() / 1000),
        profile: { real_name: user.realName, display_name: user.name, team: this.teamId },
      },
    });
  }

  private conversationsOpen(args: Json): ApiResult {
    if (typeof args.channel === 'string') {
      const channel = this.channel(args.channel);
      return channel ? ok({ no_op: true, already_open: true, channel: { id: channel.id } }) : fail('channel_not_found');
    }
    const users = typeof args.users === 'string' ? args.users.split(',').map((u: string) => u.trim()).filter(Boolean) : [];
    if (users.length === 0) return fail('users_list_not_supplied');
    if (users.some((u: string) => !/^[UW][A-Z0-9]{2,}$/.test(u))) return fail('user_not_found');
    if (users.length === 1) {
      const alreadyOpen = this.imByUser.has(users[0] as string);
      const id = this.imChannelFor(users[0] as string);
      return ok({ no_op: alreadyOpen, already_open: alreadyOpen, channel: { id } });
    }
    const id = randomId('G');
    this.channels.set(id, { id, name: `mpdm-${users.join('--').toLowerCase()}`, isPrivate: true, isMember: true });
    return ok({ channel: { id } });
  }

  private conversationsInfo(args: Json): ApiResult {
    const channel = typeof args.channel === 'string' ? this.channel(args.channel) : undefined;
    if (!channel || (channel.isPrivate && !channel.isMember)) return fail('channel_not_found');
    const isIm = channel.imUser !== undefined;
    return ok({
      channel: {
        id: channel.id,
        name: channel.name,
        is_channel: !isIm && !channel.isPrivate,
        is_group: !isIm && channel.isPrivate,
        is_im: isIm,
        is_mpim: false,
        is_private: channel.isPrivate,
        is_archived: false,
        is_general: channel.name === 'general',
        is_member: channel.isMember,
        created: 1700000000,
        ...(isIm ? { user: channel.imUser } : {}),
      },
    });
  }

  private viewsOpen(args: Json): ApiResult {
    const problem = this.checkView('modal', args.view);
    if (problem) return problem;
    if (this.externalIdTaken(args.view.external_id)) return fail('duplicate_external_id');
    const trigger = this.redeemTrigger(args.trigger_id ?? args.interactivity_pointer);
    if (typeof trigger === 'string') return fail(trigger);
    trigger.used = true;
    const stored = this.createView(args.view, 'modal', trigger.userId ?? DEFAULT_USER_ID);
    return ok({ view: stored.view });
  }

  private viewsPush(args: Json): ApiResult {
    const problem = this.checkView('modal', args.view);
    if (problem) return problem;
    if (this.externalIdTaken(args.view.external_id)) return fail('duplicate_external_id');
    const trigger = this.redeemTrigger(args.trigger_id ?? args.interactivity_pointer);
    if (typeof trigger === 'string') return fail(trigger);
    const fromView = trigger.viewId ? this.views.get(trigger.viewId) : undefined;
    const parent =
      fromView && !fromView.closed ? fromView : this.openModals(trigger.userId ?? DEFAULT_USER_ID).at(-1);
    if (!parent) return fail('invalid_trigger_id');
    if (this.stackDepth(parent) >= MAX_VIEW_STACK) return fail('push_limit_reached');
    trigger.used = true;
    const stored = this.createView(args.view, 'modal', parent.userId, parent);
    return ok({ view: stored.view });
  }

  private viewsUpdate(args: Json): ApiResult {
    const byId = typeof args.view_id === 'string' && args.view_id !== '' ? this.views.get(args.view_id) : undefined;
    const byExternal =
      typeof args.external_id === 'string' && args.external_id !== ''
        ? [...this.views.values()].find((v) => v.view.external_id === args.external_id)
        : undefined;
    if (!args.view_id && !args.external_id) return fail('invalid_arguments', { errors: ['view_id or external_id is required'] });
    const stored = byId ?? byExternal;
    if (!stored || stored.closed) return fail('not_found');
    const problem = this.checkView(stored.type, args.view);
    if (problem) return problem;
    if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== stored.view.hash) return fail('hash_conflict');
    this.replaceView(stored, args.view);
    return ok({ view: stored.view });
  }

  private viewsPublish(args: Json): ApiResult {
    if (typeof args.user_id !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(args.user_id)) return fail('invalid_arguments');
    const problem = this.checkView('home', args.view);
    if (problem) return problem;
    const existing = this.homeView(args.user_id);
    if (existing) {
      if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== existing.view.hash) return fail('hash_conflict');
      this.replaceView(existing, args.view);
      return ok({ view: existing.view });
    }
    const stored = this.createView(args.view, 'home', args.user_id);
    this.homeViewByUser.set(args.user_id, stored.id);
    return ok({ view: stored.view });
  }

  private messageProblems(args: Json): ApiResult | undefined {
    const hasContent =
      (typeof args.text === 'string' && args.text !== '') ||
      (Array.isArray(args.blocks) && args.blocks.length > 0) ||
      (Array.isArray(args.attachments) && args.attachments.length > 0);
    if (!hasContent) return fail('no_text');
    if (typeof args.text === 'string' && args.text.length > 40_000) return fail('msg_too_long');
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return fail('invalid_blocks_format');
    const problems = checkBlockKit('message', { text: args.text, blocks: args.blocks, attachments: args.attachments });
    return problems.length > 0 ? invalidBlocks(problems) : undefined;
  }

  private chatPostMessage(args: Json): ApiResult {
    const channel = this.resolvePostChannel(args.channel, 'post');
    if (typeof channel !== 'string') return channel;
    const problem = this.messageProblems(args);
    if (problem) return problem;
    const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
    if (threadTs && !this.findMessage(channel, threadTs)) return fail('thread_not_found');
    const message = this.storeMessage({
      channel,
      text: args.text,
      blocks: args.blocks,
      attachments: args.attachments,
      metadata: args.metadata,
      threadTs,
    });
    return ok({ channel, ts: message.ts, message: this.messageJson(message) });
  }

  private chatPostEphemeral(args: Json): ApiResult {
    const channel = this.resolvePostChannel(args.channel, 'post');
    if (typeof channel !== 'string') return channel;
    if (typeof args.user !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(args.user)) return fail('user_not_found');
    const problem = this.messageProblems(args);
    if (problem) return problem;
    const message = this.storeMessage({
      channel,
      text: args.text,
      blocks: args.blocks,
      attachments: args.attachments,
      ephemeral: true,
      user: args.user,
      threadTs: args.thread_ts,
    });
    return ok({ message_ts: message.ts });
  }

  private chatUpdate(args: Json): ApiResult {
    const channel = this.resolvePostChannel(args.channel, 'read');
    if (typeof channel !== 'string') return channel;
    const message = typeof args.ts === 'string' ? this.findMessage(channel, args.ts) : undefined;
    if (!message || message.ephemeral) return fail('message_not_found');
    const problem = this.messageProblems({
      text: args.text ?? message.text,
      blocks: args.blocks ?? message.blocks,
      attachments: args.attachments ?? message.attachments,
    });
    if (problem) return problem;
    this.updateMessage(message, { text: args.text, blocks: args.blocks, attachments: args.attachments });
    const json = this.messageJson(message);
    return ok({ channel, ts: message.ts, text: json.text, message: json });
  }

  private chatDelete(args: Json): ApiResult {
    const channel = this.resolvePostChannel(args.channel, 'read');
    if (typeof channel !== 'string') return channel;
    if (typeof args.ts !== 'string' || !this.deleteMessage(channel, args.ts)) return fail('message_not_found');
    return ok({ channel, ts: args.ts });
  }

  // ---------------------------------------------------------------- response_url

  private handleResponseUrl(url: URL, contentType: string | undefined, raw: string, res: ServerResponse): void {
    const at = Date.now();
    const context = this.responseUrls.get(url.pathname) as ResponseUrlContext;
    let body: Json;
    try {
      body = contentType?.includes('application/json')
        ? (JSON.parse(raw) as Json)
        : (JSON.parse(String(parseQueryString(raw).payload ?? '{}')) as Json);
    } catch {
      this.responses.push({ url: url.href, body: { raw }, at, error: 'invalid_payload' });
      sendJson(res, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    const post: ResponseUrlPost = { url: url.href, body, at };
    this.responses.push(post);
    const rejectWith = (error: string, extra: Json = {}) => {
      post.error = error;
      sendJson(res, 400, { ok: false, error, ...extra });
    };

    if (body.delete_original === true || body.delete_original === 'true') {
      if (context.messageTs) this.deleteMessage(context.channelId, context.messageTs);
      sendJson(res, 200, { ok: true });
      return;
    }
    const problem = this.messageProblems(body);
    if (problem) return rejectWith(problem.error as string, problem.errors ? { errors: problem.errors } : {});

    const replace = body.replace_original === true || body.replace_original === 'true';
    const originalTs = context.messageTs ?? context.postedTs;
    const original = replace && originalTs ? this.findMessage(context.channelId, originalTs) : undefined;
    if (original) {
      this.updateMessage(original, { text: body.text, blocks: body.blocks, attachments: body.attachments });
    } else {
      const inChannel = body.response_type === 'in_channel';
      const posted = this.storeMessage({
        channel: context.channelId,
        text: body.text,
        blocks: body.blocks,
        attachments: body.attachments,
        threadTs: body.thread_ts,
        ...(inChannel ? {} : { ephemeral: true, user: context.userId }),
      });
      context.postedTs = posted.ts;
    }
    sendJson(res, 200, { ok: true });
  }

  // ---------------------------------------------------------------- socket mode

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const ticket = url.searchParams.get('ticket');
    if (this.closed || url.pathname !== '/link/' || !ticket || !this.tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

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

  sendEnvelope(
    type: EnvelopeType,
    payload: object,
    opts: { envelopeId?: string; retryAttempt?: number; retryReason?: string } = {},
  ): Promise<AckResult> {
    return this.deliver(type, payload as Json, opts);
  }

  /** Sends one envelope; `onAck` runs as soon as the ack frame arrives (before the app's next API call) and may throw to fail the delivery. */
  private deliver(
    type: EnvelopeType,
    payload: Json,
    opts: { envelopeId?: string; retryAttempt?: number; retryReason?: string },
    onAck?: (ackPayload: Json | undefined) => void,
  ): Promise<AckResult> {
    const description = describePayload(type, payload);
    const connection = this.liveConnections().at(-1);
    if (!connection) {
      return Promise.reject(
        new Error(`Slack stand-in: no socket-mode connection to deliver ${description} to (start the app / await waitForConnection() first)`),
      );
    }
    const envelopeId = opts.envelopeId ?? randomUUID();
    if (this.pendingAcks.has(envelopeId)) {
      return Promise.reject(new Error(`Slack stand-in: envelope ${envelopeId} is already awaiting its ack`));
    }
    const acceptsResponsePayload =
      type === 'slash_commands' || (type === 'interactive' && ['view_submission', 'block_suggestion'].includes(payload.type));
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
            `Slack stand-in: the app did not ack ${description} (envelope ${envelopeId}) within ${this.ackTimeoutMs} ms — Slack would show the user an error`,
          ),
        );
      }, this.ackTimeoutMs);
      this.pendingAcks.set(envelopeId, { record, timer, onAck, resolve, reject });
      connection.ws.send(JSON.stringify(frame));
    });
  }

  // ---------------------------------------------------------------- user actions

  async slashCommand(a: SlashCommandInput): Promise<AckResult & { triggerId: string; responseUrl: string }> {
    const userId = a.userId ?? DEFAULT_USER_ID;
    const channelId = a.channelId ?? DEFAULT_CHANNEL_ID;
    const channel = this.channel(channelId) ?? this.channels.get(this.imChannelFor(userId));
    const triggerId = this.issueTrigger({ userId });
    const responseUrl = this.issueResponseUrl('commands', { channelId, userId });
    const payload = {
      token: 'standin-verification-token',
      team_id: this.teamId,
      team_domain: this.teamDomain,
      channel_id: channelId,
      channel_name: channel?.imUser ? 'directmessage' : (channel?.name ?? channelId),
      user_id: userId,
      user_name: this.user(userId).name,
      command: a.command,
      text: a.text ?? '',
      api_app_id: this.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    };
    const result = await this.deliver('slash_commands', payload, { envelopeId: a.envelopeId }, (ack) =>
      this.applyCommandAck(ack, channelId, userId),
    );
    return { ...result, triggerId, responseUrl };
  }

  /** An ack carrying a message is shown to the user like a response_url post. */
  private applyCommandAck(ack: Json | undefined, channelId: string, userId: string): void {
    if (!ack || (ack.text === undefined && ack.blocks === undefined)) return;
    const problem = this.messageProblems(ack);
    if (problem) {
      throw new Error(`Slack stand-in: slash command ack message rejected (${problem.error}): ${(problem.errors ?? []).join('; ')}`);
    }
    this.storeMessage({
      channel: channelId,
      text: ack.text,
      blocks: ack.blocks,
      ...(ack.response_type === 'in_channel' ? {} : { ephemeral: true, user: userId }),
    });
  }

  private requireView(viewId: string, type?: 'modal' | 'home'): StoredView {
    const stored = this.views.get(viewId);
    if (!stored) throw new Error(`Slack stand-in: unknown view ${viewId}`);
    if (type && stored.type !== type) throw new Error(`Slack stand-in: view ${viewId} is a ${stored.type}, not a ${type}`);
    if (stored.closed) throw new Error(`Slack stand-in: view ${viewId} is closed; the user can no longer interact with it`);
    return stored;
  }

  /** Records the user's inputs; an unknown action_id or option value throws and records nothing. */
  private recordInputs(stored: StoredView, values: Record<string, ElementInput>): void {
    const inputActionIds = new Set(interactiveElements(stored.view.blocks).filter((e) => e.inInput).map((e) => e.actionId));
    const unknown = Object.keys(values).filter((actionId) => !inputActionIds.has(actionId));
    if (unknown.length > 0) {
      throw new Error(
        `Slack stand-in: view ${stored.id} has no input element with action_id ${unknown.map((id) => JSON.stringify(id)).join(', ')} (inputs: ${JSON.stringify([...inputActionIds])})`,
      );
    }
    const merged = new Map(this.viewInputs.get(stored.id));
    for (const [actionId, value] of Object.entries(values)) merged.set(actionId, value);
    buildStateValues(stored.view.blocks, merged);
    this.viewInputs.set(stored.id, merged);
  }

  async submitView(a: SubmitViewInput): Promise<AckResult> {
    const stored = this.requireView(a.viewId, 'modal');
    const userId = a.userId ?? stored.userId;
    this.recordInputs(stored, a.values);
    const view = this.viewWithState(stored);
    const payload = {
      type: 'view_submission',
      team: this.teamRef(),
      user: this.userRef(userId),
      api_app_id: this.appId,
      token: 'standin-verification-token',
      trigger_id: this.issueTrigger({ userId, viewId: stored.id }),
      view,
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    return this.deliver('interactive', payload, { envelopeId: a.envelopeId }, (ack) => this.applySubmissionAck(stored, ack));
  }

  private applySubmissionAck(stored: StoredView, ack: Json | undefined): void {
    const action = ack?.response_action;
    if (action === undefined) {
      this.closeModal(stored, false);
      return;
    }
    if (action === 'clear') {
      this.closeModal(stored, true);
      return;
    }
    if (action === 'errors') {
      const errors = ack?.errors;
      if (!isRecord(errors) || Object.keys(errors).length === 0) {
        throw new Error('Slack stand-in: response_action "errors" needs a non-empty errors object');
      }
      const inputBlockIds = new Set(interactiveElements(stored.view.blocks).filter((e) => e.inInput).map((e) => e.blockId));
      const unknown = Object.keys(errors).filter((blockId) => !inputBlockIds.has(blockId));
      if (unknown.length > 0) {
        throw new Error(
          `Slack stand-in: response_action "errors" names block_ids that are not input blocks of view ${stored.id}: ${unknown.join(', ')} (input blocks: ${[...inputBlockIds].join(', ')})`,
        );
      }
      stored.errors = errors as Record<string, string>;
      return;
    }
    if (action === 'update' || action === 'push') {
      const problem = this.checkView('modal', ack?.view);
      if (problem) {
        throw new Error(
          `Slack stand-in: response_action "${action}" view rejected (${problem.error}): ${(problem.errors ?? []).join('; ')}`,
        );
      }
      if (action === 'update') {
        this.replaceView(stored, ack?.view);
        return;
      }
      if (this.stackDepth(stored) >= MAX_VIEW_STACK) throw new Error('Slack stand-in: response_action "push" exceeds 3 stacked views');
      this.createView(ack?.view, 'modal', stored.userId, stored);
      return;
    }
    throw new Error(`Slack stand-in: unknown response_action ${JSON.stringify(action)}`);
  }

  async blockAction(a: BlockActionInput): Promise<AckResult & { triggerId: string; responseUrl?: string }> {
    const input: ElementInput | undefined = a.selectedOptions ?? a.selectedOption ?? a.value;
    const actionTs = this.nextTs();
    if (a.viewId) {
      const stored = this.requireView(a.viewId);
      const userId = a.userId ?? stored.userId;
      const located = findElement(stored.view.blocks, a.actionId, a.blockId);
      if (!located) throw new Error(`Slack stand-in: view ${a.viewId} has no element with action_id ${JSON.stringify(a.actionId)}`);
      if (a.values) this.recordInputs(stored, a.values);
      if (located.inInput && input !== undefined) this.recordInputs(stored, { [a.actionId]: input });
      const action = buildAction(located, input, actionTs);
      const triggerId = this.issueTrigger({ userId, viewId: stored.id });
      const payload = {
        type: 'block_actions',
        user: this.userRef(userId),
        api_app_id: this.appId,
        token: 'standin-verification-token',
        container: { type: 'view', view_id: stored.id },
        trigger_id: triggerId,
        team: this.teamRef(),
        enterprise: null,
        is_enterprise_install: false,
        view: this.viewWithState(stored),
        actions: [action],
      };
      const result = await this.deliver('interactive', payload, { envelopeId: a.envelopeId });
      return { ...result, triggerId };
    }
    if (!a.channelId || !a.messageTs) {
      throw new Error('Slack stand-in: blockAction needs viewId, or channelId and messageTs');
    }
    const message = this.findMessage(a.channelId, a.messageTs);
    if (!message) throw new Error(`Slack stand-in: no message ${a.messageTs} in ${a.channelId}`);
    const userId = a.userId ?? message.user ?? DEFAULT_USER_ID;
    const located = findElement(message.blocks, a.actionId, a.blockId);
    if (!located) {
      throw new Error(`Slack stand-in: message ${a.messageTs} has no element with action_id ${JSON.stringify(a.actionId)}`);
    }
    const action = buildAction(located, input, actionTs);
    const triggerId = this.issueTrigger({ userId });
    const responseUrl = this.issueResponseUrl('actions', { channelId: a.channelId, userId, messageTs: message.ts });
    const channel = this.channel(a.channelId);
    const payload = {
      type: 'block_actions',
      user: this.userRef(userId),
      api_app_id: this.appId,
      token: 'standin-verification-token',
      container: { type: 'message', message_ts: message.ts, channel_id: a.channelId, is_ephemeral: message.ephemeral === true },
      trigger_id: triggerId,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: a.channelId, name: channel?.imUser ? 'directmessage' : (channel?.name ?? a.channelId) },
      message: this.messageJson(message),
      state: { values: {} },
      response_url: responseUrl,
      actions: [action],
    };
    const result = await this.deliver('interactive', payload, { envelopeId: a.envelopeId });
    return { ...result, triggerId, responseUrl };
  }

  async blockSuggestion(a: BlockSuggestionInput): Promise<AckResult> {
    const stored = this.requireView(a.viewId);
    const located = findElement(stored.view.blocks, a.actionId);
    if (!located || !String(located.element.type).endsWith('external_select')) {
      throw new Error(`Slack stand-in: view ${a.viewId} has no external select with action_id ${JSON.stringify(a.actionId)}`);
    }
    const userId = a.userId ?? stored.userId;
    const payload = {
      type: 'block_suggestion',
      user: this.userRef(userId),
      container: { type: 'view', view_id: stored.id },
      api_app_id: this.appId,
      token: 'standin-verification-token',
      action_id: a.actionId,
      block_id: located.blockId,
      value: a.value,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      view: this.viewWithState(stored),
    };
    return this.deliver('interactive', payload, { envelopeId: a.envelopeId }, (ack) => {
      const problems = checkOptionsResponse(ack ?? {});
      if (problems.length > 0) throw new Error(`Slack stand-in: options ack rejected: ${problems.join('; ')}`);
    });
  }

  async shortcut(a: ShortcutInput): Promise<AckResult & { triggerId: string }> {
    const userId = a.userId ?? DEFAULT_USER_ID;
    const triggerId = this.issueTrigger({ userId });
    const payload = {
      type: 'shortcut',
      token: 'standin-verification-token',
      action_ts: this.nextTs(),
      team: this.teamRef(),
      user: this.userRef(userId),
      is_enterprise_install: false,
      enterprise: null,
      callback_id: a.callbackId,
      trigger_id: triggerId,
    };
    const result = await this.deliver('interactive', payload, { envelopeId: a.envelopeId });
    return { ...result, triggerId };
  }

  appHomeOpened(userId: string): Promise<AckResult> {
    const now = this.nextTs();
    const home = this.homeView(userId);
    const payload = {
      token: 'standin-verification-token',
      team_id: this.teamId,
      api_app_id: this.appId,
      event: {
        type: 'app_home_opened',
        user: userId,
        channel: this.imChannelFor(userId),
        tab: 'home',
        event_ts: now,
        ...(home ? { view: home.view } : {}),
      },
      type: 'event_callback',
      event_id: randomId('Ev'),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [
        { enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false },
      ],
      is_ext_shared_channel: false,
    };
    return this.deliver('events_api', payload, {});
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

  async close(): Promise<void> {
    if (this.closed) return;
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
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** Starts a Slack stand-in on an ephemeral 127.0.0.1 port. Close it in afterAll/afterEach. */
export async function startSlackStandIn(opts: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const standIn = new SlackStandInServer(opts);
  await standIn.listen();
  return standIn;
}
