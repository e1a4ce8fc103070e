import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { MAX_PORTFOLIO_LINES, renderValueChart, type ValueChartModel } from '../../src/charts/value-chart';
import { weekdaysBetween } from '../../src/domain/value-history';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from the IHDR chunk, which PNG requires first. */
function ihdr(png: Uint8Array): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Pixels of the decoded PNG, counted: not white, and near a given colour. */
function pixels(png: Uint8Array) {
  const image = decode(png);
  const channels = image.channels;
  const data = image.data;
  const count = (test: (r: number, g: number, b: number) => boolean) => {
    let n = 0;
    for (let i = 0; i < data.length; i += channels) if (test(data[i]!, data[i + 1]!, data[i + 2]!)) n++;
    return n;
  };
  return {
    nonWhite: count((r, g, b) => r < 245 || g < 245 || b < 245),
    near: (hex: string) => {
      const [r0, g0, b0] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
      return count((r, g, b) => Math.abs(r - r0) + Math.abs(g - g0) + Math.abs(b - b0) < 30);
    },
    total: image.width * image.height,
  };
}

// Thanksgiving has no close: the dates are trading days, as the bars give them.
const DAYS = weekdaysBetween('2025-11-03', '2025-12-02').filter((d) => d !== '2025-11-27');
const line = (label: string, values: (i: number) => number, days = DAYS) => ({
  label,
  points: days.map((date, i) => ({ date, value: values(i) })),
});

const MONTH: ValueChartModel = {
  title: 'Account equity and portfolios, last month',
  equity: line('Equity', (i) => 100_000 + 900 * Math.sin(i / 2.3) + 60 * i),
  portfolios: [
    line('Growth', (i) => 24_000 + 600 * Math.sin(i / 2.3) + 40 * i),
    line('R&D <fund>', (i) => 18_500 + 300 * Math.cos(i / 2)),
    line('Tech momentum', (i) => 9_000 + 90 * i, DAYS.slice(8)), // bought mid-period
    line('Hedges', (i) => 4_000 + 10 * i),
    line('Class of 2026', () => 12_200),
  ],
};

describe('renderValueChart', () => {
  it('draws a month of equity and five portfolios as a PNG of the stated size, small enough for Slack', () => {
    const chart = renderValueChart(MONTH);
    expect(ihdr(chart.png)).toEqual({ width: chart.width, height: chart.height });
    expect(chart.width).toBe(800);
    expect(chart.height).toBeGreaterThan(600);
    expect(chart.png.length).toBeLessThan(100_000);

    const seen = pixels(chart.png);
    // Lines, text and grid cover a real part of the picture, and every line's colour is there.
    expect(seen.nonWhite / seen.total).toBeGreaterThan(0.05);
    for (const colour of ['#1e3a5f', '#D55E00', '#0072B2', '#009E73', '#CC79A7', '#E69F00']) {
      expect(seen.near(colour), colour).toBeGreaterThan(100);
    }
  });

  it('is deterministic: the same model gives the same bytes', () => {
    const first = renderValueChart(MONTH);
    const second = renderValueChart(structuredClone(MONTH));
    expect(Buffer.from(second.png).equals(Buffer.from(first.png))).toBe(true);
    expect(second.svg).toBe(first.svg);
  });

  it('labels axes in dollars and dates, each line’s last value, and every portfolio by name', () => {
    const { svg } = renderValueChart(MONTH);
    for (const label of ['$100k', '$102k', '$10k', '$20k', 'Nov 3', 'Nov 10', 'Nov 17', 'Nov 24', 'Dec 1']) {
      expect(svg).toContain(`>${label}</text>`);
    }
    expect(svg).toContain('Nov 3 – Dec 2, 2025');
    // Last values: equity 100,000 + 900·sin(20/2.3) + 60·20; Growth likewise; Hedges 4,000 + 10·20.
    const last = DAYS.length - 1;
    const equityLast = 100_000 + 900 * Math.sin(last / 2.3) + 60 * last;
    expect(svg).toContain(`>$${Math.round(equityLast).toLocaleString('en-US')}</text>`);
    expect(svg).toContain('>$4,200</text>');
    expect(svg).toContain('>$12,200</text>');
    for (const name of ['Growth', 'Tech momentum', 'Hedges', 'Class of 2026']) expect(svg).toContain(`>${name}</text>`);
    // User text is escaped, never markup.
    expect(svg).toContain('>R&#38;D &#60;fund&#62;</text>');
    expect(svg).not.toContain('<fund>');
  });

  it('tells portfolio lines apart without colour: five dash patterns and five marker shapes', () => {
    const { svg } = renderValueChart(MONTH);
    const dashes = new Set([...svg.matchAll(/stroke-dasharray="([^"]+)"/g)].map((m) => m[1]));
    expect(dashes.size).toBe(4); // the fifth line is solid
    expect(svg).toMatch(/<circle [^>]*fill="#D55E00"/);
    expect(svg).toMatch(/<rect x[^>]*fill="#0072B2"/);
    expect(svg).toMatch(/<path d="M[^"]*Z" fill="#009E73"/);
    expect(svg).toMatch(/<path d="M[^"]*Z" fill="#CC79A7"/);
    expect(svg).toMatch(/stroke="#E69F00" stroke-width="4" stroke-linecap="round"/);
  });

  it('draws the largest few portfolios and says how many more there are', () => {
    const many: ValueChartModel = {
      title: 'Busy desk',
      portfolios: Array.from({ length: MAX_PORTFOLIO_LINES + 3 }, (_, k) =>
        line(`Book ${k + 1}`, () => 1_000 * (k + 1)),
      ),
    };
    const { svg } = renderValueChart(many);
    expect(svg).toContain('Portfolios · +3 more not shown');
    for (const k of [8, 7, 6, 5, 4]) expect(svg).toContain(`>Book ${k}</text>`);
    for (const k of [1, 2, 3]) expect(svg).not.toContain(`>Book ${k}</text>`);
  });

  it('copes with one point, flat lines, zero, and no data at all', () => {
    const one = renderValueChart({
      title: 'First day',
      equity: { label: 'Equity', points: [{ date: '2025-12-02', value: 100_000 }] },
      portfolios: [{ label: 'Growth', points: [{ date: '2025-12-02', value: 0 }] }],
    });
    expect(ihdr(one.png)).toEqual({ width: one.width, height: one.height });
    expect(one.svg).toContain('>Dec 2</text>');
    expect(one.svg).toContain('>$100,000</text>');
    expect(one.svg).toContain('Portfolio · Growth');
    expect(pixels(one.png).near('#D55E00')).toBeGreaterThan(20);

    const flat = renderValueChart({
      title: 'Flat',
      portfolios: [line('Cash only', () => 0), line('Steady', () => 5_000)],
    });
    expect(flat.svg).toContain('>$5,000</text>');
    expect(flat.svg).toContain('>$0</text>');
    expect(flat.svg).not.toContain('NaN');

    const empty = renderValueChart({ title: 'Account equity and portfolios, last month', portfolios: [] });
    expect(empty.svg).toContain('No history to draw yet');
    expect(ihdr(empty.png)).toEqual({ width: 800, height: empty.height });
    // Only text is drawn: ink on the page proves the bundled font loaded (system fonts are off).
    expect(pixels(empty.png).nonWhite).toBeGreaterThan(2_000);
  });
});
