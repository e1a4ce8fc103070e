/**
 * New York wall-clock helpers for the stand-in's clock and calendar. Regular sessions only
 * (09:30–16:00 ET, Monday–Friday); exchange holidays are not modelled.
 */
const NEW_YORK = 'America/New_York';

const partsFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: NEW_YORK,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  weekday: 'short',
  timeZoneName: 'longOffset',
});

interface NewYorkParts {
  date: string; // YYYY-MM-DD
  time: string; // HH:MM:SS
  hour: number;
  minute: number;
  weekday: string;
  offset: string; // -04:00 / -05:00
}

function newYorkParts(at: Date): NewYorkParts {
  const parts = Object.fromEntries(partsFormat.formatToParts(at).map((p) => [p.type, p.value]));
  const offset = (parts.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}:${parts.second}`,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: parts.weekday ?? '',
    offset,
  };
}

/** RFC 3339 with New York's offset, the way Alpaca writes clock timestamps ("…T16:00:00-04:00"). */
export function formatNewYork(at: Date): string {
  const p = newYorkParts(at);
  return `${p.date}T${p.time}${p.offset}`;
}

/** The instant at which New York's wall clock shows `hh:mm` on `date` (YYYY-MM-DD). */
function newYorkWallTime(date: string, hh: number, mm: number): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  for (const offsetHours of [4, 5]) {
    const candidate = new Date(Date.UTC(y, m - 1, d, hh + offsetHours, mm));
    const p = newYorkParts(candidate);
    if (p.date === date && p.hour === hh && p.minute === mm) return candidate;
  }
  throw new Error(`no New York wall time ${date} ${hh}:${mm}`);
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function isWeekday(date: string): boolean {
  const day = new Date(`${date}T12:00:00Z`).getUTCDay();
  return day >= 1 && day <= 5;
}

function nextSessionBoundary(after: Date, hh: number, mm: number): Date {
  const today = newYorkParts(after).date;
  for (let i = 0; i < 8; i++) {
    const date = addDays(today, i);
    if (!isWeekday(date)) continue;
    const at = newYorkWallTime(date, hh, mm);
    if (at.getTime() > after.getTime()) return at;
  }
  throw new Error('no session boundary within a week');
}

export function nextOpenAfter(after: Date): Date {
  return nextSessionBoundary(after, 9, 30);
}

export function nextCloseAfter(after: Date): Date {
  return nextSessionBoundary(after, 16, 0);
}

export interface CalendarDay {
  date: string;
  open: string;
  close: string;
  session_open: string;
  session_close: string;
  settlement_date: string;
}

/** Trading days between two New York dates (inclusive), as GET /v2/calendar lists them. */
export function tradingDays(start: string, end: string): CalendarDay[] {
  const days: CalendarDay[] = [];
  for (let date = start; date <= end && days.length < 1000; date = addDays(date, 1)) {
    if (!isWeekday(date)) continue;
    let settlement = addDays(date, 1);
    while (!isWeekday(settlement)) settlement = addDays(settlement, 1);
    days.push({
      date,
      open: '09:30',
      close: '16:00',
      session_open: '0400',
      session_close: '2000',
      settlement_date: settlement,
    });
  }
  return days;
}

/** Midnight in New York that starts the trading day `sessionsBack` sessions before the one holding `at`. */
export function sessionStart(at: Date, sessionsBack = 0): Date {
  let date = newYorkParts(at).date;
  for (let back = sessionsBack; back > 0; ) {
    date = addDays(date, -1);
    if (isWeekday(date)) back -= 1;
  }
  return newYorkWallTime(date, 0, 0);
}

/** Midnight in New York on a date (YYYY-MM-DD): where Alpaca stamps that session's daily bar. */
export function newYorkMidnight(date: string): Date {
  return newYorkWallTime(date, 0, 0);
}

export function newYorkDate(at: Date): string {
  return newYorkParts(at).date;
}

export function addCalendarDays(date: string, days: number): string {
  return addDays(date, days);
}
