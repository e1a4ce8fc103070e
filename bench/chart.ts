import { performance } from 'node:perf_hooks';
import { renderValueChart, type ValueChartModel } from '../src/charts/value-chart';
import { weekdaysBetween } from '../src/domain/value-history';
import { median, ms, percentile, ratio } from './stats';
import type { BenchRow } from './table';

const WARM_UP = 3;
const RUNS = 60;
const RENDER_GOAL_MS = 150;

/** A month of trading days with account equity and five portfolios of different sizes, all moving. */
function monthModel(): ValueChartModel {
  const days = weekdaysBetween('2025-11-03', '2025-12-02').filter((d) => d !== '2025-11-27');
  const line = (label: string, base: number, amplitude: number, drift: number, phase: number) => ({
    label,
    points: days.map((date, i) => ({
      date,
      value: Math.round((base + amplitude * Math.sin(i / 2.3 + phase) + drift * i) * 100) / 100,
    })),
  });
  return {
    title: 'Account equity and portfolios, last month',
    equity: line('Account equity', 100_000, 900, 60, 0),
    portfolios: [
      line('Growth', 24_000, 600, 40, 1),
      line('Dividend income', 18_500, 300, -20, 2),
      line('Tech momentum', 9_000, 500, 90, 3),
      line('Hedges', 4_000, 200, 10, 4),
      line('Class of 2026', 12_200, 400, 0, 5),
    ],
  };
}

/** renderValueChart (SVG built in code, rasterised by resvg with the bundled font) on one model, repeatedly. */
export async function benchChart(): Promise<BenchRow[]> {
  const model = monthModel();
  for (let i = 0; i < WARM_UP; i++) renderValueChart(model);
  const times: number[] = [];
  const cpu: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const cpuBefore = process.cpuUsage();
    const startedAt = performance.now();
    bytes = renderValueChart(model).png.length;
    times.push(performance.now() - startedAt);
    const used = process.cpuUsage(cpuBefore);
    cpu.push((used.user + used.system) / 1000);
  }
  const p99 = percentile(times, 99);
  const scale = `equity + 5 portfolios × ${model.equity!.points.length} trading days, 800 px wide`;
  return [
    { bench: 'chart', metric: 'render to PNG, p50', value: ms(median(times)), note: `${scale}; ${RUNS} runs` },
    {
      bench: 'chart',
      metric: 'render to PNG, p99',
      value: ms(p99),
      note: `goal ≤ ${RENDER_GOAL_MS} ms (${ratio(p99 / RENDER_GOAL_MS)} of it)`,
    },
    {
      bench: 'chart',
      metric: 'render CPU time, p50',
      value: ms(median(cpu)),
      note: 'what one render costs a core; wall time above also counts waiting for one on a busy machine',
    },
    {
      bench: 'chart',
      metric: 'PNG size',
      value: `${(bytes / 1024).toFixed(0)} KB`,
      note: 'uploaded once per 15 minutes',
    },
  ];
}
