// Slack's external file upload, as @slack/web-api's files.uploadV2 drives it: files.getUploadURLExternal
// (a file id and a one-time upload URL for `filename` and `length`), a POST of the bytes to that URL,
// then files.completeUploadExternal (the upload becomes a file; with no channel it stays private).
// Image blocks may then show it with `slack_file: { id }`; an id that is not a completed upload is
// refused with invalid_blocks, as Slack refuses it.
import { randomBytes } from 'node:crypto';
import { type ApiResult, fail, ok } from './api-result';
import { isRecord, type Json } from './json';

export interface StandInFile {
  id: string;
  name: string;
  title: string;
  altText?: string;
  /** The length declared to files.getUploadURLExternal. */
  length: number;
  /** What was POSTed to the upload URL. */
  bytes?: Buffer;
  /** PNG pixel size, read from the IHDR chunk. */
  width?: number;
  height?: number;
  completed: boolean;
  completedAt?: number;
  /** Channels it was shared to at completion; none = private. */
  channels: string[];
  createdAt: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

export interface FileStoreOptions {
  /** An install without files:write (added after it was installed, not reinstalled): files.* answer missing_scope. */
  withoutFilesWrite?: boolean;
  /**
   * How long a completed upload stays unusable in an image block (Slack may still be processing a
   * fresh file): meanwhile a reference to it is refused with invalid_blocks.
   */
  processingMs?: number;
}

export class FileStore {
  readonly byId = new Map<string, StandInFile>();
  private readonly uploads = new Map<string, string>();

  constructor(
    private readonly baseUrl: string,
    readonly options: FileStoreOptions = {},
  ) {}

  /** Slack's answer to files.* on an install that lacks files:write, or undefined when it has it. */
  scopeFailure(): ApiResult | undefined {
    return this.options.withoutFilesWrite
      ? fail('missing_scope', { needed: 'files:write', provided: 'chat:write,commands' })
      : undefined;
  }

  getUploadURLExternal(args: Json): ApiResult {
    if (typeof args.filename !== 'string' || args.filename.trim() === '') return fail('invalid_arguments');
    const length = Number(args.length);
    if (!Number.isInteger(length) || length <= 0) return fail('invalid_arguments');
    const id = `F${randomBytes(5).toString('hex').toUpperCase()}`;
    const path = `/upload/v1/${randomBytes(18).toString('base64url')}`;
    this.uploads.set(path, id);
    this.byId.set(id, {
      id,
      name: args.filename,
      title: args.filename,
      altText: typeof args.alt_text === 'string' ? args.alt_text : undefined,
      length,
      completed: false,
      channels: [],
      createdAt: Date.now(),
    });
    return ok({ upload_url: `${this.baseUrl}${path}`, file_id: id });
  }

  isUploadPath(pathname: string): boolean {
    return this.uploads.has(pathname);
  }

  /** The POST to an upload URL: raw bytes, or multipart form data whose file part holds them. */
  async receive(
    pathname: string,
    contentType: string | undefined,
    body: Buffer,
  ): Promise<{ status: number; text: string }> {
    const file = this.byId.get(this.uploads.get(pathname) ?? '');
    this.uploads.delete(pathname);
    if (!file) return { status: 404, text: 'Not Found' };
    let bytes = body;
    if (contentType?.startsWith('multipart/form-data')) {
      const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
      const part = [...form.values()].find((v) => typeof v !== 'string') as Blob | undefined;
      if (!part) return { status: 400, text: 'no file in the form' };
      bytes = Buffer.from(await part.arrayBuffer());
    }
    file.bytes = bytes;
    Object.assign(file, pngSize(bytes) ?? {});
    return { status: 200, text: `OK - ${bytes.length}` };
  }

