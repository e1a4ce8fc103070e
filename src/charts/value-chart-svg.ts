import { axisDollars, niceTicks, shortDate, type Ticks, valueDollars } from './labels';
import type { ChartPoint, ChartSeries, ValueChartModel } from './model';

/**
 * The performance chart as SVG, laid out for a phone: Slack shows an image at the screen's width
 * (about 340 pt), so at 800 px a 19 px label reads as 8–9 pt. Account equity and the portfolios
 * get a panel each (equity is usually many times any portfolio, and one axis would flatten them);
 * both share the date axis. Lines are told apart by dash pattern and marker shape as well as
 * colour, named in a legend, and end in their last value.
 */

export const CHART_WIDTH = 800;
/** Portfolio lines drawn at most; the rest are counted in the panel's title. */
export const MAX_PORTFOLIO_LINES = 5;
export const CHART_FONT_FAMILY = 'Inter';

const PLOT_LEFT = 92;
const PLOT_RIGHT = CHART_WIDTH - 116;
/** Keeps end markers off the plot's edges. */
const INSET = 10;
const HEADER_TOP = 100;
const PANEL_TITLE = 36;
const PANEL_GAP = 26;
const DATE_ROW = 34;
const LEGEND_ROW = 32;
const LABEL_GAP = 24;

const INK = '#111827';
const MUTED = '#4b5563';
const GRID = '#e5e7eb';
const AXIS = '#9ca3af';

type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross';

interface LineStyle {
  color: string;
  /** stroke-dasharray; undefined is solid. */
  dash?: string;
  marker: Marker;
}

const EQUITY_STYLE: LineStyle = { color: '#1e3a5f', marker: 'circle' };

/** Okabe–Ito colours (safe for colour-blind readers), each with its own dash and marker. */
const PORTFOLIO_STYLES: readonly LineStyle[] = [
  { color: '#D55E00', marker: 'circle' },
  { color: '#0072B2', dash: '14 7', marker: 'square' },
  { color: '#009E73', dash: '2 7', marker: 'triangle' },
  { color: '#CC79A7', dash: '18 6 3 6', marker: 'diamond' },
  { color: '#E69F00', dash: '7 5', marker: 'cross' },
];

const round = (n: number) => Math.round(n * 10) / 10;

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Roughly Inter's advance width: enough to keep labels inside their room. */
function textWidth(text: string, size: number): number {
  return text.length * size * 0.56;
}

function truncate(text: string, size: number, room: number): string {
  if (textWidth(text, size) <= room) return text;
  const fits = Math.max(1, Math.floor(room / (size * 0.56)) - 1);
  return `${[...text].slice(0, fits).join('').trimEnd()}…`;
}

function text(
  x: number,
  y: number,
  content: string,
  options: { size?: number; weight?: number; fill?: string; anchor?: 'start' | 'middle' | 'end' } = {},
): string {
  const { size = 19, weight = 400, fill = INK, anchor = 'start' } = options;
  return (
    `<text x="${round(x)}" y="${round(y)}" font-size="${size}" font-weight="${weight}" fill="${fill}"` +
    `${anchor === 'start' ? '' : ` text-anchor="${anchor}"`}>${escapeXml(content)}</text>`
  );
}

function marker(shape: Marker, x: number, y: number, color: string): string {
  const stroke = 'stroke="#ffffff" stroke-width="1.5"';
  switch (shape) {
    case 'circle':
      return `<circle cx="${round(x)}" cy="${round(y)}" r="6.5" fill="${color}" ${stroke}/>`;
    case 'square':
      return `<rect x="${round(x - 6)}" y="${round(y - 6)}" width="12" height="12" fill="${color}" ${stroke}/>`;
    case 'triangle':
      return (
        `<path d="M${round(x)} ${round(y - 8)}L${round(x + 7.5)} ${round(y + 5.5)}` +
        `L${round(x - 7.5)} ${round(y + 5.5)}Z" fill="${color}" ${stroke}/>`
      );
    case 'diamond':
      return (
        `<path d="M${round(x)} ${round(y - 8)}L${round(x + 8)} ${round(y)}L${round(x)} ${round(y + 8)}` +
        `L${round(x - 8)} ${round(y)}Z" fill="${color}" ${stroke}/>`
      );
    case 'cross':
      return (
        `<path d="M${round(x - 6)} ${round(y - 6)}L${round(x + 6)} ${round(y + 6)}M${round(x + 6)} ${round(y - 6)}` +
        `L${round(x - 6)} ${round(y + 6)}" stroke="${color}" stroke-width="4" stroke-linecap="round"/>`
      );
  }
}

