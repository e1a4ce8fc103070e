import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePortfolioName, portfolioNameKey } from '../../src/domain/portfolio-name';

const COMPOSED = 'Caf\u00e9';
const DECOMPOSED = 'Cafe\u0301';

describe('normalizePortfolioName', () => {
  it.each([
    ['zero-width space', 'Grow\u200Bth', 'Growth'],
    ['zero-width joiner and non-joiner', 'G\u200Drow\u200Cth', 'Growth'],
    ['byte-order mark, word joiner, soft hyphen', '\uFEFFGro\u2060w\u00ADth', 'Growth'],
    ['bidi marks and overrides', '\u200EGrowth\u202E\u2066', 'Growth'],
    ['decomposed accent', DECOMPOSED, COMPOSED],
    ['an accent split from its letter by a format character', 'Cafe\u200B\u0301', COMPOSED],
    ['full-width letters', '\uFF27\uFF52\uFF4F\uFF57\uFF54\uFF48', 'Growth'],
    ['a ligature', '\uFB01nance', 'finance'],
    ['double spaces', 'Growth  Fund', 'Growth Fund'],
    ['tabs, line breaks, no-break and ideographic spaces', ' Growth\t\n\u00A0\u3000Fund ', 'Growth Fund'],
    ['already normal', 'Default Portfolio', 'Default Portfolio'],
  ])('%s: %j → %j', (_, raw, expected) => {
    expect(normalizePortfolioName(raw)).toBe(expected);
  });

  it('keeps case, punctuation and emoji', () => {
    expect(normalizePortfolioName('Tech & Co. 🚀')).toBe('Tech & Co. 🚀');
  });

  it('is idempotent and leaves no format character, double space or outer space', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (raw) => {
        const once = normalizePortfolioName(raw);
        expect(normalizePortfolioName(once)).toBe(once);
        expect(once).not.toMatch(/\p{Cf}|\s\s|^\s|\s$/u);
        expect(once.normalize('NFKC')).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('portfolioNameKey', () => {
  it('gives names that look the same one key, whatever the case', () => {
    expect(
      new Set(
        ['Growth', 'Grow\u200Bth', ' growth ', 'GROWTH', '\uFF27\uFF52\uFF4F\uFF57\uFF54\uFF48'].map(portfolioNameKey),
      ),
    ).toEqual(new Set(['growth']));
    expect(portfolioNameKey(DECOMPOSED)).toBe(portfolioNameKey(COMPOSED.toUpperCase()));
    expect(portfolioNameKey('Growth  Fund')).toBe(portfolioNameKey('growth fund'));
  });

  it('keeps names that look different apart', () => {
    expect(portfolioNameKey('Growth Fund')).not.toBe(portfolioNameKey('GrowthFund'));
    expect(portfolioNameKey('Cafe')).not.toBe(portfolioNameKey(COMPOSED));
  });

  it('is the key of its own output (a key can be looked up as a name)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (raw) => {
        const key = portfolioNameKey(raw);
        expect(portfolioNameKey(key)).toBe(key);
      }),
      { numRuns: 500 },
    );
  });
});
