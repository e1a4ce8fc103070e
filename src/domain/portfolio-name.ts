/**
 * Portfolio names as people see them, not as code points: "Grow\u200Bth" (a zero-width space),
 * "Café" typed with a combining accent, "Growth  Fund" with two spaces and a full-width
 * "Ｇｒｏｗｔｈ" all look like one name, so they are one name.
 */

// Format characters (zero-width space and joiners, bidi marks and overrides, soft hyphen, BOM…)
// are invisible, so two names differing only in them would look the same. Emoji joined with a
// zero-width joiner fall apart into their parts: still readable, and still one name.
const FORMAT_CHARACTERS = /\p{Cf}/gu;
const WHITESPACE_RUN = /\s+/g;

/**
 * The spelling a portfolio name is stored and shown in: no format characters, NFKC (composed
 * accents; full-width, ligature and other compatibility forms folded), each run of whitespace one
 * space, no space at either end. Idempotent. Format characters go first so that an accent
 * separated from its letter by one still composes with it.
 */
export function normalizePortfolioName(name: string): string {
  return name.replace(FORMAT_CHARACTERS, '').normalize('NFKC').replace(WHITESPACE_RUN, ' ').trim();
}

/**
 * What portfolio names are matched on: the normalised name, case-insensitive ("growth" is
 * "Growth"). toLowerCase, not toLocaleLowerCase: the key must not depend on the server's locale
 * or ICU build, and for 'en-US' the two agree anyway.
 */
export function portfolioNameKey(name: string): string {
  return normalizePortfolioName(name).toLowerCase();
}

/** Where an order goes when no portfolio is named, and what adopted broker orders are booked into. */
export const DEFAULT_PORTFOLIO = 'Default Portfolio';

/** Portfolio names to offer, the default one first when it does not exist yet. */
export function withDefaultPortfolio(names: readonly string[]): string[] {
  const key = portfolioNameKey(DEFAULT_PORTFOLIO);
  return names.some((n) => portfolioNameKey(n) === key) ? [...names] : [DEFAULT_PORTFOLIO, ...names];
}