  completeUploadExternal(args: Json, resolveChannel: (channel: string) => string | ApiResult): ApiResult {
    let entries: unknown = args.files;
    if (typeof entries === 'string') {
      try {
        entries = JSON.parse(entries);
      } catch {
        return fail('invalid_arguments');
      }
    }
    if (!Array.isArray(entries) || entries.length === 0 || !entries.every(isRecord)) return fail('invalid_arguments');
    const channel = typeof args.channel_id === 'string' && args.channel_id !== '' ? args.channel_id : undefined;
    const resolved = channel === undefined ? undefined : resolveChannel(channel);
    if (resolved !== undefined && typeof resolved !== 'string') return resolved;
    const files: StandInFile[] = [];
    for (const entry of entries) {
      const file = typeof entry.id === 'string' ? this.byId.get(entry.id) : undefined;
      // Slack completes only what was uploaded, once.
      if (!file?.bytes || file.completed) return fail('file_not_found');
      if (file.bytes.length !== file.length) return fail('file_upload_size_mismatch');
      files.push(file);
    }
    for (const [i, file] of files.entries()) {
      const title = (entries[i] as Json).title;
      if (typeof title === 'string' && title !== '') file.title = title;
      file.completed = true;
      file.completedAt = Date.now();
      if (resolved) file.channels.push(resolved);
    }
    return ok({ files: files.map((f) => this.fileJson(f)) });
  }

  /** Whether `slack_file: { id }` may show this file: a completed upload, processed. */
  usable(id: string): boolean {
    const file = this.byId.get(id);
    if (!file?.completed) return false;
    return Date.now() - (file.completedAt ?? 0) >= (this.options.processingMs ?? 0);
  }

  /** Problems with the `slack_file` references of image blocks and elements in `blocks` (Slack: invalid_blocks). */
  blockProblems(blocks: unknown, path = ''): string[] {
    if (!Array.isArray(blocks)) return [];
    const problems: string[] = [];
    const check = (where: string, image: Json) => {
      if (image.slack_file === undefined) return;
      if (image.image_url !== undefined)
        problems.push(`${where}: must provide either image_url or slack_file, not both`);
      const ref = image.slack_file;
      if (!isRecord(ref) || (ref.id === undefined) === (ref.url === undefined)) {
        problems.push(`${where}/slack_file: must have exactly one of id or url`);
      } else if (ref.id !== undefined && (typeof ref.id !== 'string' || !this.usable(ref.id))) {
        problems.push(`${where}/slack_file/id: invalid slack file (not an uploaded file)`);
      }
    };
    blocks.forEach((block, i) => {
      if (!isRecord(block)) return;
      const where = `${path}/blocks/${i}`;
      if (block.type === 'image') check(where, block);
      if (isRecord(block.accessory) && block.accessory.type === 'image') check(`${where}/accessory`, block.accessory);
      if (block.type === 'context' && Array.isArray(block.elements))
        block.elements.forEach((e: unknown, j: number) => {
          if (isRecord(e) && e.type === 'image') check(`${where}/elements/${j}`, e);
        });
    });
    return problems;
  }

  private fileJson(f: StandInFile): Json {
    return {
      id: f.id,
      created: Math.floor(f.createdAt / 1000),
      name: f.name,
      title: f.title,
      mimetype: f.width !== undefined ? 'image/png' : 'application/octet-stream',
      filetype: f.width !== undefined ? 'png' : 'binary',
      size: f.bytes?.length ?? 0,
      is_public: f.channels.length > 0,
      ...(f.altText ? { alt_txt: f.altText } : {}),
      ...(f.width !== undefined ? { original_w: f.width, original_h: f.height } : {}),
      channels: f.channels,
      shares: {},
    };
  }
}

/** An answer Slack gives for blocks whose slack_file references fail: like every invalid_blocks refusal. */
export function fileReferenceFailure(problems: string[]): ApiResult | undefined {
  if (problems.length === 0) return undefined;
  return fail('invalid_blocks', {
    errors: problems,
    response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) },
  });
}
