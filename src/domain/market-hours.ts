/**
 * The market clock in words, in New York time (the exchange's clock, whatever the reader's zone).
 */

/** The part of the broker's clock this needs; the Broker port's MarketClock satisfies it. */
export interface MarketClockTimes {
  isOpen: boolean;
  nextOpen: Date;
  nextClose: Date;
}

export interface MarketDescription {
  open: boolean;
  /** "Market open — closes 16:00 ET" / "Market closed — opens Mon 09:30 ET". */
  headline: string;
  /** Both next transitions with a countdown, e.g. "Opens Mon 09:30 ET (in 2 d 9 h); closes Mon 16:00 ET." */
  detail: string;
}

export const NEW_YORK_TIME_ZONE = 'America/New_York';

const newYorkDateFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** The New York date of an instant, YYYY-MM-DD: a fill at 23:30 UTC in winter belongs to that New York day (18:30). */
export function newYorkDate(at: Date): string {
  const parts: Record<string, string> = {};
  for (const part of newYorkDateFormat.formatToParts(at)) parts[part.type] = part.value;
  return `${parts.year}-${parts.month}-${parts.day}`;
}

const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: NEW_YORK_TIME_ZONE, timeZoneName: 'longOffset' });

/** Midnight in New York that starts `date` (YYYY-MM-DD), as an instant. */
export function newYorkMidnight(date: string): Date {
  const utcMidnight = new Date(`${date}T00:00:00Z`);
  // UTC midnight is the evening before in New York, and no DST jump falls between then and New York's
  // midnight (jumps happen at 02:00): the offset in force then is the one at midnight.
  const offset = /GMT([+-])(\d{2}):(\d{2})/.exec(offsetFormat.format(utcMidnight));
  const minutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) : 0;
  return new Date(utcMidnight.getTime() - minutes * 60_000);
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Beyond this a weekday alone is ambiguous, so the date is shown too. */
const WEEKDAY_ONLY_HORIZON_MS = 6 * DAY_MS;

const newYorkParts = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK_TIME_ZONE,
  weekday: 'short',
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

interface NewYorkParts {
  weekday: string;
  year: string;
  month: string;
  day: string;
  time: string;
}

function partsOf(date: Date): NewYorkParts {
  const parts: Record<string, string> = {};
  for (const part of newYorkParts.formatToParts(date)) parts[part.type] = part.value;
  return {
    weekday: parts.weekday ?? '',
    year: parts.year ?? '',
    month: parts.month ?? '',
    day: parts.day ?? '',
    time: `${parts.hour ?? '00'}:${parts.minute ?? '00'}`,
  };
}

/**
 * New York wall-clock time, as short as stays unambiguous relative to `now`:
 * "16:00 ET" on the same New York day, "Mon 09:30 ET" within the next 6 days,
 * "Mon Jan 12 09:30 ET" otherwise.
 */
export function formatNewYorkTime(date: Date, now: Date = new Date()): string {
  const at = partsOf(date);
  const today = partsOf(now);
  if (at.year === today.year && at.month === today.month && at.day === today.day) return `${at.time} ET`;
  const ahead = date.getTime() - now.getTime();
  if (ahead > 0 && ahead <= WEEKDAY_ONLY_HORIZON_MS) return `${at.weekday} ${at.time} ET`;
  return `${at.weekday} ${at.month} ${at.day} ${at.time} ET`;
}

/** A full timestamp that reads the same whenever it is seen: "Mon Jan 5, 2026 09:31 ET". */
export function formatNewYorkDateTime(date: Date): string {
  const at = partsOf(date);
  return `${at.weekday} ${at.month} ${at.day}, ${at.year} ${at.time} ET`;
}

/** "in 2 h 15 min" / "in 3 d 4 h"; empty when the moment has passed (a stale clock). */
function countdown(from: Date, to: Date): string {
  const minutes = Math.floor((to.getTime() - from.getTime()) / 60_000);
  if (minutes < 0) return '';
  if (minutes < 1) return ' (in less than a minute)';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return ` (in ${days} d${hours > 0 ? ` ${hours} h` : ''})`;
  if (hours > 0) return ` (in ${hours} h${mins > 0 ? ` ${mins} min` : ''})`;
  return ` (in ${mins} min)`;
}

export function describeMarket(clock: MarketClockTimes, now: Date = new Date()): MarketDescription {
  const opens = formatNewYorkTime(clock.nextOpen, now);
  const closes = formatNewYorkTime(clock.nextClose, now);
  if (clock.isOpen) {
    return {
      open: true,
      headline: `Market open — closes ${closes}`,
      detail: `Closes ${closes}${countdown(now, clock.nextClose)}; next open ${opens}.`,
    };
  }
  return {
    open: false,
    headline: `Market closed — opens ${opens}`,
    detail: `Opens ${opens}${countdown(now, clock.nextOpen)}; closes ${closes}.`,
  };
}
