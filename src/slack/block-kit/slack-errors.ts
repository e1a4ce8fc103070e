import { ErrorCode } from '@slack/web-api';

/** The short error code inside a Slack Web API failure ("not_in_channel"), or the error's message. */
export function slackErrorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const data = (err as { data?: { error?: string } }).data;
    if (data?.error) return data.error;
    if ('message' in err && typeof err.message === 'string') return err.message;
  }
  return String(err);
}

/** Platform errors that say "Slack is having trouble", not "this request is wrong": worth repeating. */
const TRANSIENT_PLATFORM_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'ratelimited',
  'team_is_restricted',
]);

/**
 * Whether a failed Slack call is worth trying again, for the outbox: network failures, HTTP
 * errors, rate limits (after their Retry-After) and Slack's own trouble are; a request Slack
 * refused on its merits (invalid_blocks, channel_not_found…) is not, and repeating it forever
 * would only hold up the rest of its stream. Anything that is not a Slack error (the database,
 * the broker while drawing a Home tab) is retried.
 */
export function classifySlackFailure(err: unknown): { retry: boolean; retryAfterMs?: number; reason: string } {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === ErrorCode.RateLimitedError) {
    const seconds = (err as { retryAfter?: number }).retryAfter ?? 1;
    return { retry: true, retryAfterMs: seconds * 1000, reason: 'rate limited by Slack' };
  }
  if (code === ErrorCode.PlatformError) {
    const error = slackErrorCode(err);
    return { retry: TRANSIENT_PLATFORM_ERRORS.has(error), reason: error };
  }
  return { retry: true, reason: slackErrorCode(err) };
}
