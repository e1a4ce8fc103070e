import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { type Logger, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  checkBlockKit,
  DEFAULT_CHANNEL_ID,
  DEFAULT_USER_ID,
  type SlackStandIn,
  startSlackStandIn,
} from './slack-standin';

// The stand-in answers like Slack, including `[ERROR]` response metadata that the client logs;
// tests that provoke errors on purpose keep that out of the output.
const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function webClient(standIn: SlackStandIn, token = standIn.botToken): WebClient {
  return new WebClient(token, {
    slackApiUrl: standIn.apiUrl,
    logger: silentLogger,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

const plain = (text: string) => ({ type: 'plain_text' as const, text });
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const option = (value: string, text = value.toUpperCase()) => ({ text: plain(text), value });

function orderModal(extra: Record<string, unknown> = {}) {
  return {
    type: 'modal' as const,
    callback_id: 'order_modal',
    private_metadata: JSON.stringify({ channel: 'C0GENERAL' }),
    title: plain('Place an order'),
    submit: plain('Submit'),
    close: plain('Cancel'),
    blocks: [
      {
        type: 'input',
        block_id: 'symbol',
        label: plain('Symbol'),
        element: { type: 'plain_text_input', action_id: 'symbol_input' },
      },
      {
        type: 'input',
        block_id: 'side',
        label: plain('Side'),
        element: {
          type: 'static_select',
          action_id: 'side_select',
          options: [option('buy'), option('sell')],
          initial_option: option('buy'),
        },
      },
      {
        type: 'input',
        block_id: 'quantity',
        label: plain('Quantity'),
        element: { type: 'number_input', action_id: 'quantity_input', is_decimal_allowed: true },
      },
      {
        type: 'input',
        block_id: 'tif',
        label: plain('Time in force'),
        element: { type: 'radio_buttons', action_id: 'tif_radio', options: [option('day'), option('gtc')] },
      },
      {
        type: 'input',
        block_id: 'flags',
        optional: true,
        label: plain('Flags'),
        element: {
          type: 'checkboxes',
          action_id: 'flags_checks',
          options: [option('extended_hours'), option('notify')],
        },
      },
      {
        type: 'input',
        block_id: 'portfolio',
        label: plain('Portfolio'),
        element: { type: 'external_select', action_id: 'portfolio_select', min_query_length: 0 },
      },
      {
        type: 'actions',
        block_id: 'tools',
        elements: [{ type: 'button', action_id: 'refresh_quote', text: plain('Refresh'), value: 'q' }],
      },
    ],
    ...extra,
  };
}

const manyBlocks = (n: number) => Array.from({ length: n }, (_, i) => section(`line ${i}`));

function startedApp(standIn: SlackStandIn, receiver?: SocketModeReceiver): App {
  const common = { token: standIn.botToken, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: standIn.apiUrl } };
  return receiver
    ? new App({ ...common, receiver })
    : new App({ ...common, appToken: standIn.appToken, socketMode: true });
}

describe('Slack stand-in with a real Bolt app in socket mode', () => {
  let standIn: SlackStandIn;
  let app: App;
  const submissions: Record<string, unknown>[] = [];
  const suggestionQueries: string[] = [];
  const homeRetryNums: (number | undefined)[] = [];

  beforeAll(async () => {
    standIn = await startSlackStandIn({ ackTimeoutMs: 1000 });
    app = startedApp(standIn);

    app.command('/trade', async ({ ack, body, client, respond }) => {
      await ack();
      if (body.text === 'quote') {
        await respond({ response_type: 'ephemeral', text: 'AAPL 189.42' });
        return;
      }
      await client.views.open({ trigger_id: body.trigger_id, view: orderModal() });
    });
    app.command('/portfolio', async ({ ack }) => {
      await ack({ text: 'Your portfolios', blocks: [section('*Default Portfolio*')] });
    });
    app.view('order_modal', async ({ ack, view }) => {
      submissions.push(view as unknown as Record<string, unknown>);
      const symbol = view.state.values.symbol?.symbol_input?.value;
      if (!symbol || !/^[A-Z]+$/.test(symbol)) {
        await ack({ response_action: 'errors', errors: { symbol: 'Unknown symbol' } });
        return;
      }
      await ack();
    });
    app.action('refresh_quote', async ({ ack, body, client }) => {
      await ack();
      if (body.type === 'block_actions' && body.view) {
        await client.views.update({
          view_id: body.view.id,
          hash: body.view.hash,
          view: orderModal({ private_metadata: 'refreshed' }),
        });
      }
    });
    app.action('approve', async ({ ack, respond }) => {
      await ack();
      await respond({ replace_original: true, text: 'Approved' });
    });
    app.options('portfolio_select', async ({ ack, body }) => {
      suggestionQueries.push(body.value);
      await ack({ options: [option('default', 'Default Portfolio'), option('growth', 'Growth')] });
    });
    app.view('wizard', async ({ ack, view }) => {
      const step = view.state.values.step?.step_input?.value;
      const next = (callback: string, blocks = [section(`after ${step}`)]) => ({
        type: 'modal' as const,
        callback_id: callback,
        title: plain('Wizard'),
        blocks,
      });
      if (step === 'update') await ack({ response_action: 'update', view: next('wizard_done') });
      else if (step === 'push') await ack({ response_action: 'push', view: next('wizard_pushed') });
      else if (step === 'oversized')
        await ack({ response_action: 'update', view: next('wizard_done', manyBlocks(101)) });
      else await ack({ response_action: 'clear' });
    });
    app.event('app_home_opened', async ({ event, client, context }) => {
      homeRetryNums.push(context.retryNum);
      await client.views.publish({
        user_id: event.user,
        view: { type: 'home', blocks: [section(`Hello <@${event.user}>`)] },
      });
    });

    await app.start();
    await standIn.waitForConnection();
  });

  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });

  it('greets the client with hello and records the socket-mode handshake calls', () => {
    expect(standIn.connectionCount()).toBe(1);
    expect(standIn.callsTo('apps.connections.open')).toHaveLength(1);
    expect(standIn.callsTo('auth.test').length).toBeGreaterThanOrEqual(1);
    expect(standIn.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
  });

  it(
    'delivers a slash command, records the ack timing, ' + 'and lets the app open a modal with the fresh trigger',
    async () => {
      const before = Date.now();
      const result = await standIn.slashCommand({ command: '/trade', text: 'buy 10 AAPL' });
      expect(result.ackPayload).toBeUndefined();
      expect(result.ackMs).toBeGreaterThanOrEqual(0);
      expect(result.ackMs).toBeLessThan(1000);
      expect(result.responseUrl).toContain('/commands/');

      const envelope = standIn.envelopes.find((e) => e.envelopeId === result.envelopeId);
      expect(envelope).toMatchObject({ type: 'slash_commands', outcome: 'acked' });
      expect(envelope?.payload).toMatchObject({
        command: '/trade',
        text: 'buy 10 AAPL',
        user_id: DEFAULT_USER_ID,
        channel_id: DEFAULT_CHANNEL_ID,
        channel_name: 'general',
        team_id: standIn.teamId,
        api_app_id: standIn.appId,
        is_enterprise_install: 'false',
        trigger_id: result.triggerId,
      });

      const open = await standIn.waitForCall(
        'views.open',
        (c) => c.args.trigger_id === result.triggerId && c.at >= before,
      );
      expect(open.response.ok).toBe(true);
      expect(open.args.view).toMatchObject({ type: 'modal', callback_id: 'order_modal' });
      const viewId = open.response.view.id as string;
      expect(viewId).toMatch(/^V[A-Z0-9]+$/);
      expect(standIn.views.get(viewId)).toMatchObject({ type: 'modal', userId: DEFAULT_USER_ID, closed: false });
    },
  );

  it('records what the app posts to a response_url and what it puts in a command ack', async () => {
    const quote = await standIn.slashCommand({ command: '/trade', text: 'quote' });
    await expect.poll(() => standIn.responses.filter((r) => r.url === quote.responseUrl)).toHaveLength(1);
    expect(standIn.responses.find((r) => r.url === quote.responseUrl)?.body).toEqual({
      response_type: 'ephemeral',
      text: 'AAPL 189.42',
    });
    expect(
      standIn
        .messages(DEFAULT_CHANNEL_ID)
        .some((m) => m.ephemeral && m.text === 'AAPL 189.42' && m.user === DEFAULT_USER_ID),
    ).toBe(true);

    const portfolio = await standIn.slashCommand({ command: '/portfolio', channelId: 'C0DESK' });
    expect(portfolio.ackPayload).toMatchObject({ text: 'Your portfolios' });
    expect(standIn.messages('C0DESK')).toMatchObject([
      { text: 'Your portfolios', ephemeral: true, user: DEFAULT_USER_ID },
    ]);
  });

  it(
    'round-trips view_submission state values, ' + 'keeps the modal open on errors and closes it on a bare ack',
    async () => {
      const command = await standIn.slashCommand({ command: '/trade' });
      const open = await standIn.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId);
      const viewId = open.response.view.id as string;

      const rejected = await standIn.submitView({
        viewId,
        values: {
          symbol_input: 'aapl!',
          quantity_input: '10.5',
          tif_radio: 'gtc',
          flags_checks: ['notify'],
          portfolio_select: 'growth',
        },
      });
      expect(rejected.ackPayload).toEqual({ response_action: 'errors', errors: { symbol: 'Unknown symbol' } });
      expect(standIn.views.get(viewId)).toMatchObject({ closed: false, errors: { symbol: 'Unknown symbol' } });

      const submitted = submissions.at(-1) as Record<string, any>;
      expect(submitted).toMatchObject({
        id: viewId,
        type: 'modal',
        callback_id: 'order_modal',
        private_metadata: JSON.stringify({ channel: 'C0GENERAL' }),
        hash: open.response.view.hash,
        root_view_id: viewId,
        previous_view_id: null,
        app_id: standIn.appId,
        bot_id: standIn.botId,
        team_id: standIn.teamId,
      });
      expect(submitted.state.values).toEqual({
        symbol: { symbol_input: { type: 'plain_text_input', value: 'aapl!' } },
        side: { side_select: { type: 'static_select', selected_option: option('buy') } },
        quantity: { quantity_input: { type: 'number_input', value: '10.5' } },
        tif: { tif_radio: { type: 'radio_buttons', selected_option: option('gtc') } },
        flags: { flags_checks: { type: 'checkboxes', selected_options: [option('notify')] } },
        portfolio: {
          portfolio_select: {
            type: 'external_select',
            // The option the app offered when the user typed "growth", as Slack echoes it.
            selected_option: option('growth', 'Growth'),
          },
        },
      });
      const envelope = standIn.envelopes.find((e) => e.envelopeId === rejected.envelopeId);
      expect(envelope?.payload).toMatchObject({
        type: 'view_submission',
        user: { id: DEFAULT_USER_ID, team_id: standIn.teamId },
        response_urls: [],
      });

      const accepted = await standIn.submitView({
        viewId,
        values: { symbol_input: 'AAPL', side_select: { selected_option: 'sell' } },
      });
      expect(accepted.ackPayload).toBeUndefined();
      expect(standIn.views.get(viewId)?.closed).toBe(true);
      const resubmitted = submissions.at(-1) as Record<string, any>;
      expect(resubmitted.state.values.side.side_select.selected_option.value).toBe('sell');
      expect(resubmitted.state.values.quantity.quantity_input.value).toBe('10.5');
    },
  );

  it('refuses a submission value that the view cannot produce, before anything is sent', async () => {
    const command = await standIn.slashCommand({ command: '/trade' });
    const open = await standIn.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId);
    const viewId = open.response.view.id as string;
    await expect(standIn.submitView({ viewId, values: { side_select: 'short' } })).rejects.toThrow(
      /no option with value "short"/,
    );
    await expect(standIn.submitView({ viewId, values: { nope: 'x' } })).rejects.toThrow(
      /no input element with action_id "nope"/,
    );
  });

  it('delivers block actions from a view and from a message, with their trigger and response_url', async () => {
    const command = await standIn.slashCommand({ command: '/trade' });
    const open = await standIn.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId);
    const viewId = open.response.view.id as string;

    const inView = await standIn.blockAction({ viewId, actionId: 'refresh_quote', values: { symbol_input: 'MSFT' } });
    const envelope = standIn.envelopes.find((e) => e.envelopeId === inView.envelopeId);
    expect(envelope?.payload).toMatchObject({
      type: 'block_actions',
      container: { type: 'view', view_id: viewId },
      trigger_id: inView.triggerId,
      actions: [{ type: 'button', action_id: 'refresh_quote', block_id: 'tools', value: 'q' }],
      view: {
        id: viewId,
        state: { values: { symbol: { symbol_input: { type: 'plain_text_input', value: 'MSFT' } } } },
      },
    });
    await standIn.waitForCall('views.update', (c) => c.args.view_id === viewId);
    expect(standIn.views.get(viewId)?.view.private_metadata).toBe('refreshed');
    expect(standIn.views.get(viewId)?.history).toHaveLength(2);

    const posted = await webClient(standIn).chat.postMessage({
      channel: DEFAULT_CHANNEL_ID,
      text: 'Order needs approval',
      blocks: [
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'approve', text: plain('Approve'), value: 'order-1', style: 'primary' },
          ],
        },
      ],
    });
    const ts = posted.ts as string;
    const inMessage = await standIn.blockAction({ channelId: DEFAULT_CHANNEL_ID, messageTs: ts, actionId: 'approve' });
    expect(standIn.envelopes.find((e) => e.envelopeId === inMessage.envelopeId)?.payload).toMatchObject({
      container: { type: 'message', message_ts: ts, channel_id: DEFAULT_CHANNEL_ID },
      channel: { id: DEFAULT_CHANNEL_ID },
      message: { ts, text: 'Order needs approval' },
      response_url: inMessage.responseUrl,
      actions: [{ action_id: 'approve', value: 'order-1', type: 'button' }],
    });
    await expect.poll(() => standIn.messages(DEFAULT_CHANNEL_ID).find((m) => m.ts === ts)?.text).toBe('Approved');
    expect(standIn.messages(DEFAULT_CHANNEL_ID).find((m) => m.ts === ts)?.updates).toBe(1);
  });

  it('asks the app for external select options and checks the answer', async () => {
    const command = await standIn.slashCommand({ command: '/trade' });
    const open = await standIn.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId);
    const result = await standIn.blockSuggestion({
      viewId: open.response.view.id,
      actionId: 'portfolio_select',
      value: 'gr',
    });
    expect(suggestionQueries).toContain('gr');
    expect(result.ackPayload?.options).toHaveLength(2);
  });

  it('delivers app_home_opened and stores the Home tab the app publishes', async () => {
    const userId = 'U0HOMEUSER';
    await standIn.appHomeOpened(userId);
    const envelope = standIn.envelopes.at(-1);
    expect(envelope).toMatchObject({
      type: 'events_api',
      payload: {
        type: 'event_callback',
        team_id: standIn.teamId,
        event: { type: 'app_home_opened', user: userId, tab: 'home' },
      },
    });
    const publish = await standIn.waitForCall('views.publish', (c) => c.args.user_id === userId);
    expect(publish.response).toMatchObject({ ok: true, view: { type: 'home' } });
    expect(standIn.homeView(userId)?.view.blocks).toHaveLength(1);
  });

  it(
    'applies response_action update, ' + 'push and clear from a submission ack, and refuses an oversized view',
    async () => {
      const wizard = {
        type: 'modal' as const,
        callback_id: 'wizard',
        title: plain('Wizard'),
        submit: plain('Next'),
        blocks: [
          {
            type: 'input',
            block_id: 'step',
            label: plain('Step'),
            element: { type: 'plain_text_input', action_id: 'step_input' },
          },
        ],
      };
      const open = async () => {
        const opened = await webClient(standIn).views.open({ trigger_id: standIn.issueTriggerId(), view: wizard });
        return opened.view?.id as string;
      };

      const updatedId = await open();
      await standIn.submitView({ viewId: updatedId, values: { step_input: 'update' } });
      expect(standIn.views.get(updatedId)).toMatchObject({ closed: false, view: { callback_id: 'wizard_done' } });
      expect(standIn.views.get(updatedId)?.history).toHaveLength(2);

      const rootId = await open();
      await standIn.submitView({ viewId: rootId, values: { step_input: 'push' } });
      const pushed = standIn.openModals(DEFAULT_USER_ID).find((v) => v.view.callback_id === 'wizard_pushed');
      expect(pushed?.view).toMatchObject({ previous_view_id: rootId, root_view_id: rootId });

      await standIn.submitView({ viewId: rootId, values: { step_input: 'done' } });
      expect(standIn.views.get(rootId)?.closed).toBe(true);
      expect(standIn.views.get(pushed?.id as string)?.closed).toBe(true);

      const oversizedId = await open();
      await expect(standIn.submitView({ viewId: oversizedId, values: { step_input: 'oversized' } })).rejects.toThrow(
        /response_action "update" view rejected \(invalid_blocks\): \/blocks: no more than 100 items/,
      );
    },
  );

  it('marks event redeliveries with retry_attempt and retry_reason', async () => {
    await standIn.sendEnvelope(
      'events_api',
      {
        type: 'event_callback',
        team_id: standIn.teamId,
        api_app_id: standIn.appId,
        event: { type: 'app_home_opened', user: 'U0RETRY', channel: 'D0RETRY', tab: 'home', event_ts: '1.000001' },
        event_id: 'Ev0RETRY',
        event_time: 1,
      },
      { retryAttempt: 2 },
    );
    expect(homeRetryNums.at(-1)).toBe(2);
  });

  it('reports an envelope the app never acks', async () => {
    await expect(standIn.slashCommand({ command: '/unknown-command' })).rejects.toThrow(
      /did not ack slash command \/unknown-command .* within 1000 ms/,
    );
    expect(standIn.envelopes.at(-1)?.outcome).toBe('timed_out');
  });
});

