/** The short error code inside a Slack Web API failure ("not_in_channel"), or the error's message. */
export function slackErrorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const data = (err as { data?: { error?: string } }).data;
    if (data?.error) return data.error;
    if ('message' in err && typeof err.message === 'string') return err.message;
  }
  return String(err);
}
