// Message text as people read it: links, `inline code`, fenced code blocks, *bold* and _italic_.
// A small parser of our own into plain nodes (no DOM, no HTML): the view renders each node as an
// element with its text as a text node, so nothing a user writes is ever parsed as HTML.

export type RichNode =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'pre'; text: string }
  | { kind: 'strong'; children: RichNode[] }
  | { kind: 'em'; children: RichNode[] }
  | { kind: 'link'; href: string; text: string };

/** ```lang?\n … ``` — the language word (if any) is dropped; the content is kept verbatim. */
const FENCE = /```(?:[a-z0-9+#-]*\n)?([\s\S]*?)```/g;
/** `code` within one line. */
const INLINE_CODE = /`([^`\n]+)`/g;
/**
 * http(s) and mailto only. A URL ends before whitespace and `<`, and never with the punctuation
 * that usually follows it in a sentence (`see https://x.org/a.`).
 */
const LINK = /\b(?:https?:\/\/[^\s<>"]+[^\s<>".,:;'!?)\]]|mailto:[^\s<>"@]+@[^\s<>"]+[^\s<>".,:;'!?)\]])/gi;
/** *bold*: not after a letter or digit, no space just inside, within one line. */
const STRONG = /(^|[^\p{L}\p{N}*])\*(?=\S)([^*\n]*?\S)\*(?![\p{L}\p{N}*])/gu;
/** _italic_: as bold, so snake_case_names stay as they are. */
const EM = /(^|[^\p{L}\p{N}_])_(?=\S)([^_\n]*?\S)_(?![\p{L}\p{N}_])/gu;

/** Parses a message's text; concatenating every node's text gives the text back, markers aside. */
export function parseRich(text: string): RichNode[] {
  return split(text, FENCE, (m) => [{ kind: 'pre', text: m[1] }], (rest) =>
    split(rest, INLINE_CODE, (m) => [{ kind: 'code', text: m[1] }], inline),
  );
}

/** Links first (their text keeps its `*` and `_`), then emphasis in what is left. */
function inline(text: string): RichNode[] {
  return split(text, LINK, (m) => [{ kind: 'link', href: m[0], text: m[0] }], emphasis);
}

function emphasis(text: string): RichNode[] {
  return split(text, STRONG, (m) => [...plain(m[1]), { kind: 'strong', children: italic(m[2]) }], italic);
}

function italic(text: string): RichNode[] {
  return split(text, EM, (m) => [...plain(m[1]), { kind: 'em', children: plain(m[2]) }], plain);
}

function plain(text: string): RichNode[] {
  return text ? [{ kind: 'text', text }] : [];
}

/** Cuts `text` at every match of `re`: matches become `hit(match)`, the parts between `rest(part)`. */
function split(text: string, re: RegExp, hit: (m: RegExpExecArray) => RichNode[], rest: (part: string) => RichNode[]): RichNode[] {
  const out: RichNode[] = [];
  let at = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push(...rest(text.slice(at, m.index)), ...hit(m));
    at = m.index + m[0].length;
    if (m[0].length === 0) re.lastIndex++;
  }
  out.push(...rest(text.slice(at)));
  return merged(out);
}

/** Neighbouring text nodes as one (a pattern's leading context is cut off as text of its own). */
function merged(nodes: RichNode[]): RichNode[] {
  const out: RichNode[] = [];
  for (const n of nodes) {
    const last = out[out.length - 1];
    if (n.kind === 'text' && last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + n.text };
    else out.push(n);
  }
  return out;
}
