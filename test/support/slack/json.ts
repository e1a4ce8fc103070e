// Slack payloads are free-form JSON; the stand-in reads them the way Slack's servers do.
export type Json = Record<string, any>;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
