// response_urls: one issued with each slash command and message action; a POST to it deletes,
// replaces or adds a message in the channel the interaction came from, as Slack does.
import { randomBytes } from 'node:crypto';
import { parse as parseQueryString } from 'node:querystring';
import { messageProblems } from './api-result';
import { type FileStore, fileReferenceFailure } from './files';
import type { Json } from './json';
import { randomDigits, type Workspace } from './state';

export interface ResponseUrlPost {
  url: string;
  body: Json;
  at: number;
  error?: string;
}

interface ResponseUrlContext {
  channelId: string;
  userId: string;
  messageTs?: string;
  postedTs?: string;
}

export class ResponseUrls {
  readonly posts: ResponseUrlPost[] = [];
  private readonly contexts = new Map<string, ResponseUrlContext>();

  constructor(
    private readonly baseUrl: string,
    private readonly workspace: Workspace,
    private readonly files?: FileStore,
  ) {}

  issue(kind: 'commands' | 'actions', context: ResponseUrlContext): string {
    const secret = randomBytes(12).toString('base64url');
    const url = `${this.baseUrl}/${kind}/${this.workspace.teamId}/${randomDigits(13)}/${secret}`;
    this.contexts.set(new URL(url).pathname, context);
    return url;
  }

  has(pathname: string): boolean {
    return this.contexts.has(pathname);
  }

  /** Applies a POST to an issued response_url; returns the HTTP answer. */
  post(url: URL, contentType: string | undefined, raw: string): { status: number; body: Json } {
    const at = Date.now();
    const context = this.contexts.get(url.pathname) as ResponseUrlContext;
    let body: Json;
    try {
      body = contentType?.includes('application/json')
        ? (JSON.parse(raw) as Json)
        : (JSON.parse(String(parseQueryString(raw).payload ?? '{}')) as Json);
    } catch {
      this.posts.push({ url: url.href, body: { raw }, at, error: 'invalid_payload' });
      return { status: 400, body: { ok: false, error: 'invalid_payload' } };
    }
    const post: ResponseUrlPost = { url: url.href, body, at };
    this.posts.push(post);

    if (body.delete_original === true || body.delete_original === 'true') {
      if (context.messageTs) this.workspace.deleteMessage(context.channelId, context.messageTs);
      return { status: 200, body: { ok: true } };
    }
    const problem = messageProblems(body) ?? fileReferenceFailure(this.files?.blockProblems(body.blocks) ?? []);
    if (problem) {
      post.error = problem.error as string;
      const errors = problem.errors ? { errors: problem.errors } : {};
      return { status: 400, body: { ok: false, error: post.error, ...errors } };
    }

    const replace = body.replace_original === true || body.replace_original === 'true';
    const originalTs = context.messageTs ?? context.postedTs;
    const original = replace && originalTs ? this.workspace.findMessage(context.channelId, originalTs) : undefined;
    if (original) {
      this.workspace.updateMessage(original, { text: body.text, blocks: body.blocks, attachments: body.attachments });
    } else {
      const inChannel = body.response_type === 'in_channel';
      const posted = this.workspace.storeMessage({
        channel: context.channelId,
        text: body.text,
        blocks: body.blocks,
        attachments: body.attachments,
        threadTs: body.thread_ts,
        ...(inChannel ? {} : { ephemeral: true, user: context.userId }),
      });
      context.postedTs = posted.ts;
    }
    return { status: 200, body: { ok: true } };
  }
}