describe('Slack stand-in socket-mode reconnection', () => {
  let standIn: SlackStandIn;
  let app: App;

  afterEach(async () => {
    await app?.stop();
    await standIn?.close();
  });

  it(
    'sends a disconnect frame, the client reconnects through apps.connections.open, ' + 'and later envelopes are acked',
    async () => {
      standIn = await startSlackStandIn();
      // Bolt's default client waits clientPingTimeout (5 s) before reconnecting; a short one keeps the test fast.
      // The socket client logs the hard drop below as a WebSocket error, which is the point of that step.
      const receiver = new SocketModeReceiver({
        appToken: standIn.appToken,
        clientPingTimeout: 400,
        logger: silentLogger,
        installerOptions: { clientOptions: { slackApiUrl: standIn.apiUrl } },
      });
      app = startedApp(standIn, receiver);
      app.command('/ping', async ({ ack }) => ack({ text: 'pong' }));
      await app.start();
      await standIn.waitForConnection();

      standIn.disconnectAll('refresh_requested');
      expect(standIn.connectionCount()).toBe(0);
      await standIn.waitForConnection(3000);
      expect(standIn.totalConnections()).toBe(2);
      expect(standIn.callsTo('apps.connections.open')).toHaveLength(2);
      expect((await standIn.slashCommand({ command: '/ping' })).ackPayload).toEqual({ text: 'pong' });

      standIn.dropAll();
      await standIn.waitForConnection(3000);
      expect(standIn.totalConnections()).toBe(3);
      expect((await standIn.slashCommand({ command: '/ping' })).ackPayload).toEqual({ text: 'pong' });
    },
  );

  it('greets a raw client with hello, answers pings, and accepts each connection ticket once', async () => {
    standIn = await startSlackStandIn();
    const opened = await webClient(standIn, standIn.appToken).apps.connections.open();
    const url = opened.url as string;
    const socket = new WebSocket(url);
    const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
      socket.once('message', (data) => resolve(JSON.parse(data.toString()) as Record<string, unknown>));
      socket.once('error', reject);
    });
    expect(hello).toMatchObject({
      type: 'hello',
      num_connections: 1,
      debug_info: { host: expect.any(String), approximate_connection_time: expect.any(Number) },
      connection_info: { app_id: standIn.appId },
    });
    await new Promise<void>((resolve) => {
      socket.once('pong', () => resolve());
      socket.ping();
    });
    socket.close();

    const reused = new WebSocket(url);
    const refused = await new Promise<number>((resolve) =>
      reused.once('unexpected-response', (req, res) => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      }),
    );
    expect(refused).toBe(401);
  });
});

