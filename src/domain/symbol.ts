/**
 * Ticker symbols as Alpaca spells them: letters first, then letters/digits, optionally one
 * class or pair suffix ("BRK.B", "BTC/USD"). Upper-cased; anything else is not a symbol.
 */
const SYMBOL_PATTERN = /^[A-Z][A-Z0-9]{0,9}(?:[./-][A-Z0-9]{1,5})?$/;

/** "aapl " → "AAPL"; undefined when the text cannot be a symbol (spaces, "$", digits first…). */
export function normalizeSymbol(text: string): string | undefined {
  const symbol = text.trim().toUpperCase();
  return SYMBOL_PATTERN.test(symbol) ? symbol : undefined;
}
