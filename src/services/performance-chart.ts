import type { Broker } from '../broker/broker';
import { type ChartSeries, renderValueChart, type ValueChartModel } from '../charts/value-chart';
import type { FillHistoryRepository } from '../db/repositories/fill-history-repository';
import type { PortfolioRepository } from '../db/repositories/portfolio-repository';
import { sparkline, summarizeEquity } from '../domain/equity-trend';
import { describeError } from '../domain/errors';
import type { DailyBar } from '../domain/market';
import { newYorkDate } from '../domain/market-hours';
import { type Dec, formatUsd } from '../domain/money';
import { portfolioNameKey } from '../domain/portfolio-name';
import {
  addDays,
  barDates,
  type ClosesBySymbol,
  portfolioValueHistory,
  type TradingDate,
  weekdaysBetween,
} from '../domain/value-history';
import type { Logger } from '../logger';

/**
 * The account's equity over the last month and each portfolio's value over the same days, drawn
 * as one PNG for the closing digest and the Home tab. Equity is Alpaca's portfolio history;
 * portfolio values are rebuilt from the stored fills and Alpaca's daily closes. One chart serves
 * every caller for 15 minutes; concurrent callers share one build.
 */

export interface PerformanceChart {
  png: Uint8Array;
  /** The text trend (sparkline and figures): Slack's alt text, and what to show if the image cannot be. */
  altText: string;
  generatedAt: Date;
  model: ValueChartModel;
}

export interface PerformanceChartOptions {
  logger: Logger;
  now?: () => Date;
  ttlMs?: number;
}

export const CHART_TTL_MS = 15 * 60_000;
/** After a failure, callers get "no chart" for this long rather than each asking Alpaca again. */
const RETRY_AFTER_FAILURE_MS = 60_000;
/** One month back, like Alpaca's '1M' history. */
const PERIOD_DAYS = 30;
/** Bars from a week before the period give a first-day price to a symbol whose first day has no bar. */
const LOOKBACK_DAYS = 7;
/** Slack's limit for an image's alt text is 2,000 characters. */
const MAX_ALT_TEXT = 2_000;
const ALT_TEXT_PORTFOLIOS = 5;

const TITLE = 'Account equity and portfolios, last month';

export class PerformanceChartService {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly ttlMs: number;
  private cached?: { chart: PerformanceChart | undefined; expiresAt: number };
  private inFlight?: Promise<PerformanceChart | undefined>;

  constructor(
    private readonly broker: Broker,
    private readonly fills: FillHistoryRepository,
    private readonly portfolios: PortfolioRepository,
    options: PerformanceChartOptions,
  ) {
    this.logger = options.logger.child({ component: 'performance-chart' });
    this.now = options.now ?? (() => new Date());
    this.ttlMs = options.ttlMs ?? CHART_TTL_MS;
  }

  /**
   * The current chart; undefined when Alpaca (or the database) did not answer or there is nothing
   * to draw yet — show the text trend then.
   */
  chart(): Promise<PerformanceChart | undefined> {
    if (this.cached && this.cached.expiresAt > this.now().getTime()) return Promise.resolve(this.cached.chart);
    this.inFlight ??= this.build().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async build(): Promise<PerformanceChart | undefined> {
    const generatedAt = this.now();
    try {
      const model = await this.model(generatedAt);
      if (!model) {
        // Nothing held and no account history: the text ("no history yet") says it better than an empty picture.
        this.cached = { chart: undefined, expiresAt: generatedAt.getTime() + this.ttlMs };
        return undefined;
      }
      const startedAt = performance.now();
      const { png } = renderValueChart(model.chart);
      this.logger.debug({ ms: Math.round(performance.now() - startedAt), bytes: png.length }, 'chart rendered');
      const chart: PerformanceChart = { png, altText: model.altText, generatedAt, model: model.chart };
      this.cached = { chart, expiresAt: generatedAt.getTime() + this.ttlMs };
      return chart;
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'could not build the performance chart; the text trend stands in');
      this.cached = { chart: undefined, expiresAt: generatedAt.getTime() + RETRY_AFTER_FAILURE_MS };
      return undefined;
    }
  }