function polyline(points: { x: number; y: number }[], style: LineStyle, width: number): string {
  const d = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${round(p.x)} ${round(p.y)}`).join('');
  const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
  return (
    `<path d="${d}" fill="none" stroke="${style.color}" stroke-width="${width}" ` +
    `stroke-linejoin="round" stroke-linecap="round"${dash}/>`
  );
}

/** Labels at least `gap` apart, each as near its wanted y as allows, all within [top, bottom]. */
function spreadLabels(wanted: number[], gap: number, top: number, bottom: number): number[] {
  const order = wanted.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  const placed = order.map((o) => Math.min(Math.max(o.y, top), bottom));
  for (let k = 1; k < placed.length; k++) placed[k] = Math.max(placed[k]!, placed[k - 1]! + gap);
  const overflow = placed.length > 0 ? placed.at(-1)! - bottom : 0;
  if (overflow > 0) {
    placed[placed.length - 1] = bottom;
    for (let k = placed.length - 2; k >= 0; k--) placed[k] = Math.min(placed[k]!, placed[k + 1]! - gap);
  }
  const result = new Array<number>(wanted.length);
  order.forEach((o, k) => {
    result[o.i] = placed[k]!;
  });
  return result;
}

interface Panel {
  title: string;
  lines: { series: ChartSeries; style: LineStyle; width: number; area: boolean }[];
}

function lastValue(series: ChartSeries): number {
  return series.points.at(-1)?.value ?? 0;
}

/** Ascending distinct dates over every series: the shared x axis, one step per trading day. */
function allDates(series: readonly ChartSeries[]): string[] {
  return [...new Set(series.flatMap((s) => s.points.map((p) => p.date)))].sort();
}

/** The first trading day of each week, thinned so labels never crowd (at most about five). */
function dateTicks(dates: readonly string[], xOf: (i: number) => number): number[] {
  if (dates.length <= 1) return dates.length === 1 ? [0] : [];
  const weekOf = (date: string) => Math.floor((Date.parse(`${date}T12:00:00Z`) / 86_400_000 + 3) / 7);
  let ticks = dates.map((d, i) => ({ d, i })).filter(({ d, i }) => i === 0 || weekOf(d) !== weekOf(dates[i - 1]!));
  if (dates.length <= 6) ticks = dates.map((d, i) => ({ d, i }));
  const stride = Math.ceil(ticks.length / 5);
  const chosen: number[] = [];
  ticks.forEach(({ i }, k) => {
    if (k % stride !== 0) return;
    if (chosen.length > 0 && xOf(i) - xOf(chosen.at(-1)!) < 76) return;
    chosen.push(i);
  });
  return chosen;
}

function dateRange(dates: readonly string[]): string {
  if (dates.length === 0) return '';
  const first = shortDate(dates[0]!);
  const last = shortDate(dates.at(-1)!);
  const year = dates.at(-1)!.slice(0, 4);
  return first === last ? `${first}, ${year}` : `${first} – ${last}, ${year}`;
}

export interface ChartSvg {
  svg: string;
  width: number;
  height: number;
}

/** The chart as an SVG document (text in CHART_FONT_FAMILY, which the renderer supplies). */
export function buildValueChartSvg(model: ValueChartModel): ChartSvg {
  const width = CHART_WIDTH;
  const equity = model.equity && model.equity.points.length > 0 ? model.equity : undefined;
  const withPoints = model.portfolios.filter((p) => p.points.length > 0);
  // The largest lines matter most to a reader; the rest are counted, not drawn.
  const shown = [...withPoints]
    .map((series, index) => ({ series, index }))
    .sort((a, b) => Math.abs(lastValue(b.series)) - Math.abs(lastValue(a.series)) || a.index - b.index)
    .slice(0, MAX_PORTFOLIO_LINES)
    .map(({ series }) => series);
  const hidden = withPoints.length - shown.length;

  const panels: Panel[] = [];
  if (equity)
    panels.push({ title: 'Account equity', lines: [{ series: equity, style: EQUITY_STYLE, width: 4, area: true }] });
  if (shown.length > 0) {
    panels.push({
      // A lone portfolio is named in its panel's title instead of a legend.
      title:
        hidden > 0
          ? `Portfolios · +${hidden} more not shown`
          : shown.length === 1
            ? `Portfolio · ${shown[0]!.label}`
            : 'Portfolios',
      lines: shown.map((series, i) => ({ series, style: PORTFOLIO_STYLES[i]!, width: 3.5, area: false })),
    });
  }

  const dates = allDates(panels.flatMap((p) => p.lines.map((l) => l.series)));
  const parts: string[] = [];
  parts.push(text(24, 44, truncate(model.title, 28, width - 48), { size: 28, weight: 600 }));

  if (panels.length === 0) {
    const height = 300;
    parts.push(
      text(width / 2, 170, 'No history to draw yet', { size: 24, weight: 600, fill: MUTED, anchor: 'middle' }),
      text(width / 2, 206, 'The chart fills in once the account or a portfolio holds something.', {
        size: 19,
        fill: MUTED,
        anchor: 'middle',
      }),
    );
    return { svg: document(width, height, parts), width, height };
  }

  parts.push(text(24, 76, `${dateRange(dates)} · value at each day’s close`, { size: 19, fill: MUTED }));

  const plotHeight = panels.length === 1 ? 300 : 190;
  const left = PLOT_LEFT + INSET;
  const right = PLOT_RIGHT - INSET;
  const xOf = (i: number) =>
    dates.length === 1 ? (left + right) / 2 : left + (i * (right - left)) / (dates.length - 1);
  const indexOf = new Map(dates.map((d, i) => [d, i]));
  const ticks = dateTicks(dates, xOf);

  let top = HEADER_TOP;
  const plots: { top: number; bottom: number }[] = [];
  for (const panel of panels) {
    const plotTop = top + PANEL_TITLE;
    const plotBottom = plotTop + plotHeight;
    plots.push({ top: plotTop, bottom: plotBottom });
    parts.push(text(24, top + 22, truncate(panel.title, 20, width - 48), { size: 20, weight: 600, fill: MUTED }));
    parts.push(...drawPanel(panel, { top: plotTop, bottom: plotBottom }, xOf, indexOf));
    top = plotBottom + PANEL_GAP;
  }
  const lastBottom = plots.at(-1)!.bottom;

  // Date gridlines through every panel, labelled once under the last.
  for (const i of ticks) {
    for (const plot of plots) {
      parts.unshift(`<path d="M${round(xOf(i))} ${plot.top}V${plot.bottom}" stroke="${GRID}" stroke-width="1.5"/>`);
    }
    parts.push(text(xOf(i), lastBottom + 28, shortDate(dates[i]!), { fill: MUTED, anchor: 'middle' }));
  }

  let height = lastBottom + DATE_ROW + 14;
  const portfolioPanel = panels.find((p) => p.lines[0]?.style !== EQUITY_STYLE);
  if (portfolioPanel && portfolioPanel.lines.length > 1) {
    const legendTop = lastBottom + DATE_ROW + 16;
    const columnWidth = (width - 48) / 2;
    portfolioPanel.lines.forEach((line, i) => {
      const x = 24 + (i % 2) * columnWidth;
      const y = legendTop + Math.floor(i / 2) * LEGEND_ROW + 12;
      parts.push(
        polyline(
          [
            { x, y },
            { x: x + 44, y },
          ],
          line.style,
          3.5,
        ),
        marker(line.style.marker, x + 22, y, line.style.color),
      );
      parts.push(text(x + 56, y + 7, truncate(line.series.label, 19, columnWidth - 64), { size: 19 }));
    });
    height = legendTop + Math.ceil(portfolioPanel.lines.length / 2) * LEGEND_ROW + 8;
  }
  return { svg: document(width, Math.round(height), parts), width, height: Math.round(height) };
}

function drawPanel(
  panel: Panel,
  plot: { top: number; bottom: number },
  xOf: (i: number) => number,
  indexOf: ReadonlyMap<string, number>,
): string[] {
  const values = panel.lines.flatMap((l) => l.series.points.map((p) => p.value));
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = (high - low) * 0.06;
  // Never invent a negative axis for values that are all at or above zero.
  const ticks: Ticks = niceTicks(low >= 0 ? Math.max(0, low - pad) : low - pad, high + pad, 4);
  const yOf = (v: number) => plot.bottom - ((v - ticks.min) / (ticks.max - ticks.min)) * (plot.bottom - plot.top);
  const largest = Math.max(Math.abs(ticks.min), Math.abs(ticks.max));

  const parts: string[] = [];
  for (const tick of ticks.values) {
    const y = yOf(tick);
    const isZero = tick === 0 && ticks.min < 0;
    parts.push(
      `<path d="M${PLOT_LEFT} ${round(y)}H${PLOT_RIGHT}" stroke="${isZero ? AXIS : GRID}" stroke-width="1.5"/>`,
    );
    parts.push(text(PLOT_LEFT - 10, y + 7, axisDollars(tick, ticks.step, largest), { fill: MUTED, anchor: 'end' }));
  }
  parts.push(`<path d="M${PLOT_LEFT} ${plot.bottom}H${PLOT_RIGHT}" stroke="${AXIS}" stroke-width="1.5"/>`);

  const ends: { y: number; label: string }[] = [];
  panel.lines.forEach((line, n) => {
    const points = line.series.points.map((p: ChartPoint) => ({ x: xOf(indexOf.get(p.date)!), y: yOf(p.value) }));
    if (line.area && points.length > 1) {
      const edge = points.map((p) => `L${round(p.x)} ${round(p.y)}`).join('');
      const d = `M${round(points[0]!.x)} ${plot.bottom}${edge}L${round(points.at(-1)!.x)} ${plot.bottom}Z`;
      parts.push(`<path d="${d}" fill="${line.style.color}" fill-opacity="0.08"/>`);
    }
    if (points.length > 1) parts.push(polyline(points, line.style, line.width));
    // A few markers along each line, staggered between lines so they do not sit on each other.
    const every = Math.max(1, Math.round(points.length / 5));
    points.forEach((p, i) => {
      const atEnd = i === points.length - 1;
      if (atEnd || (panel.lines.length > 1 && (i + n) % every === 0 && points.length - 1 - i >= every / 2)) {
        parts.push(marker(line.style.marker, p.x, p.y, line.style.color));
      }
    });
    ends.push({ y: points.at(-1)!.y, label: valueDollars(lastValue(line.series)) });
  });

  const placed = spreadLabels(
    ends.map((e) => e.y),
    LABEL_GAP,
    plot.top - 6,
    plot.bottom + 6,
  );
  ends.forEach((end, i) => {
    const y = placed[i]!;
    if (Math.abs(y - end.y) > 2) {
      const leader = `M${PLOT_RIGHT - 2} ${round(end.y)}L${PLOT_RIGHT + 8} ${round(y)}`;
      parts.push(`<path d="${leader}" stroke="${AXIS}" stroke-width="1.5"/>`);
    }
    parts.push(text(PLOT_RIGHT + 10, y + 7, end.label, { size: 19, weight: 600 }));
  });
  return parts;
}

function document(width: number, height: number, parts: readonly string[]): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    ` font-family="${CHART_FONT_FAMILY}">` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>` +
    `${parts.join('')}</svg>`
  );
}
