import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from './limits';

/** Where a posted message lives, in Slack's own terms. */
export interface PostedMessage {
  channel: string;
  ts: string;
}

/** Posts `message` without link previews (in `threadTs`'s thread when given) and answers where it landed. */
export async function postMessage(
  client: WebClient,
  channel: string,
  message: SlackMessage,
  threadTs?: string,
): Promise<PostedMessage> {
  const res = await client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
  });
  return { channel: res.channel ?? channel, ts: res.ts ?? '' };
}

/** Redraws a posted message in place (an edit notifies nobody). */
export async function updateMessage(client: WebClient, at: PostedMessage, message: SlackMessage): Promise<void> {
  await client.chat.update({ channel: at.channel, ts: at.ts, text: message.text, blocks: message.blocks });
}
