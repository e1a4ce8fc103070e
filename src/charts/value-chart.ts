import { createRequire } from 'node:module';
import type { ValueChartModel } from './model';
import { buildValueChartSvg, CHART_FONT_FAMILY } from './value-chart-svg';

export type { ChartPoint, ChartSeries, ValueChartModel } from './model';
export { MAX_PORTFOLIO_LINES } from './value-chart-svg';

export interface RenderedValueChart {
  png: Uint8Array;
  width: number;
  height: number;
  svg: string;
}

const require = createRequire(import.meta.url);

/**
 * Inter, from an npm package that ships TTF (resvg reads TTF/OTF, not WOFF2): the labels look
 * the same on any server, fonts installed or not, because system fonts are never loaded.
 */
export const CHART_FONT_FILES: readonly string[] = [
  require.resolve('@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf'),
  require.resolve('@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf'),
];

/** The chart as PNG (and the SVG it came from). Synchronous: about a few tens of ms for a month of six lines. */
export function renderValueChart(model: ValueChartModel): RenderedValueChart {
  // Loaded on the first chart, not at start-up: the native renderer is 6 MB nobody needs until then.
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const { svg } = buildValueChartSvg(model);
  const image = new Resvg(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: [...CHART_FONT_FILES],
      defaultFontFamily: CHART_FONT_FAMILY,
      sansSerifFamily: CHART_FONT_FAMILY,
    },
    // The SVG paints its own white background.
    fitTo: { mode: 'original' },
    logLevel: 'off',
  }).render();
  return { png: new Uint8Array(image.asPng()), width: image.width, height: image.height, svg };
}
