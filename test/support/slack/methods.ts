// The Web API methods the app calls, answered from the workspace state as Slack answers them:
// auth, team and users, conversations, views (trigger_id rules, stacking, hashes) and chat.
import { type ApiResult, fail, messageProblems, ok, viewProblems } from './api-result';
import { type FileStore, fileReferenceFailure } from './files';
import type { Json } from './json';
import type { SocketModeLink } from './socket';
import { DEFAULT_USER_ID, type Workspace } from './state';
import type { ViewStore } from './views';
import type { ApiMethod } from './web-api';

function isRecordView(view: unknown): view is { blocks?: unknown } {
  return typeof view === 'object' && view !== null;
}

/** Resolves `channel` as chat.* methods do: a user id means the app's DM with that user. */
function resolvePostChannel(workspace: Workspace, channel: unknown, purpose: 'post' | 'read'): string | ApiResult {
  if (typeof channel !== 'string' || channel.length === 0) return fail('channel_not_found');
  if (/^[UW][A-Z0-9]{2,}$/.test(channel)) return workspace.imChannelFor(channel);
  const known = workspace.channel(channel);
  if (!known) return fail('channel_not_found');
  if (!known.isMember && purpose === 'post') return fail(known.isPrivate ? 'channel_not_found' : 'not_in_channel');
  return known.id;
}

function usersInfo(workspace: Workspace, args: Json): ApiResult {
  const id = args.user;
  if (typeof id !== 'string' || !/^[UWB][A-Z0-9]{2,}$/.test(id)) return fail('user_not_found');
  const user = workspace.user(id);
  return ok({
    user: {
      id,
      team_id: workspace.teamId,
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
      profile: { real_name: user.realName, display_name: user.name, team: workspace.teamId },
    },
  });
}

function conversationsOpen(workspace: Workspace, args: Json): ApiResult {
  if (typeof args.channel === 'string') {
    const channel = workspace.channel(args.channel);
    return channel ? ok({ no_op: true, already_open: true, channel: { id: channel.id } }) : fail('channel_not_found');
  }
  const users =
    typeof args.users === 'string'
      ? args.users
          .split(',')
          .map((u: string) => u.trim())
          .filter(Boolean)
      : [];
  if (users.length === 0) return fail('users_list_not_supplied');
  if (users.some((u: string) => !/^[UW][A-Z0-9]{2,}$/.test(u))) return fail('user_not_found');
  if (users.length === 1) {
    const alreadyOpen = workspace.hasIm(users[0] as string);
    const id = workspace.imChannelFor(users[0] as string);
    return ok({ no_op: alreadyOpen, already_open: alreadyOpen, channel: { id } });
  }
  return ok({ channel: { id: workspace.openGroupDm(users) } });
}

function conversationsInfo(workspace: Workspace, args: Json): ApiResult {
  const channel = typeof args.channel === 'string' ? workspace.channel(args.channel) : undefined;
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

function viewsOpen(workspace: Workspace, views: ViewStore, args: Json): ApiResult {
  const problem = viewProblems('modal', args.view);
  if (problem) return problem;
  if (views.byExternalId(args.view.external_id)) return fail('duplicate_external_id');
  const trigger = workspace.redeemTrigger(args.trigger_id ?? args.interactivity_pointer);
  if (typeof trigger === 'string') return fail(trigger);
  trigger.used = true;
  const stored = views.create(args.view, 'modal', trigger.userId ?? DEFAULT_USER_ID);
  return ok({ view: stored.view });
}

function viewsPush(workspace: Workspace, views: ViewStore, args: Json): ApiResult {
  const problem = viewProblems('modal', args.view);
  if (problem) return problem;
  if (views.byExternalId(args.view.external_id)) return fail('duplicate_external_id');
  const trigger = workspace.redeemTrigger(args.trigger_id ?? args.interactivity_pointer);
  if (typeof trigger === 'string') return fail(trigger);
  const fromView = trigger.viewId ? views.byId.get(trigger.viewId) : undefined;
  const parent = fromView && !fromView.closed ? fromView : views.openModals(trigger.userId ?? DEFAULT_USER_ID).at(-1);
  if (!parent) return fail('invalid_trigger_id');
  if (views.stackFull(parent)) return fail('push_limit_reached');
  trigger.used = true;
  const stored = views.create(args.view, 'modal', parent.userId, parent);
  return ok({ view: stored.view });
}

function viewsUpdate(views: ViewStore, args: Json): ApiResult {
  const byId = typeof args.view_id === 'string' && args.view_id !== '' ? views.byId.get(args.view_id) : undefined;
  const byExternal = views.byExternalId(args.external_id);
  if (!args.view_id && !args.external_id) {
    return fail('invalid_arguments', { errors: ['view_id or external_id is required'] });
  }
  const stored = byId ?? byExternal;
  if (!stored || stored.closed) return fail('not_found');
  const problem = viewProblems(stored.type, args.view);
  if (problem) return problem;
  if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== stored.view.hash) return fail('hash_conflict');
  views.replace(stored, args.view);
  return ok({ view: stored.view });
}

function viewsPublish(views: ViewStore, args: Json): ApiResult {
  if (typeof args.user_id !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(args.user_id)) return fail('invalid_arguments');
  const problem = viewProblems('home', args.view);
  if (problem) return problem;
  const existing = views.homeView(args.user_id);
  if (existing) {
    if (typeof args.hash === 'string' && args.hash !== '' && args.hash !== existing.view.hash) {
      return fail('hash_conflict');
    }
    views.replace(existing, args.view);
    return ok({ view: existing.view });
  }
  const stored = views.create(args.view, 'home', args.user_id);
  return ok({ view: stored.view });
}

