import { createRequire } from 'node:module';
import { type DestinationStream, type Logger, pino } from 'pino';

export type { Logger };

const REDACTED = '[REDACTED]';

/** Loaded only for a terminal: services and benches log JSON and skip its start-up cost. */
const loadPinoPretty = () => createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');

/** Token shapes that must never reach a log line, whatever object or message carries them. */
const TOKEN_PATTERNS = [/xox[abposr]-[A-Za-z0-9-]+/g, /xapp-[A-Za-z0-9-]+/g];

/**
 * Structured JSON logs (one object per line), or the same records as readable lines on a
 * terminal. Known secrets are scrubbed from the serialized line itself, not just from named
 * fields, because secrets leak through error messages and nested SDK objects whose shape we
 * don't control.
 */
export function createLogger(options: {
  level: string;
  secrets: readonly string[];
  destination?: DestinationStream;
  /** Human-readable lines (a terminal) instead of JSON (files, collectors): same content, same scrubbing. */
  pretty?: boolean;
}): Logger {
  // The line is already JSON, so a secret holding a quote, backslash or control character
  // appears there in its escaped form; scrub that form too.
  const secrets = [
    ...new Set(options.secrets.filter((s) => s.length >= 4).flatMap((s) => [s, JSON.stringify(s).slice(1, -1)])),
  ];
  const scrub = (line: string): string => {
    let out = line;
    for (const secret of secrets) out = out.split(secret).join(REDACTED);
    for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
    return out;
  };
  return pino(
    {
      level: options.level,
      base: { app: 'slack-oms' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          'headers.authorization',
          'headers["APCA-API-KEY-ID"]',
          'headers["APCA-API-SECRET-KEY"]',
          '*.headers.authorization',
          '*.headers["APCA-API-KEY-ID"]',
          '*.headers["APCA-API-SECRET-KEY"]',
          'token',
          '*.token',
        ],
        censor: REDACTED,
      },
      hooks: { streamWrite: scrub },
    },
    options.pretty
      ? loadPinoPretty()({
          destination: options.destination ?? 1,
          sync: true,
          colorize: options.destination === undefined,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,app',
        })
      : (options.destination ?? pino.destination({ fd: 1, sync: true })),
  );
}
