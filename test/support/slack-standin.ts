// A local Slack for end-to-end tests: the Web API over HTTP and the socket-mode WebSocket,
// close enough to real Slack that an unmodified @slack/bolt App (socket mode, with
// `clientOptions.slackApiUrl` pointing here) runs against it. It also enforces what real
// Slack enforces and tests tend to forget: 3-second single-use trigger_ids, Block Kit limits,
// acks within 3 seconds. Pattern: slackapi/node-slack-sdk socket-mode integration tests
// (a `ws` server + an `http` server). The parts live in ./slack/*; this file wires them up.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type BlockActionInput,
  type BlockSuggestionInput,
  type ShortcutInput,
  SlackUsers,
  type SlashCommandInput,
  type SubmitViewInput,
} from './slack/driver';
import { FileStore, type FileStoreOptions, type StandInFile } from './slack/files';
import type { Json } from './slack/json';
import { webApiMethods } from './slack/methods';
import { type ResponseUrlPost, ResponseUrls } from './slack/response-urls';
import { type AckResult, type EnvelopeRecord, type EnvelopeType, SocketModeLink } from './slack/socket';
import { type StandInChannel, type StandInUser, type StoredMessage, Workspace } from './slack/state';
import { type StoredView, ViewStore } from './slack/views';
import { type RecordedCall, WebApi } from './slack/web-api';

export { BLOCK_KIT_LIMITS, type BlockKitSurface, checkBlockKit, checkOptionsResponse } from './slack/block-kit';
export { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID } from './slack/state';
export type { ElementInput } from './slack/view-state';
export type {
  AckResult,
  BlockActionInput,
  BlockSuggestionInput,
  EnvelopeRecord,
  EnvelopeType,
  RecordedCall,
  ResponseUrlPost,
  ShortcutInput,
  SlashCommandInput,
  StandInChannel,
  StandInFile,
  StandInUser,
  StoredMessage,
  StoredView,
  SubmitViewInput,
};

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
  /** Uploads: an install without files:write, or files not yet usable in image blocks just after upload. */
  files?: FileStoreOptions;
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
  /** Files uploaded through files.getUploadURLExternal + completeUploadExternal (files.uploadV2), by id. */
  files: Map<string, StandInFile>;
  responses: ResponseUrlPost[];
  failNext(method: string, error: string, opts?: { status?: number; retryAfter?: number; times?: number }): void;
  /**
   * An outage: every Web API call whose method starts with one of `prefixes` answers `status` (default 500)
   * until endOutage().
   */
  startOutage(prefixes: readonly string[], opts?: { status?: number }): void;
  endOutage(): void;
  setChannelMembership(channelId: string, isMember: boolean): void;
  addChannel(channel: StandInChannel): void;
  addUser(user: StandInUser): void;
  disconnectAll(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
  dropAll(): void;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** Starts a Slack stand-in on an ephemeral 127.0.0.1 port. Close it in afterAll/afterEach. */
export async function startSlackStandIn(opts: SlackStandInOptions = {}): Promise<SlackStandIn> {
  const server = createServer();
  const baseUrl = await listen(server);
  const workspace = new Workspace(opts);
  const views = new ViewStore(workspace);
  const link = new SocketModeLink({ baseUrl, appId: workspace.appId, ackTimeoutMs: opts.ackTimeoutMs });
  const files = new FileStore(baseUrl, opts.files);
  const responseUrls = new ResponseUrls(baseUrl, workspace, files);
  const api = new WebApi({
    baseUrl,
    botToken: opts.botToken,
    appToken: opts.appToken,
    methods: webApiMethods(workspace, views, link, files),
    responseUrls,
    files,
  });
  const users = new SlackUsers(workspace, views, responseUrls, link);
  server.on('request', (req, res) => api.serve(req, res));
  server.on('upgrade', (req, socket, head) => link.upgrade(req, socket, head));
  let closed = false;

  return {
    apiUrl: `${baseUrl}/api/`,
    botToken: api.botToken,
    appToken: api.appToken,
    teamId: workspace.teamId,
    appId: workspace.appId,
    botUserId: workspace.botUserId,
    botId: workspace.botId,
    calls: api.calls,
    callsTo: (method) => api.callsTo(method),
    waitForCall: (method, predicate, timeoutMs) => api.waitForCall(method, predicate, timeoutMs),
    waitForConnection: (timeoutMs) => link.waitForConnection(timeoutMs),
    connectionCount: () => link.connectionCount(),
    totalConnections: () => link.totalConnections(),
    envelopes: link.envelopes,
    sendEnvelope: (type, payload, envelopeOpts = {}) => link.deliver(type, payload as Json, envelopeOpts),
    slashCommand: (a) => users.slashCommand(a),
    submitView: (a) => users.submitView(a),
    blockAction: (a) => users.blockAction(a),
    blockSuggestion: (a) => users.blockSuggestion(a),
    shortcut: (a) => users.shortcut(a),
    appHomeOpened: (userId) => users.appHomeOpened(userId),
    issueTriggerId: (context) => workspace.issueTrigger(context),
    views: views.byId,
    homeView: (userId) => views.homeView(userId),
    openModals: (userId) => views.openModals(userId),
    messages: (channel) => workspace.messages(channel),
    files: files.byId,
    responses: responseUrls.posts,
    failNext: (method, error, failOpts) => api.failNext(method, error, failOpts),
    startOutage: (prefixes, outageOpts) => api.startOutage(prefixes, outageOpts),
    endOutage: () => api.endOutage(),
    setChannelMembership: (channelId, isMember) => workspace.setChannelMembership(channelId, isMember),
    addChannel: (channel) => workspace.addChannel(channel),
    addUser: (user) => workspace.addUser(user),
    disconnectAll: (reason) => link.disconnectAll(reason),
    dropAll: () => link.dropAll(),
    close: async () => {
      if (closed) return;
      closed = true;
      await link.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
