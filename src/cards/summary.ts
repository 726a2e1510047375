/**
 * Card summaries and the names they carry (clinical policy §5): under 140 characters, whole
 * words only, never an ellipsis, the order and the condition both named. Pure text functions.
 */
import { isSingleSpaced, replaceSlot } from './text.js';

/** CDS Hooks: a summary is "fewer than 140 characters". */
export const SUMMARY_MAX = 139;

const LEVEL = /\d/;

/**
 * A record text taken into a sentence: acronyms stay ("HVLA", "C5-C6"), a leading capital goes
 * ("Neck massage" → "neck massage"). A text written all in capitals, or in Title Case as
 * code-system displays are ("Massage Therapy"), is lower-cased except its acronyms and level
 * words, which only the knowledge can tell from shouting.
 */
export function inSentence(text: string, acronyms: ReadonlySet<string>): string {
  const clean = isSingleSpaced(text) ? text : text.replace(/\s+/g, ' ').trim();
  if (!/[a-z]/.test(clean)) {
    return clean.replace(/[A-Za-z0-9][A-Za-z0-9'’-]*/g, (word) => (acronyms.has(word) || LEVEL.test(word) ? word : word.toLowerCase()));
  }
  // Title Case, as code-system displays are written ("Massage Therapy"): every longer word capitalised.
  const longWords = clean.match(/[A-Za-z][A-Za-z'’]{3,}/g) ?? [];
  if (longWords.length >= 2 && longWords.every((word) => /^[A-Z][a-z'’]*$/.test(word) || acronyms.has(word))) {
    return clean.replace(/[A-Za-z0-9][A-Za-z0-9'’-]*/g, (word) => (acronyms.has(word) || LEVEL.test(word) || !/^[A-Z][a-z'’-]*$/.test(word) ? word : word.toLowerCase()));
  }
  const first = clean[0];
  const second = clean[1];
  if (first === undefined || second === undefined) return clean;
  return /[a-z]/.test(second) ? first.toLowerCase() + clean.slice(1) : clean;
}

/** The first letter in capitals, for a name that opens the summary. */
export function capitalise(text: string): string {
  return text.length > 0 ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

/** Ways to name one thing, preferred first (the record's words), shortest last (the knowledge's short name). */
export type NameChoices = readonly [string, ...string[]];

function pick(choices: NameChoices, level: number): string {
  return choices[Math.min(level, choices.length - 1)] ?? choices[0];
}

function fill(template: string, order: string, condition: string): string {
  return replaceSlot(replaceSlot(replaceSlot(template, '{Order}', capitalise(order)), '{order}', order), '{condition}', condition);
}

/** Cuts after the last whole word that fits, and drops the punctuation left hanging. */
function wholeWords(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max + 1);
  const end = cut.lastIndexOf(' ');
  return (end > 0 ? cut.slice(0, end) : cut.slice(0, max)).replace(/[\s,;:–-]+$/, '');
}

/**
 * Fills `{order}` / `{Order}` and `{condition}` so the summary fits: the conditions are shortened
 * first (towards the knowledge's short names), then the order. Names are never cut.
 */
export function fitSummary(template: string, order: NameChoices, conditions: readonly NameChoices[], joiner: string, max = SUMMARY_MAX): string {
  const conditionLevels = Math.max(1, ...conditions.map((c) => c.length));
  let last = '';
  for (let o = 0; o < order.length; o += 1) {
    for (let c = 0; c < conditionLevels; c += 1) {
      last = fill(template, pick(order, o), conditions.map((choices) => pick(choices, c)).join(joiner));
      if (last.length <= max) return last;
    }
  }
  return wholeWords(last, max);
}

/**
 * The first `max` words of a text (runs of non-`\s` characters) joined by single spaces, marked
 * as shortened when words were left out. Read from the start and no further than the word after
 * the last one kept, so a free text of any length costs what its first words cost.
 */
export function firstWords(text: string, max: number): string {
  const words: string[] = [];
  const length = text.length;
  let at = 0;
  for (;;) {
    while (at < length && isSpaceAt(text, at, text.charCodeAt(at))) at += 1;
    if (at === length) return words.join(' ');
    if (words.length >= max) return `${words.join(' ')} …`;
    const start = at;
    while (at < length && !isSpaceAt(text, at, text.charCodeAt(at))) at += 1;
    words.push(text.slice(start, at));
  }
}

/**
 * Whether a text, its white space runs made single spaces and trimmed as {@link inSentence} does,
 * is at most `max` long: read no further than it takes to tell.
 */
export function fitsAfterSpacing(text: string, max: number): boolean {
  let length = 0;
  let pendingSpace = false;
  for (let at = 0; at < text.length; at += 1) {
    if (isSpaceAt(text, at, text.charCodeAt(at))) {
      pendingSpace = length > 0;
      continue;
    }
    length += pendingSpace ? 2 : 1;
    pendingSpace = false;
    if (length > max) return false;
  }
  return true;
}

/**
 * A record's name for a summary: {@link inSentence}, or '' when even single-spaced it is longer
 * than a summary (such a name is never used, and a free text may run to many kilobytes).
 */
export function summaryName(text: string, acronyms: ReadonlySet<string>): string {
  return fitsAfterSpacing(text, SUMMARY_MAX) ? inSentence(text, acronyms) : '';
}

/** One JavaScript `\s` character (all of them are single UTF-16 units), read where it stands. */
const SPACE_AT = /\s/y;
/** A letter or number, a whole code point (a surrogate pair too), read where it stands. */
const LETTER_OR_NUMBER_AT = /[\p{L}\p{N}]/uy;

function isSpaceAt(text: string, index: number, unit: number): boolean {
  if (unit < 0x80) return unit === 0x20 || (unit >= 0x09 && unit <= 0x0d);
  SPACE_AT.lastIndex = index;
  return SPACE_AT.test(text);
}

function isLetterOrNumberAt(text: string, index: number, unit: number): boolean {
  if (unit < 0x80) return (unit >= 0x30 && unit <= 0x39) || ((unit | 0x20) >= 0x61 && (unit | 0x20) <= 0x7a);
  LETTER_OR_NUMBER_AT.lastIndex = index;
  return LETTER_OR_NUMBER_AT.test(text);
}

/**
 * Words as a reader counts them: markdown marks and bullets are not words. A word is a run of
 * non-`\s` characters holding at least one letter or number (`[\p{L}\p{N}]`). Read in one pass
 * without splitting, as the card builder counts every line it may show.
 */
export function countWords(markdown: string): number {
  let words = 0;
  let counted = false;
  for (let i = 0; i < markdown.length; i += 1) {
    const unit = markdown.charCodeAt(i);
    if (isSpaceAt(markdown, i, unit)) {
      counted = false;
      continue;
    }
    if (!counted && isLetterOrNumberAt(markdown, i, unit)) {
      counted = true;
      words += 1;
    }
    // The low half of a surrogate pair belongs to the code point just read.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < markdown.length) {
      const next = markdown.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
  }
  return words;
}
