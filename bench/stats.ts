/** Nearest-rank percentile (p in 0..100) of a non-empty sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty sample');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function ms(value: number): string {
  return `${Math.round(value)} ms`;
}

/** Milliseconds below 10 s, seconds (one decimal) above. */
export function duration(valueMs: number): string {
  return valueMs < 10_000 ? ms(valueMs) : `${(valueMs / 1000).toFixed(1)} s`;
}

export function ratio(value: number): string {
  return value.toFixed(value < 0.1 ? 3 : 2);
}

export function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}
