/** Axis and line-end labels short enough for a phone: "$12.3k", "−$950", "Nov 3". */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MINUS = '\u2212';

/** "Nov 3" for 2025-11-03 (the date as written: no time zone to shift it). */
export function shortDate(date: string): string {
  const [, month = 1, day = 1] = date.split('-').map(Number);
  return `${MONTHS[month - 1] ?? '?'} ${day}`;
}

const SCALES = [
  { from: 1e9, unit: 1e9, suffix: 'B' },
  { from: 1e6, unit: 1e6, suffix: 'M' },
  { from: 1e3, unit: 1e3, suffix: 'k' },
  { from: 0, unit: 1, suffix: '' },
] as const;

function withSign(value: number, digits: string): string {
  return value < 0 && Number(digits.replace(/[^\d.]/g, '')) !== 0 ? `${MINUS}$${digits}` : `$${digits}`;
}

function grouped(value: number, decimals: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/**
 * An axis tick: the unit of the axis's largest value, with as many decimals as the step needs to
 * keep neighbouring ticks apart ($100k, $100.5k, $101k → "$100.0k", "$100.5k", "$101.0k").
 */
export function axisDollars(value: number, step: number, largest: number): string {
  if (value === 0) return '$0';
  // A unit that would need two decimals gives way to the next smaller one: "$50,030", not "$50.03k".
  const scale = SCALES.find((s) => Math.abs(largest) >= s.from && step >= s.unit / 10) ?? SCALES[3];
  const inUnits = step / scale.unit;
  const decimals = [0, 1, 2].find((d) => Math.abs(Math.round(inUnits * 10 ** d) - inUnits * 10 ** d) < 1e-6) ?? 2;
  return withSign(value, `${grouped(Math.abs(value) / scale.unit, decimals)}${scale.suffix}`);
}

/** A line's last value: whole dollars ("$101,835"), cents below $100, millions from $1M ("$1.25M"). */
export function valueDollars(value: number): string {
  const abs = Math.abs(value);
  if (abs === 0) return '$0';
  if (abs >= 1e9) return withSign(value, `${grouped(abs / 1e9, 2)}B`);
  if (abs >= 1e6) return withSign(value, `${grouped(abs / 1e6, 2)}M`);
  if (abs >= 100) return withSign(value, grouped(abs, 0));
  return withSign(value, grouped(abs, 2));
}

export interface Ticks {
  min: number;
  max: number;
  step: number;
  values: number[];
}

/**
 * Round tick values (1, 2, 2.5 or 5 × 10^n apart) covering [low, high] in about `count` steps. A
 * flat range is widened around its value, so a flat line sits mid-panel instead of on an edge.
 */
export function niceTicks(low: number, high: number, count = 4): Ticks {
  let lo = low;
  let hi = high;
  if (hi - lo < 1e-9) {
    // Nothing but zero: a baseline, labelled $0, with the line on it.
    if (lo === 0) return { min: 0, max: 1, step: 1, values: [0] };
    const pad = Math.abs(lo) * 0.02;
    lo -= pad;
    hi += pad;
  }
  const rough = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  for (let v = min; v <= max + step / 2; v += step) values.push(Number(v.toPrecision(12)));
  return { min, max, step, values };
}
