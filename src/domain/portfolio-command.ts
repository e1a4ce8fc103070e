import { normalizePortfolioName, portfolioNameKey } from './portfolio-name';

/**
 * `/portfolio [name | account | positions | reconcile | digest | traders | help]`. Anything that is
 * not a keyword is a portfolio name; quoting it (`/portfolio "Account"`) forces the name reading
 * for a portfolio called like a keyword.
 */

export type PortfolioCommand =
  | { kind: 'list' }
  | { kind: 'account' }
  | { kind: 'positions' }
  | { kind: 'help' }
  | { kind: 'reconcile' }
  | { kind: 'digest' }
  | { kind: 'traders' }
  | { kind: 'show'; name: string }
  | { kind: 'invalid'; reason: string };

/** Longest name the books can hold (portfolios.name is varchar(255)); longer text cannot be one. */
export const MAX_PORTFOLIO_QUERY_LENGTH = 255;

type KeywordCommand = Extract<
  PortfolioCommand,
  { kind: 'list' | 'account' | 'positions' | 'help' | 'reconcile' | 'digest' | 'traders' }
>;

const KEYWORDS: Record<string, KeywordCommand['kind']> = {
  account: 'account',
  acct: 'account',
  positions: 'positions',
  position: 'positions',
  pos: 'positions',
  help: 'help',
  '?': 'help',
  list: 'list',
  all: 'list',
  reconcile: 'reconcile',
  digest: 'digest',
  traders: 'traders',
  trader: 'traders',
};

/**
 * Slack sends command text with &, < and > entity-encoded, and mentions / links as `<…|label>`.
 * A name is what the user saw: `@label` for a user, `#label` for a channel, a link's label, the
 * characters for entities.
 */
function plainCommandText(text: string): string {
  return text
    .replace(/<([@#])[^<>|]*\|([^<>]*)>/g, '$1$2')
    .replace(/<([^<>|]*)\|([^<>]*)>/g, '$2')
    .replace(/<([^<>]*)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

// Straight, curly double (“ ”) and curly single (‘ ’) quotes, escaped so the compiled app stays ASCII.
const QUOTED = /^["\u201C\u201D'\u2018\u2019](.*)["\u201C\u201D'\u2018\u2019]$/s;

export function parsePortfolioCommand(raw: string): PortfolioCommand {
  const text = normalizePortfolioName(plainCommandText(raw));
  if (text === '') return { kind: 'list' };
  const quoted = QUOTED.exec(text);
  const keyword = quoted ? undefined : KEYWORDS[text.toLowerCase()];
  if (keyword !== undefined) return { kind: keyword };
  const name = (quoted ? (quoted[1] ?? '') : text).trim();
  if (name === '') return { kind: 'list' };
  if (name.length > MAX_PORTFOLIO_QUERY_LENGTH) {
    return {
      kind: 'invalid',
      reason:
        `That is ${name.length.toLocaleString('en-US')} characters long; ` +
        `portfolio names have at most ${MAX_PORTFOLIO_QUERY_LENGTH}. Try \`/portfolio\` to see them all.`,
    };
  }
  return { kind: 'show', name };
}

/** Edit distance counting insertions, deletions, substitutions and swapped neighbours ("tehc" → "tech" is 1). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * Names close to what was typed, best first: names containing it (or contained in it), then
 * names within a few typos (about one per three characters). Compared by portfolio key, so case,
 * spacing and invisible differences are ignored.
 */
export function suggestNames(query: string, names: readonly string[], max = 3): string[] {
  const key = portfolioNameKey(query);
  if (key === '') return [];
  const scored: { name: string; score: number }[] = [];
  for (const name of names) {
    const candidate = portfolioNameKey(name);
    if (candidate.includes(key) || key.includes(candidate)) {
      scored.push({ name, score: Math.abs(candidate.length - key.length) / 100 });
      continue;
    }
    // Comparing a 5,000-character string with every name would be quadratic for no useful answer.
    if (Math.abs(candidate.length - key.length) > 10) continue;
    const distance = editDistance(key, candidate);
    if (distance <= Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3)))
      scored.push({ name, score: 1 + distance });
  }
  return scored
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((s) => s.name);
}
