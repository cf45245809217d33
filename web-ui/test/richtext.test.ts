import { describe, expect, it } from 'vitest';
import { parseRich, type RichNode } from '../src/ui/richtext';

const text = (t: string): RichNode => ({ kind: 'text', text: t });
const link = (href: string): RichNode => ({ kind: 'link', href, text: href });

describe('parseRich', () => {
  it('keeps plain text as one text node', () => {
    expect(parseRich('hello there')).toEqual([text('hello there')]);
    expect(parseRich('')).toEqual([]);
  });

  it('links http, https and mailto, without the punctuation after them', () => {
    expect(parseRich('see https://example.org/a?b=1. ok')).toEqual([text('see '), link('https://example.org/a?b=1'), text('. ok')]);
    expect(parseRich('(http://x.io/path)')).toEqual([text('('), link('http://x.io/path'), text(')')]);
    expect(parseRich('mail mailto:bob@example.com!')).toEqual([text('mail '), link('mailto:bob@example.com'), text('!')]);
  });

  it('never links another scheme', () => {
    for (const t of ['javascript:alert(1)', 'JavaScript:alert(document.cookie)', 'data:text/html,<b>x</b>', 'vbscript:msgbox', 'file:///etc/passwd']) {
      expect(parseRich(t).some((n) => n.kind === 'link'), t).toBe(false);
    }
    expect(parseRich('<a href="javascript:alert(1)">x</a>')).toEqual([text('<a href="javascript:alert(1)">x</a>')]);
  });

  it('keeps markup inside code as it is', () => {
    expect(parseRich('run `rm -rf *tmp* <b>` now')).toEqual([text('run '), { kind: 'code', text: 'rm -rf *tmp* <b>' }, text(' now')]);
    expect(parseRich('```js\nconst a = *b* + _c_; // https://x.org\n```')).toEqual([
      { kind: 'pre', text: 'const a = *b* + _c_; // https://x.org\n' },
    ]);
    expect(parseRich('```\n<script>alert(1)</script>\n```')).toEqual([{ kind: 'pre', text: '<script>alert(1)</script>\n' }]);
  });

  it('reads *bold* and _italic_, and leaves snake_case and lone stars alone', () => {
    expect(parseRich('a *big* deal')).toEqual([text('a '), { kind: 'strong', children: [text('big')] }, text(' deal')]);
    expect(parseRich('_quite_ so')).toEqual([{ kind: 'em', children: [text('quite')] }, text(' so')]);
    expect(parseRich('*very _much_ so*')).toEqual([
      { kind: 'strong', children: [text('very '), { kind: 'em', children: [text('much')] }, text(' so')] },
    ]);
    expect(parseRich('my_var_name and 2 * 3 * 4')).toEqual([text('my_var_name and 2 * 3 * 4')]);
    expect(parseRich('* not bold *')).toEqual([text('* not bold *')]);
  });

  it('gives the text back, markers aside', () => {
    const flat = (nodes: RichNode[]): string =>
      nodes.map((n) => ('children' in n ? flat(n.children) : n.text)).join('');
    const t = 'x *y* _z_ `w` https://a.b/c end';
    expect(flat(parseRich(t))).toBe('x y z w https://a.b/c end');
  });
});
