import type { JSX } from 'preact';
import { parseRich, type RichNode } from './richtext';

/** A message's text as elements (links, code, emphasis); what users write is only ever text nodes. */
export function RichText({ text }: { text: string }) {
  return <>{parseRich(text).map(render)}</>;
}

function render(n: RichNode, i: number): JSX.Element | string {
  switch (n.kind) {
    case 'text':
      return n.text;
    case 'code':
      return <code key={i}>{n.text}</code>;
    case 'pre':
      return (
        <pre key={i}>
          <code>{n.text}</code>
        </pre>
      );
    case 'strong':
      return <strong key={i}>{n.children.map(render)}</strong>;
    case 'em':
      return <em key={i}>{n.children.map(render)}</em>;
    case 'link':
      return (
        <a key={i} href={n.href} target="_blank" rel="noopener noreferrer">
          {n.text}
        </a>
      );
  }
}
