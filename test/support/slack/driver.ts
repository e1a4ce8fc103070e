// What tests do as Slack users: slash commands, view submissions, block actions, option
// suggestions, shortcuts and opening the Home tab, each sent as the envelope Slack sends and
// its ack applied as Slack applies it (messages shown, modals closed, updated or pushed).
import { type ApiResult, messageProblems, viewProblems } from './api-result';
import { checkOptionsResponse } from './block-kit';
import { isRecord, type Json } from './json';
import type { ResponseUrls } from './response-urls';
import type { AckResult, SocketModeLink } from './socket';
import { type ChannelRecord, DEFAULT_CHANNEL_ID, DEFAULT_USER_ID, randomId, type Workspace } from './state';
import { buildAction, type ElementInput, findElement, interactiveElements } from './view-state';
import type { StoredView, ViewStore } from './views';

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
  /**
   * Holds delivery until this settles, the payload built now: an action that left Slack before an
   * earlier redraw or message edit landed, so it carries the old hash, state or blocks.
   */
  deliverAfter?: Promise<unknown>;
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

function rejection(what: string, problem: ApiResult): Error {
  return new Error(`Slack stand-in: ${what} rejected (${problem.error}): ${(problem.errors ?? []).join('; ')}`);
}

function channelName(channel: ChannelRecord | undefined, channelId: string): string {
  return channel?.imUser ? 'directmessage' : (channel?.name ?? channelId);
}

export class SlackUsers {
  constructor(
    private readonly workspace: Workspace,
    private readonly views: ViewStore,
    private readonly responseUrls: ResponseUrls,
    private readonly link: SocketModeLink,
  ) {}

  async slashCommand(a: SlashCommandInput): Promise<AckResult & { triggerId: string; responseUrl: string }> {
    const { workspace } = this;
    const userId = a.userId ?? DEFAULT_USER_ID;
    const channelId = a.channelId ?? DEFAULT_CHANNEL_ID;
    const channel = workspace.channel(channelId) ?? workspace.channel(workspace.imChannelFor(userId));
    const triggerId = workspace.issueTrigger({ userId });
    const responseUrl = this.responseUrls.issue('commands', { channelId, userId });
    const payload = {
      token: 'standin-verification-token',
      team_id: workspace.teamId,
      team_domain: workspace.teamDomain,
      channel_id: channelId,
      channel_name: channelName(channel, channelId),
      user_id: userId,
      user_name: workspace.user(userId).name,
      command: a.command,
      text: a.text ?? '',
      api_app_id: workspace.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    };
    const result = await this.link.deliver('slash_commands', payload, { envelopeId: a.envelopeId }, (ack) =>
      this.applyCommandAck(ack, channelId, userId),
    );
    return { ...result, triggerId, responseUrl };
  }

  async submitView(a: SubmitViewInput): Promise<AckResult> {
    const stored = this.requireView(a.viewId, 'modal');
    const userId = a.userId ?? stored.userId;
    this.views.recordInputs(stored, await this.chooseExternalOptions(stored, a.values, userId));
    const view = this.views.withState(stored);
    const payload = {
      type: 'view_submission',
      team: this.teamRef(),
      user: this.userRef(userId),
      api_app_id: this.workspace.appId,
      token: 'standin-verification-token',
      trigger_id: this.workspace.issueTrigger({ userId, viewId: stored.id }),
      view,
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    return this.link.deliver('interactive', payload, { envelopeId: a.envelopeId }, (ack) =>
      this.applySubmissionAck(stored, ack),
    );
  }

  async blockAction(a: BlockActionInput): Promise<AckResult & { triggerId: string; responseUrl?: string }> {
    const { workspace } = this;
    const input: ElementInput | undefined = a.selectedOptions ?? a.selectedOption ?? a.value;
    const actionTs = workspace.nextTs();
    if (a.viewId) {
      const stored = this.requireView(a.viewId);
      const userId = a.userId ?? stored.userId;
      const located = findElement(stored.view.blocks, a.actionId, a.blockId);
      if (!located) {
        throw new Error(`Slack stand-in: view ${a.viewId} has no element with action_id ${JSON.stringify(a.actionId)}`);
      }
      if (a.values) this.views.recordInputs(stored, await this.chooseExternalOptions(stored, a.values, userId));
      const chosen =
        input === undefined
          ? undefined
          : (await this.chooseExternalOptions(stored, { [a.actionId]: input }, userId))[a.actionId];
      if (located.inInput && chosen !== undefined) this.views.recordInputs(stored, { [a.actionId]: chosen });
      const action = buildAction(located, chosen, actionTs);
      const triggerId = workspace.issueTrigger({ userId, viewId: stored.id });
      const payload = {
        type: 'block_actions',
        user: this.userRef(userId),
        api_app_id: workspace.appId,
        token: 'standin-verification-token',
        container: { type: 'view', view_id: stored.id },
        trigger_id: triggerId,
        team: this.teamRef(),
        enterprise: null,
        is_enterprise_install: false,
        view: this.views.withState(stored),
        actions: [action],
      };
      await a.deliverAfter;
      const result = await this.link.deliver('interactive', payload, { envelopeId: a.envelopeId });
      return { ...result, triggerId };
    }
    if (!a.channelId || !a.messageTs) {
      throw new Error('Slack stand-in: blockAction needs viewId, or channelId and messageTs');
    }
    const message = workspace.findMessage(a.channelId, a.messageTs);
    if (!message) throw new Error(`Slack stand-in: no message ${a.messageTs} in ${a.channelId}`);
    const userId = a.userId ?? message.user ?? DEFAULT_USER_ID;
    const located = findElement(message.blocks, a.actionId, a.blockId);
    if (!located) {
      throw new Error(
        `Slack stand-in: message ${a.messageTs} has no element with action_id ${JSON.stringify(a.actionId)}`,
      );
    }
    const action = buildAction(located, input, actionTs);
    const triggerId = workspace.issueTrigger({ userId });
    const responseUrl = this.responseUrls.issue('actions', { channelId: a.channelId, userId, messageTs: message.ts });
    const channel = workspace.channel(a.channelId);
    const payload = {
      type: 'block_actions',
      user: this.userRef(userId),
      api_app_id: workspace.appId,
      token: 'standin-verification-token',
      container: {
        type: 'message',
        message_ts: message.ts,
        channel_id: a.channelId,
        is_ephemeral: message.ephemeral === true,
      },
      trigger_id: triggerId,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: a.channelId, name: channelName(channel, a.channelId) },
      message: workspace.messageJson(message),
      state: { values: {} },
      response_url: responseUrl,
      actions: [action],
    };
    await a.deliverAfter;
    const result = await this.link.deliver('interactive', payload, { envelopeId: a.envelopeId });
    return { ...result, triggerId, responseUrl };
  }