function chatPostMessage(workspace: Workspace, args: Json): ApiResult {
  const channel = resolvePostChannel(workspace, args.channel, 'post');
  if (typeof channel !== 'string') return channel;
  const problem = messageProblems(args);
  if (problem) return problem;
  const threadTs = typeof args.thread_ts === 'string' && args.thread_ts !== '' ? args.thread_ts : undefined;
  if (threadTs && !workspace.findMessage(channel, threadTs)) return fail('thread_not_found');
  const message = workspace.storeMessage({
    channel,
    text: args.text,
    blocks: args.blocks,
    attachments: args.attachments,
    metadata: args.metadata,
    threadTs,
  });
  return ok({ channel, ts: message.ts, message: workspace.messageJson(message) });
}

function chatPostEphemeral(workspace: Workspace, args: Json): ApiResult {
  const channel = resolvePostChannel(workspace, args.channel, 'post');
  if (typeof channel !== 'string') return channel;
  if (typeof args.user !== 'string' || !/^[UW][A-Z0-9]{2,}$/.test(args.user)) return fail('user_not_found');
  const problem = messageProblems(args);
  if (problem) return problem;
  const message = workspace.storeMessage({
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

function chatUpdate(workspace: Workspace, args: Json): ApiResult {
  const channel = resolvePostChannel(workspace, args.channel, 'read');
  if (typeof channel !== 'string') return channel;
  const message = typeof args.ts === 'string' ? workspace.findMessage(channel, args.ts) : undefined;
  if (!message || message.ephemeral) return fail('message_not_found');
  const problem = messageProblems({
    text: args.text ?? message.text,
    blocks: args.blocks ?? message.blocks,
    attachments: args.attachments ?? message.attachments,
  });
  if (problem) return problem;
  workspace.updateMessage(message, { text: args.text, blocks: args.blocks, attachments: args.attachments });
  const json = workspace.messageJson(message);
  return ok({ channel, ts: message.ts, text: json.text, message: json });
}

/** chat.getPermalink: the message's link, as https://<domain>.slack.com/archives/<channel>/p<ts without the dot>. */
function chatGetPermalink(workspace: Workspace, args: Json): ApiResult {
  const channel = resolvePostChannel(workspace, args.channel, 'read');
  if (typeof channel !== 'string') return channel;
  const ts = args.message_ts;
  if (typeof ts !== 'string' || !workspace.findMessage(channel, ts)) return fail('message_not_found');
  return ok({
    channel,
    permalink: `https://${workspace.teamDomain}.slack.com/archives/${channel}/p${ts.replace('.', '')}`,
  });
}

function chatDelete(workspace: Workspace, args: Json): ApiResult {
  const channel = resolvePostChannel(workspace, args.channel, 'read');
  if (typeof channel !== 'string') return channel;
  if (typeof args.ts !== 'string' || !workspace.deleteMessage(channel, args.ts)) return fail('message_not_found');
  return ok({ channel, ts: args.ts });
}

export function webApiMethods(
  workspace: Workspace,
  views: ViewStore,
  link: Pick<SocketModeLink, 'openTicket'>,
  files?: FileStore,
): Record<string, ApiMethod> {
  const bot = (handle: (args: Json) => ApiResult): ApiMethod => ({
    token: 'bot',
    // Every method that takes blocks: an image's slack_file must be an uploaded file.
    handle: (args) =>
      (files &&
        fileReferenceFailure([
          ...files.blockProblems(args.blocks),
          ...(isRecordView(args.view) ? files.blockProblems(args.view.blocks, '/view') : []),
        ])) ??
      handle(args),
  });
  return {
    'auth.test': bot(() =>
      ok({
        url: `https://${workspace.teamDomain}.slack.com/`,
        team: workspace.teamName,
        user: workspace.user(workspace.botUserId).name,
        team_id: workspace.teamId,
        user_id: workspace.botUserId,
        bot_id: workspace.botId,
        is_enterprise_install: false,
      }),
    ),
    'apps.connections.open': { token: 'app', handle: () => ok({ url: link.openTicket() }) },
    'team.info': bot(() =>
      ok({
        team: {
          id: workspace.teamId,
          name: workspace.teamName,
          domain: workspace.teamDomain,
          email_domain: '',
          icon: { image_default: true },
          is_verified: false,
        },
      }),
    ),
    'users.info': bot((args) => usersInfo(workspace, args)),
    'conversations.open': bot((args) => conversationsOpen(workspace, args)),
    'conversations.info': bot((args) => conversationsInfo(workspace, args)),
    'views.open': bot((args) => viewsOpen(workspace, views, args)),
    'views.push': bot((args) => viewsPush(workspace, views, args)),
    'views.update': bot((args) => viewsUpdate(views, args)),
    'views.publish': bot((args) => viewsPublish(views, args)),
    'chat.postMessage': bot((args) => chatPostMessage(workspace, args)),
    'chat.postEphemeral': bot((args) => chatPostEphemeral(workspace, args)),
    'chat.update': bot((args) => chatUpdate(workspace, args)),
    'chat.delete': bot((args) => chatDelete(workspace, args)),
    'chat.getPermalink': bot((args) => chatGetPermalink(workspace, args)),
    ...(files
      ? {
          'files.getUploadURLExternal': bot((args) => files.scopeFailure() ?? files.getUploadURLExternal(args)),
          'files.completeUploadExternal': bot(
            (args) =>
              files.scopeFailure() ??
              files.completeUploadExternal(args, (channel) => resolvePostChannel(workspace, channel, 'post')),
          ),
        }
      : {}),
  };
}
