/** What the performance chart draws: plain numbers and New York dates, built by the service from domain values. */

export interface ChartPoint {
  /** New York trading date, YYYY-MM-DD. */
  date: string;
  /** US dollars. */
  value: number;
}

export interface ChartSeries {
  label: string;
  /** Ascending by date; one point per day at most. */
  points: ChartPoint[];
}

export interface ValueChartModel {
  title: string;
  /** The account's equity at each close; absent when the broker has none (ledger mode, an outage). */
  equity?: ChartSeries;
  /** One line per portfolio; the renderer draws the largest few and counts the rest. */
  portfolios: ChartSeries[];
}