  async blockSuggestion(a: BlockSuggestionInput): Promise<AckResult> {
    const stored = this.requireView(a.viewId);
    const located = findElement(stored.view.blocks, a.actionId);
    if (!located || !String(located.element.type).endsWith('external_select')) {
      throw new Error(
        `Slack stand-in: view ${a.viewId} has no external select with action_id ${JSON.stringify(a.actionId)}`,
      );
    }
    // Slack asks only once the user has typed min_query_length characters (default 3).
    const minQueryLength = located.element.min_query_length ?? 3;
    if (a.value.length < minQueryLength) {
      throw new Error(
        `Slack stand-in: Slack sends no block_suggestion for ${JSON.stringify(a.value)}: ` +
          `${JSON.stringify(a.actionId)} has min_query_length ${minQueryLength}`,
      );
    }
    const userId = a.userId ?? stored.userId;
    const payload = {
      type: 'block_suggestion',
      user: this.userRef(userId),
      container: { type: 'view', view_id: stored.id },
      api_app_id: this.workspace.appId,
      token: 'standin-verification-token',
      action_id: a.actionId,
      block_id: located.blockId,
      value: a.value,
      team: this.teamRef(),
      enterprise: null,
      is_enterprise_install: false,
      view: this.views.withState(stored),
    };
    return this.link.deliver('interactive', payload, { envelopeId: a.envelopeId }, (ack) => {
      const problems = checkOptionsResponse(ack ?? {});
      if (problems.length > 0) throw new Error(`Slack stand-in: options ack rejected: ${problems.join('; ')}`);
      const offered: Json[] = [
        ...(Array.isArray(ack?.options) ? ack.options : []),
        ...(Array.isArray(ack?.option_groups) ? ack.option_groups.flatMap((g: Json) => g.options ?? []) : []),
      ];
      stored.suggestions ??= new Map();
      stored.suggestions.set(a.actionId, structuredClone(offered));
    });
  }

  /**
   * A user picks an external select's option from what the app suggested: an option value given for
   * one is looked up in the latest suggestions (or the initial option); when it is not there, the
   * user types the value first (a block_suggestion) and picks the option with that value.
   */
  private async chooseExternalOptions(
    stored: StoredView,
    values: Record<string, ElementInput>,
    userId: string,
  ): Promise<Record<string, ElementInput>> {
    const out: Record<string, ElementInput> = { ...values };
    for (const [actionId, input] of Object.entries(values)) {
      const located = findElement(stored.view.blocks, actionId);
      if (located?.element.type !== 'external_select' || input === null) continue;
      const value =
        typeof input === 'string'
          ? input
          : Array.isArray(input)
            ? input[0]
            : 'selected_option' in input
              ? input.selected_option
              : undefined;
      if (value === undefined) continue;
      const find = () =>
        [located.element.initial_option, ...(stored.suggestions?.get(actionId) ?? [])].find(
          (o: Json | undefined) => o?.value === value,
        );
      if (!find()) await this.blockSuggestion({ viewId: stored.id, actionId, value, userId });
      const option = find();
      if (!option) {
        const offered = (stored.suggestions?.get(actionId) ?? []).map((o) => o.value);
        throw new Error(
          `Slack stand-in: after typing ${JSON.stringify(value)} into ${JSON.stringify(actionId)} the app offered ` +
            `no option with that value (offered: ${JSON.stringify(offered)})`,
        );
      }
      out[actionId] = { chosen_option: structuredClone(option) };
    }
    return out;
  }

