import { describe, expect, it } from 'vitest';
import { escapeMrkdwn, mrkdwn, plainText, truncate, userMrkdwn } from '../../../src/slack/views/limits';

describe('truncate', () => {
  it('leaves short text alone and ends cut text with an ellipsis within the limit', () => {
    expect(truncate('Growth', 24)).toBe('Growth');
    expect(truncate('x'.repeat(30), 24)).toBe(`${'x'.repeat(23)}…`);
    expect(truncate('x'.repeat(30), 24)).toHaveLength(24);
    expect(truncate('abc', 0)).toBe('');
  });

  it('never splits an emoji into a lone surrogate', () => {
    const cut = truncate('😀'.repeat(10), 6);
    expect(cut).toBe('😀😀…');
    expect(cut.length).toBeLessThanOrEqual(6);
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('text objects', () => {
  it('plain_text and mrkdwn respect their limit and are never empty', () => {
    expect(plainText('New order', 24)).toEqual({ type: 'plain_text', text: 'New order', emoji: true });
    expect(plainText('', 24).text).toBe('—');
    expect(mrkdwn('y'.repeat(5000), 3000).text).toHaveLength(3000);
  });

  it('escapes what Slack would read as mentions or links', () => {
    expect(escapeMrkdwn('<!channel> & <@U1|x>')).toBe('&lt;!channel&gt; &amp; &lt;@U1|x&gt;');
    expect(userMrkdwn('<'.repeat(10), 4)).toBe('&lt;&lt;&lt;…');
  });
});
