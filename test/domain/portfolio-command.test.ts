import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePortfolioCommand, suggestNames } from '../../src/domain/portfolio-command';

describe('parsePortfolioCommand', () => {
  it.each([
    ['', { kind: 'list' }],
    ['   ', { kind: 'list' }],
    ['ACCOUNT', { kind: 'account' }],
    [' positions ', { kind: 'positions' }],
    ['pos', { kind: 'positions' }],
    ['help', { kind: 'help' }],
    ['?', { kind: 'help' }],
    ['Traders', { kind: 'traders' }],
    ['trader', { kind: 'traders' }],
    ['"traders"', { kind: 'show', name: 'traders' }],
    ['Growth', { kind: 'show', name: 'Growth' }],
    ['  Growth   Fund ', { kind: 'show', name: 'Growth Fund' }],
    ['"Account"', { kind: 'show', name: 'Account' }],
    ['“help”', { kind: 'show', name: 'help' }],
    ['""', { kind: 'list' }],
    ['Grow\u200Bth', { kind: 'show', name: 'Growth' }],
    ['Cafe\u0301', { kind: 'show', name: 'Caf\u00e9' }],
    ['acc\u200Bount', { kind: 'account' }],
    ['\u200B', { kind: 'list' }],
  ])('%j → %j', (text, expected) => {
    expect(parsePortfolioCommand(text)).toEqual(expected);
  });

  it('reads names as the user saw them: mentions, channels, links and entities', () => {
    expect(parsePortfolioCommand('<@U0123|bob> fund')).toEqual({ kind: 'show', name: '@bob fund' });
    expect(parsePortfolioCommand('<#C0123|desk>')).toEqual({ kind: 'show', name: '#desk' });
    expect(parsePortfolioCommand('<https://example.com|site>')).toEqual({ kind: 'show', name: 'site' });
    expect(parsePortfolioCommand('A &amp; B &lt;x&gt;')).toEqual({ kind: 'show', name: 'A & B <x>' });
  });

  it('refuses text too long to be a name, saying how long it was', () => {
    const parsed = parsePortfolioCommand('x'.repeat(5000));
    expect(parsed).toEqual({
      kind: 'invalid',
      reason: 'That is 5,000 characters long; portfolio names have at most 255. Try `/portfolio` to see them all.',
    });
    expect(parsePortfolioCommand('x'.repeat(255))).toMatchObject({ kind: 'show' });
  });

  it('never throws, and a name is never empty or longer than 255 characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), (text) => {
        const parsed = parsePortfolioCommand(text);
        if (parsed.kind === 'show') {
          expect(parsed.name.length).toBeGreaterThan(0);
          expect(parsed.name.length).toBeLessThanOrEqual(255);
        }
      }),
    );
  });
});

describe('suggestNames', () => {
  const names = ['Growth', 'Growth Fund', 'Income', 'Default Portfolio', 'Tech'];

  it('typos and partial names find the closest names first', () => {
    expect(suggestNames('grwth', names)).toEqual(['Growth']);
    expect(suggestNames('growth', names)).toEqual(['Growth', 'Growth Fund']);
    expect(suggestNames('incom', names)).toEqual(['Income']);
    expect(suggestNames('default', names)).toEqual(['Default Portfolio']);
    expect(suggestNames('TEHC', names)).toEqual(['Tech']);
  });

  it('nothing close, nothing suggested; at most three', () => {
    expect(suggestNames('zzzzzz', names)).toEqual([]);
    expect(suggestNames('', names)).toEqual([]);
    expect(suggestNames('x'.repeat(5000), names)).toEqual([]);
    expect(suggestNames('a', ['a1', 'a2', 'a3', 'a4'])).toHaveLength(3);
  });

  it('names that only look different count as the same name, best first', () => {
    expect(suggestNames('Grow\u200Bth', names)).toEqual(['Growth', 'Growth Fund']);
    expect(suggestNames('growth\u00a0 fund', names)).toEqual(['Growth Fund', 'Growth']);
    expect(suggestNames('cafe\u0301', ['Caf\u00e9 Fund', 'Cafe'])).toEqual(['Caf\u00e9 Fund', 'Cafe']);
  });
});
