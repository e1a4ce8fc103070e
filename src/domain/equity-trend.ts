import type { Dec } from './money';

/**
 * A month of account equity in one line of text: Slack renders no charts and there is no image
 * hosting, but block characters in a code span show a trend everywhere, mobile included.
 */

export interface EquityPoint {
  at: Date;
  equity: Dec;
}

export interface EquityTrend {
  first: EquityPoint;
  last: EquityPoint;
  low: EquityPoint;
  high: EquityPoint;
  change: Dec;
  /** Percent, against the first point; undefined when that was zero. */
  changePct?: Dec;
  sparkline: string;
}

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** One bar per point, at most `width` (later points win when squeezed: the latest state matters most). */
export function sparkline(values: readonly Dec[], width = 32): string {
  if (values.length === 0) return '';
  const step = Math.max(1, values.length / width);
  const sampled: Dec[] = [];
  for (let i = values.length - 1; i >= 0 && sampled.length < width; i -= step) sampled.unshift(values[Math.round(i)]!);
  const low = sampled.reduce((a, b) => (b.lt(a) ? b : a));
  const high = sampled.reduce((a, b) => (b.gt(a) ? b : a));
  const range = high.minus(low);
  if (range.isZero()) return BARS[3].repeat(sampled.length);
  return sampled
    .map((v) => BARS[Math.min(BARS.length - 1, Math.floor(v.minus(low).div(range).times(BARS.length).toNumber()))])
    .join('');
}

/** Undefined when there is nothing to draw. Points are taken in time order. */
export function summarizeEquity(points: readonly EquityPoint[], width = 32): EquityTrend | undefined {
  const ordered = [...points].sort((a, b) => a.at.getTime() - b.at.getTime());
  const first = ordered[0];
  const last = ordered.at(-1);
  if (!first || !last) return undefined;
  const low = ordered.reduce((a, b) => (b.equity.lt(a.equity) ? b : a));
  const high = ordered.reduce((a, b) => (b.equity.gt(a.equity) ? b : a));
  const change = last.equity.minus(first.equity);
  return {
    first,
    last,
    low,
    high,
    change,
    changePct: first.equity.isZero() ? undefined : change.div(first.equity).times(100),
    sparkline: sparkline(
      ordered.map((p) => p.equity),
      width,
    ),
  };
}