describe('Slack stand-in Web API', () => {
  let standIn: SlackStandIn;
  let client: WebClient;

  beforeAll(async () => {
    standIn = await startSlackStandIn({ triggerTtlMs: 150 });
    client = webClient(standIn);
  });
  afterAll(async () => {
    await standIn?.close();
  });

  const modal = (blocks: unknown[] = [section('Hi')]) => ({
    type: 'modal' as const,
    title: plain('Trade'),
    blocks: blocks as never,
  });

  it('answers auth.test, team.info, users.info, conversations.open and conversations.info like Slack', async () => {
    expect(await client.auth.test()).toMatchObject({
      ok: true,
      team_id: standIn.teamId,
      user_id: standIn.botUserId,
      bot_id: standIn.botId,
      url: expect.stringMatching(/^https:\/\/.+\.slack\.com\/$/),
    });
    expect(await client.team.info()).toMatchObject({ ok: true, team: { id: standIn.teamId } });
    expect(await client.users.info({ user: 'U0ALICE' })).toMatchObject({
      ok: true,
      user: { id: 'U0ALICE', tz: 'America/New_York' },
    });
    const dm = await client.conversations.open({ users: 'U0ALICE' });
    expect(dm.channel?.id).toMatch(/^D/);
    expect((await client.conversations.open({ users: 'U0ALICE' })).channel?.id).toBe(dm.channel?.id);
    expect(await client.conversations.info({ channel: dm.channel?.id as string })).toMatchObject({
      channel: { is_im: true, user: 'U0ALICE' },
    });
  });

  it('refuses missing, unknown and wrong-kind tokens and unknown methods', async () => {
    await expect(webClient(standIn, '').auth.test()).rejects.toMatchObject({ data: { error: 'not_authed' } });
    await expect(webClient(standIn, 'xoxb-wrong').auth.test()).rejects.toMatchObject({
      data: { error: 'invalid_auth' },
    });
    await expect(client.apps.connections.open()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    await expect(client.apiCall('stars.list')).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    expect(standIn.callsTo('stars.list')[0]?.response).toEqual({ ok: false, error: 'unknown_method' });
  });

  it('opens a view with a fresh trigger_id and refuses reused, expired and unknown ones', async () => {
    const trigger = standIn.issueTriggerId();
    const opened = await client.views.open({ trigger_id: trigger, view: modal() });
    expect(opened.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      hash: expect.any(String),
      type: 'modal',
      root_view_id: opened.view?.id,
    });
    await expect(client.views.open({ trigger_id: trigger, view: modal() })).rejects.toMatchObject({
      data: { error: 'exchanged_trigger_id' },
    });
    await expect(client.views.open({ trigger_id: 'made-up', view: modal() })).rejects.toMatchObject({
      data: { error: 'invalid_trigger_id' },
    });
    const stale = standIn.issueTriggerId();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(client.views.open({ trigger_id: stale, view: modal() })).rejects.toMatchObject({
      data: { error: 'expired_trigger_id' },
    });
  });

  it('rejects a view over 100 blocks and a message over 50 blocks with invalid_blocks', async () => {
    const tooBigView = client.views.open({ trigger_id: standIn.issueTriggerId(), view: modal(manyBlocks(101)) });
    await expect(tooBigView).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: [expect.stringMatching(/^\/blocks: no more than 100 items/)] },
    });
    await expect(
      client.chat.postMessage({ channel: DEFAULT_CHANNEL_ID, text: 'big', blocks: manyBlocks(51) as never }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_blocks', errors: [expect.stringMatching(/^\/blocks: no more than 50 items/)] },
    });
    expect(standIn.messages(DEFAULT_CHANNEL_ID)).toHaveLength(0);
  });

  it('pushes views onto the open modal, at most three deep', async () => {
    const userId = 'U0STACKER';
    const trigger = () => standIn.issueTriggerId({ userId });
    const root = await client.views.open({ trigger_id: trigger(), view: modal() });
    expect(standIn.views.get(root.view?.id as string)?.userId).toBe(userId);
    const second = await client.views.push({ trigger_id: trigger(), view: modal() });
    expect(second.view).toMatchObject({ previous_view_id: root.view?.id, root_view_id: root.view?.id });
    const third = await client.views.push({ trigger_id: trigger(), view: modal() });
    expect(third.view?.previous_view_id).toBe(second.view?.id);
    await expect(client.views.push({ trigger_id: trigger(), view: modal() })).rejects.toMatchObject({
      data: { error: 'push_limit_reached' },
    });
  });

  it('publishes Home tabs per user and refuses modals there', async () => {
    const first = await client.views.publish({ user_id: 'U0HOME', view: { type: 'home', blocks: [section('v1')] } });
    const second = await client.views.publish({
      user_id: 'U0HOME',
      view: { type: 'home', blocks: [section('v2')] },
      hash: first.view?.hash,
    });
    expect(second.view?.id).toBe(first.view?.id);
    expect(standIn.homeView('U0HOME')?.history).toHaveLength(2);
    await expect(
      client.views.publish({ user_id: 'U0HOME', view: { type: 'home', blocks: [] }, hash: first.view?.hash }),
    ).rejects.toMatchObject({ data: { error: 'hash_conflict' } });
    await expect(client.views.publish({ user_id: 'U0HOME', view: modal() as never })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
  });

  it('updates views by id or external_id and refuses a stale hash', async () => {
    const opened = await client.views.open({
      trigger_id: standIn.issueTriggerId(),
      view: { ...modal(), external_id: 'order-42' },
    });
    const id = opened.view?.id as string;
    const updated = await client.views.update({ external_id: 'order-42', view: modal([section('Updated')]) });
    expect(updated.view?.id).toBe(id);
    expect(updated.view?.hash).not.toBe(opened.view?.hash);
    await expect(
      client.views.update({ view_id: id, hash: opened.view?.hash as string, view: modal() }),
    ).rejects.toMatchObject({ data: { error: 'hash_conflict' } });
    await expect(client.views.update({ view_id: 'V0NOPE', view: modal() })).rejects.toMatchObject({
      data: { error: 'not_found' },
    });
    expect(standIn.views.get(id)?.history).toHaveLength(2);
  });

  it('posts, updates and deletes messages with unique increasing Slack-shaped ts', async () => {
    const first = await client.chat.postMessage({ channel: 'C0TRADES', text: 'one' });
    const second = await client.chat.postMessage({ channel: 'C0TRADES', text: 'two', thread_ts: first.ts as string });
    expect(first).toMatchObject({ ok: true, channel: 'C0TRADES', message: { text: 'one', bot_id: standIn.botId } });
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    const updated = await client.chat.update({ channel: 'C0TRADES', ts: first.ts as string, text: 'one (filled)' });
    expect(updated).toMatchObject({ ok: true, ts: first.ts, text: 'one (filled)' });
    expect(standIn.messages('C0TRADES')).toMatchObject([
      { ts: first.ts, text: 'one (filled)', updates: 1 },
      { ts: second.ts, threadTs: first.ts, updates: 0 },
    ]);
    const ephemeral = await client.chat.postEphemeral({ channel: 'C0TRADES', user: 'U0ALICE', text: 'psst' });
    expect(standIn.messages('C0TRADES').at(-1)).toMatchObject({
      ts: ephemeral.message_ts,
      ephemeral: true,
      user: 'U0ALICE',
    });
    await client.chat.delete({ channel: 'C0TRADES', ts: second.ts as string });
    expect(standIn.messages('C0TRADES').map((m) => m.text)).toEqual(['one (filled)', 'psst']);
    const toUser = await client.chat.postMessage({ channel: 'U0BOB', text: 'dm' });
    expect(toUser.channel).toMatch(/^D/);
  });

  it('refuses to post to a public channel the bot is not in', async () => {
    standIn.setChannelMembership('C0PRIVATEDESK', false);
    await expect(client.chat.postMessage({ channel: 'C0PRIVATEDESK', text: 'hi' })).rejects.toMatchObject({
      data: { error: 'not_in_channel' },
    });
    standIn.setChannelMembership('C0PRIVATEDESK', true);
    expect((await client.chat.postMessage({ channel: 'C0PRIVATEDESK', text: 'hi' })).ok).toBe(true);
  });

  it('injects failures with failNext, including a 429 with Retry-After', async () => {
    standIn.failNext('chat.postMessage', 'channel_not_found', { times: 2 });
    await expect(client.chat.postMessage({ channel: 'C0X1', text: 'a' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(client.chat.postMessage({ channel: 'C0X1', text: 'a' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    expect((await client.chat.postMessage({ channel: 'C0X1', text: 'a' })).ok).toBe(true);

    standIn.failNext('chat.update', 'ratelimited', { status: 429, retryAfter: 1 });
    await expect(client.chat.update({ channel: 'C0X1', ts: '1.000001', text: 'b' })).rejects.toMatchObject({
      retryAfter: 1,
    });
    expect(standIn.callsTo('chat.update').at(-1)).toMatchObject({
      status: 429,
      response: { ok: false, error: 'ratelimited' },
    });
  });

  it('decodes JSON-encoded form fields and also accepts JSON bodies', async () => {
    const form = await client.chat.postMessage({ channel: 'C0FORM', text: 'x', blocks: [section('form')] });
    expect(standIn.calls.find((c) => c.response.ts === form.ts)?.args.blocks).toEqual([section('form')]);
    const response = await fetch(`${standIn.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${standIn.botToken}` },
      body: JSON.stringify({ channel: 'C0FORM', blocks: [section('json')] }),
    });
    expect(await response.json()).toMatchObject({ ok: true, message: { blocks: [section('json')] } });
  });
});

describe('checkBlockKit', () => {
  const long = (n: number) => 'x'.repeat(n);

  it('accepts a well-formed message, modal and home view', () => {
    expect(checkBlockKit('message', { text: 'hi', blocks: [section('ok'), { type: 'divider' }] })).toEqual([]);
    expect(checkBlockKit('modal', orderModal())).toEqual([]);
    expect(checkBlockKit('home', { type: 'home', blocks: manyBlocks(100) })).toEqual([]);
  });

  it('enforces text and element limits with a path to each problem', () => {
    const problems = checkBlockKit('message', {
      text: long(40_001),
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: long(3001) },
          fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: long(2001) })),
        },
        { type: 'header', text: { type: 'mrkdwn', text: long(151) } },
        { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
        {
          type: 'actions',
          elements: Array.from({ length: 26 }, (_, i) => ({
            type: 'button',
            action_id: `b${i}`,
            text: plain('ok'),
            value: 'v',
          })),
        },
        {
          type: 'actions',
          elements: [{ type: 'button', action_id: 'long', text: plain(long(76)), value: long(2001) }],
        },
        {
          type: 'section',
          text: plain('pick'),
          accessory: { type: 'static_select', action_id: 's', options: [{ text: plain(long(76)), value: long(151) }] },
        },
        {
          type: 'section',
          text: plain('many'),
          accessory: {
            type: 'static_select',
            action_id: 'm',
            options: Array.from({ length: 101 }, (_, i) => option(`o${i}`)),
          },
        },
        { type: 'input', label: plain('no'), element: { type: 'plain_text_input', action_id: 'i' } },
        { type: 'carousel' },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/text: must be at most 40000/),
        expect.stringMatching(/^\/blocks\/0\/text\/text: must be at most 3000/),
        expect.stringMatching(/^\/blocks\/0\/fields: no more than 10/),
        expect.stringMatching(/^\/blocks\/0\/fields\/10\/text: must be at most 2000/),
        expect.stringMatching(/^\/blocks\/1\/text\/type: must be plain_text/),
        expect.stringMatching(/^\/blocks\/1\/text\/text: must be at most 150/),
        expect.stringMatching(/^\/blocks\/2\/elements: no more than 10/),
        expect.stringMatching(/^\/blocks\/3\/elements: no more than 25/),
        expect.stringMatching(/^\/blocks\/4\/elements\/0\/text\/text: must be at most 75/),
        expect.stringMatching(/^\/blocks\/4\/elements\/0\/value: must be at most 2000/),
        expect.stringMatching(/^\/blocks\/5\/accessory\/options\/0\/text\/text: must be at most 75/),
        expect.stringMatching(/^\/blocks\/5\/accessory\/options\/0\/value: must be at most 150/),
        expect.stringMatching(/^\/blocks\/6\/accessory\/options: no more than 100/),
        expect.stringMatching(/^\/blocks\/7: input blocks are only allowed in modals/),
        expect.stringMatching(/^\/blocks\/8\/type: unknown block type "carousel"/),
      ]),
    );
  });

  it('enforces modal chrome, metadata and id rules', () => {
    const problems = checkBlockKit('modal', {
      type: 'modal',
      title: plain(long(25)),
      submit: { type: 'mrkdwn', text: 'Go' },
      close: plain(long(25)),
      private_metadata: long(3001),
      callback_id: long(256),
      blocks: [
        { type: 'section', block_id: 'same', text: plain('a') },
        {
          type: 'section',
          block_id: 'same',
          text: plain('b'),
          accessory: { type: 'button', action_id: long(256), text: plain('x') },
        },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'dup', text: plain('1') },
            { type: 'button', action_id: 'dup', text: plain('2') },
          ],
        },
        ...manyBlocks(98),
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/blocks: no more than 100 items allowed \(got 101\)/),
        expect.stringMatching(/^\/title\/text: must be at most 24/),
        expect.stringMatching(/^\/submit\/type: must be plain_text/),
        expect.stringMatching(/^\/close\/text: must be at most 24/),
        expect.stringMatching(/^\/private_metadata: must be at most 3000/),
        expect.stringMatching(/^\/callback_id: must be at most 255/),
        expect.stringMatching(/^\/blocks\/1\/block_id: duplicate block_id "same"/),
        expect.stringMatching(/^\/blocks\/1\/accessory\/action_id: must be at most 255/),
        expect.stringMatching(/^\/blocks\/2\/elements\/1\/action_id: duplicate action_id "dup"/),
      ]),
    );
    expect(checkBlockKit('modal', { type: 'modal', title: plain('T'), blocks: orderModal().blocks })).toContain(
      '/submit: is required when the view has input blocks',
    );
  });
});
