// A Web API answer: `ok: true` with fields or an error code, and the refusals Slack answers
// for a message or view that breaks its rules (also applied to acks and response_url posts).
import { checkBlockKit } from './block-kit';
import { isRecord, type Json } from './json';

export type ApiResult = Json & { ok: boolean };

export function ok(fields: Json = {}): ApiResult {
  return { ok: true, ...fields };
}

export function fail(error: string, fields: Json = {}): ApiResult {
  return { ok: false, error, ...fields };
}

function invalidBlocks(problems: string[]): ApiResult {
  return fail('invalid_blocks', {
    errors: problems,
    response_metadata: { messages: problems.map((problem) => `[ERROR] ${problem}`) },
  });
}

export function messageProblems(args: Json): ApiResult | undefined {
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

export function viewProblems(kind: 'modal' | 'home', view: unknown): ApiResult | undefined {
  if (!isRecord(view)) return fail('invalid_arguments', { errors: ['/view: must be a view object'] });
  if (view.type !== kind) {
    const got = JSON.stringify(view.type);
    return fail('invalid_arguments', { errors: [`/view/type: must be ${JSON.stringify(kind)} (got ${got})`] });
  }
  const problems = checkBlockKit(kind, view);
  return problems.length > 0 ? invalidBlocks(problems) : undefined;
}
