/** Whitespace that is not a single space between words: a run, a tab or newline, or at either end. */
const UNTIDY_SPACE = /[^\S ]|\s\s|^\s|\s$/;

/**
 * Whether `text.replace(/\s+/g, ' ').trim()` would give it back unchanged, which most texts from
 * a record do: the readers below skip their rewriting for them.
 */
export function isSingleSpaced(text: string): boolean {
  return !UNTIDY_SPACE.test(text);
}

const MARKDOWN_MARK = /[\\`*_{}[\]<>()#+!|~]/;

/** Escapes text from the record for GitHub-flavoured markdown, its whitespace runs made single spaces. */
export function escapeMarkdown(text: string): string {
  if (!MARKDOWN_MARK.test(text) && isSingleSpaced(text)) return text;
  return text.replace(/[\\`*_{}[\]<>()#+!|~]/g, (ch) => `\\${ch}`).replace(/\s+/g, ' ').trim();
}

/**
 * Every `slot` in `text` replaced by `value`, as written: a record name holding `$&` or `$$` is a
 * name, not a replacement pattern (`replaceAll` with a string would read it as one). Cheaper in V8
 * than `replaceAll` with a function. An empty slot names nothing and leaves the text as it is.
 */
export function replaceSlot(text: string, slot: string, value: string): string {
  if (slot === '') return text;
  let at = text.indexOf(slot);
  if (at === -1) return text;
  let filled = '';
  let from = 0;
  while (at !== -1) {
    filled += text.slice(from, at) + value;
    from = at + slot.length;
    at = text.indexOf(slot, from);
  }
  return filled + text.slice(from);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}
