import { describe, expect, it } from 'vitest';
import { codeMrkdwn, escapeMrkdwn, mrkdwn, plainText, truncate, userMrkdwn } from '../../../src/slack/block-kit/limits';

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

  it('mrkdwn text objects are verbatim: Slack links no URL, channel name or @name in them by itself', () => {
    expect(mrkdwn('see https://evil.example #general @here', 3000)).toEqual({
      type: 'mrkdwn',
      text: 'see https://evil.example #general @here',
      verbatim: true,
    });
  });

  it('formatting characters show as look-alikes where Slack would read them, and nowhere else', () => {
    expect(escapeMrkdwn('*bold* _italic_ ~strike~ `code`')).toBe(
      '\u2217bold\u2217 \u02cditalic\u02cd \u223cstrike\u223c \u02cbcode\u02cb',
    );
    expect(escapeMrkdwn('snake_case 2*3 a~b')).toBe('snake_case 2*3 a~b');
    expect(escapeMrkdwn(':white_check_mark:')).toBe(':white_check_mark:');
  });

  it('a ">" that starts a line does not quote it', () => {
    expect(escapeMrkdwn('> quoted\n> again')).toBe('\u00ad&gt; quoted\n\u00ad&gt; again');
    expect(escapeMrkdwn('a > b')).toBe('a &gt; b');
  });

  it('inside code, text keeps its characters; only a backtick (which would end the code) changes', () => {
    expect(codeMrkdwn('oms-V1_*x*_ <!here> `end`', 200)).toBe('oms-V1_*x*_ &lt;!here&gt; \u02cbend\u02cb');
    expect(codeMrkdwn('x'.repeat(10), 4)).toBe('xxx…');
  });
});
