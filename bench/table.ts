/** One measured figure: which bench, what was measured, the value with its unit, and how to read it. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: string;
  note?: string;
}

const HEADERS: Record<keyof BenchRow, string> = { bench: 'bench', metric: 'metric', value: 'value', note: 'note' };
const COLUMNS: (keyof BenchRow)[] = ['bench', 'metric', 'value', 'note'];

/** Prints the rows as aligned plain-text columns (values right-aligned so figures line up). */
export function printTable(rows: readonly BenchRow[]): void {
  const cell = (row: BenchRow, column: keyof BenchRow) => (column === 'note' ? (row.note ?? '') : row[column]);
  const widths = COLUMNS.map((column) =>
    Math.max(HEADERS[column].length, ...rows.map((row) => cell(row, column).length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => (COLUMNS[i] === 'value' ? value.padStart(widths[i]!) : value.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [
    line(COLUMNS.map((c) => HEADERS[c])),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((row) => line(COLUMNS.map((c) => cell(row, c)))),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
