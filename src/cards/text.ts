/** Escapes text from the record for GitHub-flavoured markdown. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, (ch) => `\\${ch}`).replace(/\s+/g, ' ').trim();
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

/** Lower-cases the first letter unless the word looks like an acronym ("ACDF", "C5-C6"). */
export function midSentence(text: string): string {
  const first = text[0];
  const second = text[1];
  if (first === undefined || second === undefined) return text;
  return second === second.toLowerCase() && /[a-z]/.test(second) ? first.toLowerCase() + text.slice(1) : text;
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? '…' : `${text.slice(0, max - 1).trimEnd()}…`;
}

/**
 * Fills `{order}` and `{condition}` so that the whole summary stays under 140 characters
 * (CDS Hooks: "fewer than 140 characters"), shortening the longer value first.
 */
export function fitSummary(template: string, order: string, condition: string, max = 139): string {
  const fill = (o: string, c: string) => template.replace('{order}', o).replace('{condition}', c);
  const full = fill(order, condition);
  if (full.length <= max) return full;
  const room = Math.max(max - (template.length - '{order}'.length - '{condition}'.length), 8);
  const half = Math.floor(room / 2);
  let o = order;
  let c = condition;
  if (o.length > half && c.length > half) {
    o = truncate(o, half);
    c = truncate(c, room - o.length);
  } else if (o.length > half) {
    o = truncate(o, room - c.length);
  } else {
    c = truncate(c, room - o.length);
  }
  return truncate(fill(o, c), max);
}