  private async model(now: Date): Promise<{ chart: ValueChartModel; altText: string } | undefined> {
    const today = newYorkDate(now);
    const start = addDays(today, -PERIOD_DAYS);
    // UTC midnight is a few hours before New York's: fills in between are merely listed rather than summed.
    const [history, fillHistories, names] = await Promise.all([
      this.broker.getPortfolioHistory('1M'),
      this.fills.historySince(new Date(`${start}T00:00:00Z`)),
      this.portfolios.list(),
    ]);
    const symbols = [...new Set([...fillHistories.values()].flatMap((h) => h.fills.map((f) => f.symbol)))].sort();
    const bars =
      symbols.length > 0
        ? await this.broker.getDailyBars(symbols, addDays(start, -LOOKBACK_DAYS), today)
        : new Map<string, DailyBar[]>();
    const closes: ClosesBySymbol = new Map(
      [...bars].map(([symbol, list]) => [symbol, new Map(list.map((b) => [b.date, b.close]))]),
    );

    // One point per New York date: the last the history gives for it.
    const equityByDate = new Map<TradingDate, Dec>();
    for (const point of history) {
      const date = newYorkDate(point.at);
      if (date >= start && date <= today) equityByDate.set(date, point.equity);
    }
    const equityDates = [...equityByDate.keys()];
    let days = [...new Set([...equityDates, ...barDates(closes, start, today)])].sort();
    // Ledger mode has neither history nor bars: the weekdays stand in for the trading days.
    if (days.length === 0 && fillHistories.size > 0) days = weekdaysBetween(start, today);

    const nameOf = new Map(names.map((p) => [portfolioNameKey(p.name), p.name]));
    const portfolios: (ChartSeries & { values: Dec[] })[] = [];
    for (const history of fillHistories.values()) {
      const points = portfolioValueHistory(history.fills, closes, days);
      // A line starts on its first day holding something; a portfolio that held nothing all month has none.
      const first = points.findIndex((p) => !p.value.isZero());
      if (first < 0) continue;
      const kept = points.slice(first);
      portfolios.push({
        label: nameOf.get(history.portfolioKey) ?? history.portfolioName,
        points: kept.map((p) => ({ date: p.date, value: toDollars(p.value) })),
        values: kept.map((p) => p.value),
      });
    }
    portfolios.sort((a, b) => a.label.localeCompare(b.label));

    const equityPoints = [...equityByDate].sort(([a], [b]) => a.localeCompare(b));
    if (equityPoints.length === 0 && portfolios.length === 0) return undefined;
    const chart: ValueChartModel = {
      title: TITLE,
      equity:
        equityPoints.length > 0
          ? {
              label: 'Account equity',
              points: equityPoints.map(([date, equity]) => ({ date, value: toDollars(equity) })),
            }
          : undefined,
      portfolios: portfolios.map(({ label, points }) => ({ label, points })),
    };
    return { chart, altText: altTextOf(history, portfolios) };
  }
}

function toDollars(value: Dec): number {
  return value.toDecimalPlaces(2).toNumber();
}

/**
 * The text version: the account's month as the Home tab shows it (sparkline, first → last, change,
 * low and high), then the largest portfolios' sparklines and latest values.
 */
function altTextOf(
  history: readonly { at: Date; equity: Dec }[],
  portfolios: readonly { label: string; values: Dec[] }[],
): string {
  const lines: string[] = [];
  const trend = summarizeEquity(history);
  if (trend) {
    const change = trend.change.isNegative() ? `−${formatUsd(trend.change.abs())}` : `+${formatUsd(trend.change)}`;
    const pct = trend.changePct ? ` (${trend.changePct.isNegative() ? '' : '+'}${trend.changePct.toFixed(2)}%)` : '';
    lines.push(
      `Account equity, last month: ${trend.sparkline} ${formatUsd(trend.first.equity)} → ` +
        `${formatUsd(trend.last.equity)}, ${change}${pct}; ` +
        `low ${formatUsd(trend.low.equity)}, high ${formatUsd(trend.high.equity)}.`,
    );
  } else {
    lines.push('Account equity, last month: no history from the broker.');
  }
  const largest = [...portfolios]
    .sort((a, b) => b.values.at(-1)!.abs().comparedTo(a.values.at(-1)!.abs()))
    .slice(0, ALT_TEXT_PORTFOLIOS);
  for (const p of largest) lines.push(`${p.label}: ${sparkline(p.values, 16)} ${formatUsd(p.values.at(-1)!)}.`);
  if (portfolios.length > largest.length) lines.push(`+${portfolios.length - largest.length} more portfolios.`);
  const text = lines.join('\n');
  return text.length <= MAX_ALT_TEXT ? text : `${text.slice(0, MAX_ALT_TEXT - 1)}…`;
}