  async shortcut(a: ShortcutInput): Promise<AckResult & { triggerId: string }> {
    const userId = a.userId ?? DEFAULT_USER_ID;
    const triggerId = this.workspace.issueTrigger({ userId });
    const payload = {
      type: 'shortcut',
      token: 'standin-verification-token',
      action_ts: this.workspace.nextTs(),
      team: this.teamRef(),
      user: this.userRef(userId),
      is_enterprise_install: false,
      enterprise: null,
      callback_id: a.callbackId,
      trigger_id: triggerId,
    };
    const result = await this.link.deliver('interactive', payload, { envelopeId: a.envelopeId });
    return { ...result, triggerId };
  }

  appHomeOpened(userId: string): Promise<AckResult> {
    const { workspace } = this;
    const now = workspace.nextTs();
    const home = this.views.homeView(userId);
    const payload = {
      token: 'standin-verification-token',
      team_id: workspace.teamId,
      api_app_id: workspace.appId,
      event: {
        type: 'app_home_opened',
        user: userId,
        channel: workspace.imChannelFor(userId),
        tab: 'home',
        event_ts: now,
        ...(home ? { view: home.view } : {}),
      },
      type: 'event_callback',
      event_id: randomId('Ev'),
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [
        {
          enterprise_id: null,
          team_id: workspace.teamId,
          user_id: workspace.botUserId,
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
    };
    return this.link.deliver('events_api', payload, {});
  }

  /** An ack carrying a message is shown to the user like a response_url post. */
  private applyCommandAck(ack: Json | undefined, channelId: string, userId: string): void {
    if (!ack || (ack.text === undefined && ack.blocks === undefined)) return;
    const problem = messageProblems(ack);
    if (problem) throw rejection('slash command ack message', problem);
    this.workspace.storeMessage({
      channel: channelId,
      text: ack.text,
      blocks: ack.blocks,
      ...(ack.response_type === 'in_channel' ? {} : { ephemeral: true, user: userId }),
    });
  }

  private applySubmissionAck(stored: StoredView, ack: Json | undefined): void {
    const action = ack?.response_action;
    if (action === undefined) {
      this.views.close(stored, false);
      return;
    }
    if (action === 'clear') {
      this.views.close(stored, true);
      return;
    }
    if (action === 'errors') {
      const errors = ack?.errors;
      if (!isRecord(errors) || Object.keys(errors).length === 0) {
        throw new Error('Slack stand-in: response_action "errors" needs a non-empty errors object');
      }
      const inputBlockIds = new Set(
        interactiveElements(stored.view.blocks)
          .filter((e) => e.inInput)
          .map((e) => e.blockId),
      );
      const unknown = Object.keys(errors).filter((blockId) => !inputBlockIds.has(blockId));
      if (unknown.length > 0) {
        throw new Error(
          `Slack stand-in: response_action "errors" names block_ids that are not input blocks of view ${stored.id}: ` +
            `${unknown.join(', ')} (input blocks: ${[...inputBlockIds].join(', ')})`,
        );
      }
      stored.errors = errors as Record<string, string>;
      return;
    }
    if (action === 'update' || action === 'push') {
      const problem = viewProblems('modal', ack?.view);
      if (problem) throw rejection(`response_action "${action}" view`, problem);
      if (action === 'update') {
        this.views.replace(stored, ack?.view);
        return;
      }
      if (this.views.stackFull(stored)) {
        throw new Error('Slack stand-in: response_action "push" exceeds 3 stacked views');
      }
      this.views.create(ack?.view, 'modal', stored.userId, stored);
      return;
    }
    throw new Error(`Slack stand-in: unknown response_action ${JSON.stringify(action)}`);
  }

  private requireView(viewId: string, type?: 'modal' | 'home'): StoredView {
    const stored = this.views.byId.get(viewId);
    if (!stored) throw new Error(`Slack stand-in: unknown view ${viewId}`);
    if (type && stored.type !== type) {
      throw new Error(`Slack stand-in: view ${viewId} is a ${stored.type}, not a ${type}`);
    }
    if (stored.closed) {
      throw new Error(`Slack stand-in: view ${viewId} is closed; the user can no longer interact with it`);
    }
    return stored;
  }

  private userRef(id: string): Json {
    const user = this.workspace.user(id);
    return { id, username: user.name, name: user.name, team_id: this.workspace.teamId };
  }

  private teamRef(): Json {
    return { id: this.workspace.teamId, domain: this.workspace.teamDomain };
  }
}
