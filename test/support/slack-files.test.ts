import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL_ID, type SlackStandIn, startSlackStandIn } from './slack-standin';

/** A 1×1 PNG: the stand-in reads its size from the IHDR chunk. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

describe('Slack stand-in: files.uploadV2 and image blocks with slack_file', () => {
  let slack: SlackStandIn;
  let client: WebClient;
  beforeAll(async () => {
    slack = await startSlackStandIn();
    client = new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  });
  afterAll(() => slack.close());

  it('uploadV2 with no channel: getUploadURLExternal, bytes to the upload URL, completeUploadExternal', async () => {
    const result = await client.files.uploadV2({
      file: PNG,
      filename: 'chart.png',
      title: 'Chart',
      alt_text: 'A chart',
    });
    const [requested] = slack.callsTo('files.getUploadURLExternal');
    expect(requested?.args).toMatchObject({ filename: 'chart.png', length: String(PNG.length), alt_text: 'A chart' });
    const [completed] = slack.callsTo('files.completeUploadExternal');
    expect(completed?.args.channel_id).toBeUndefined();
    const fileId = ((result as { files?: unknown }).files as { files: { id: string }[] }[])[0]?.files[0]?.id;
    expect(fileId).toMatch(/^F[0-9A-F]+$/);
    const stored = slack.files.get(fileId!)!;
    expect(stored).toMatchObject({ completed: true, channels: [], width: 1, height: 1, title: 'Chart' });
    expect(stored.bytes?.equals(PNG)).toBe(true);

    const posted = await client.chat.postMessage({
      channel: DEFAULT_CHANNEL_ID,
      text: 'chart',
      blocks: [{ type: 'image', slack_file: { id: fileId! }, alt_text: 'A chart' }],
    });
    expect(posted.ok).toBe(true);
  });

  it('an image block naming a file that was never uploaded, or without alt text, is refused', async () => {
    await expect(
      client.chat.postMessage({
        channel: DEFAULT_CHANNEL_ID,
        text: 'chart',
        blocks: [{ type: 'image', slack_file: { id: 'F0NOSUCHFILE' }, alt_text: 'A chart' }],
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    const upload = await client.files.getUploadURLExternal({ filename: 'half.png', length: PNG.length });
    // Requested but never completed: not a file yet.
    await expect(
      client.views.publish({
        user_id: 'U0TESTUSER',
        view: { type: 'home', blocks: [{ type: 'image', slack_file: { id: upload.file_id! }, alt_text: 'x' }] },
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
    const uploaded = await client.files.uploadV2({ file: PNG, filename: 'chart.png' });
    const id = ((uploaded as { files?: unknown }).files as { files: { id: string }[] }[])[0]?.files[0]?.id;
    await expect(
      client.chat.postMessage({
        channel: DEFAULT_CHANNEL_ID,
        text: 'chart',
        blocks: [{ type: 'image', slack_file: { id } } as never],
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks', errors: ['/blocks/0/alt_text: is required'] } });
  });

  it('completing an upload whose bytes never arrived, or twice, fails', async () => {
    const upload = await client.files.getUploadURLExternal({ filename: 'never.png', length: 10 });
    await expect(client.files.completeUploadExternal({ files: [{ id: upload.file_id! }] })).rejects.toMatchObject({
      data: { error: 'file_not_found' },
    });
    await expect(client.files.getUploadURLExternal({ filename: 'x.png', length: 0 })).rejects.toMatchObject({
      data: { error: 'invalid_arguments' },
    });
  });
});
