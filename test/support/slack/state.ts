// The workspace as Slack keeps it: the team and the app's bot user, users, channels and DMs,
// messages with every version, trigger_ids, and the message timestamps that also serve as ids.
import { randomBytes } from 'node:crypto';
import type { Json } from './json';

export const DEFAULT_USER_ID = 'U0TESTUSER';
export const DEFAULT_CHANNEL_ID = 'C0GENERAL';

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

export type ChannelRecord = Required<StandInChannel> & { imUser?: string };

export interface TriggerRecord {
  issuedAt: number;
  used: boolean;
  userId?: string;
  viewId?: string;
}

export interface WorkspaceOptions {
  teamId?: string;
  teamName?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  /** How long a trigger_id stays usable (Slack: 3 s). */
  triggerTtlMs?: number;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function randomId(prefix: string, length = 10): string {
  const bytes = randomBytes(length);
  let id = prefix;
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

export function randomDigits(length: number): string {
  let digits = '';
  for (const byte of randomBytes(length)) digits += String(byte % 10);
  return digits;
}

export class Workspace {
  readonly teamId: string;
  readonly teamName: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;

  private readonly triggerTtlMs: number;
  private readonly triggers = new Map<string, TriggerRecord>();
  private readonly users = new Map<string, StandInUser>();
  private readonly channels = new Map<string, ChannelRecord>();
  private readonly imByUser = new Map<string, string>();
  private readonly channelMessages = new Map<string, StoredMessage[]>();
  private lastTsMicros = 0n;

  constructor(opts: WorkspaceOptions) {
    this.teamId = opts.teamId ?? 'T0STANDIN';
    this.teamName = opts.teamName ?? 'Stand-in Team';
    this.teamDomain =
      this.teamName
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '') || 'standin';
    this.appId = opts.appId ?? 'A0STANDIN';
    this.botUserId = opts.botUserId ?? 'U0STANDINBOT';
    this.botId = opts.botId ?? 'B0STANDIN';
    this.triggerTtlMs = opts.triggerTtlMs ?? 3000;
    this.addChannel({ id: DEFAULT_CHANNEL_ID, name: 'general' });
    this.addUser({ id: DEFAULT_USER_ID, name: 'test.user', realName: 'Test User' });
    this.addUser({ id: this.botUserId, name: 'oms', realName: 'OMS', isBot: true });
  }

  // ---------------------------------------------------------------- ids

  nextTs(): string {
    const nowMicros = BigInt(Date.now()) * 1000n;
    this.lastTsMicros = nowMicros > this.lastTsMicros ? nowMicros : this.lastTsMicros + 1n;
    const seconds = this.lastTsMicros / 1_000_000n;
    const micros = this.lastTsMicros % 1_000_000n;
    return `${seconds}.${micros.toString().padStart(6, '0')}`;
  }

  issueTrigger(context: { userId?: string; viewId?: string } = {}): string {
    const id = `${randomDigits(11)}.${randomDigits(12)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: Date.now(), used: false, ...context });
    return id;
  }

  /** Slack's trigger rules: known, unused, younger than 3 s. Returns the error code or the trigger. */
  redeemTrigger(triggerId: unknown): string | TriggerRecord {
    if (typeof triggerId !== 'string' || triggerId.length === 0) return 'invalid_trigger_id';
    const trigger = this.triggers.get(triggerId);
    if (!trigger) return 'invalid_trigger_id';
    if (trigger.used) return 'exchanged_trigger_id';
    if (Date.now() - trigger.issuedAt > this.triggerTtlMs) return 'expired_trigger_id';
    return trigger;
  }

  // ---------------------------------------------------------------- users and channels

  addUser(user: StandInUser): void {
    this.users.set(user.id, user);
  }

  user(id: string): Required<StandInUser> {
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
  channel(id: string): ChannelRecord | undefined {
    const known = this.channels.get(id);
    if (known) return known;
    if (!/^[CGD][A-Z0-9]{2,}$/.test(id)) return undefined;
    this.addChannel({ id });
    return this.channels.get(id);
  }

  hasIm(userId: string): boolean {
    return this.imByUser.has(userId);
  }

  imChannelFor(userId: string): string {
    const existing = this.imByUser.get(userId);
    if (existing) return existing;
    const id = `D${userId.replace(/^[UW]/, '')}`;
    this.channels.set(id, { id, name: id, isPrivate: true, isMember: true, imUser: userId });
    this.imByUser.set(userId, id);
    return id;
  }

  /** A new multi-person DM with the app in it. */
  openGroupDm(users: string[]): string {
    const id = randomId('G');
    this.channels.set(id, { id, name: `mpdm-${users.join('--').toLowerCase()}`, isPrivate: true, isMember: true });
    return id;
  }

  // ---------------------------------------------------------------- messages

  messages(channel: string): StoredMessage[] {
    return [...(this.channelMessages.get(channel) ?? [])];
  }

  findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.messages(channel).find((message) => message.ts === ts);
  }

  storeMessage(message: Omit<StoredMessage, 'ts' | 'updates' | 'history'>): StoredMessage {
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

  updateMessage(message: StoredMessage, changes: { text?: string; blocks?: Json[]; attachments?: Json[] }): void {
    if (changes.text !== undefined) message.text = changes.text;
    if (changes.blocks !== undefined) message.blocks = changes.blocks;
    if (changes.attachments !== undefined) message.attachments = changes.attachments;
    message.updates += 1;
    message.history.push({ text: message.text, blocks: message.blocks });
  }

  deleteMessage(channel: string, ts: string): boolean {
    const list = this.channelMessages.get(channel);
    const index = list?.findIndex((message) => message.ts === ts) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    return true;
  }

  /** The message as Slack returns it: posted by the app's bot user. */
  messageJson(message: StoredMessage): Json {
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
}
