/**
 * How a card's detail fits its word limit (clinical policy §5): the record gives way first (codes,
 * then entries from the end, then long names cut to their first words, then the count of entries
 * left out), and last the safer readings from the end; what to do and the red flags always stay.
 * Each line's words are counted once and a layout's count is their sum (the lines are joined by
 * newlines, which part words), so only the layout chosen is ever joined into text. Pure.
 */
import { countWords } from './summary.js';

/** clinical policy §5: a detail a clinician reads inline. */
export const DETAIL_MAX_WORDS = 120;
const ENTRY_MAX_WORDS = 12;
/** Names cut this short when the detail would not fit otherwise. */
const SHORT_ENTRY_WORDS = 5;

/** How much of the record the detail lists: codes or not, and how many words of each name. */
export interface EntryStyle {
  readonly codes: boolean;
  readonly nameWords: number;
}
const FULL: EntryStyle = { codes: true, nameWords: ENTRY_MAX_WORDS };
const NO_CODES: EntryStyle = { codes: false, nameWords: ENTRY_MAX_WORDS };
const SHORT_NAMES: EntryStyle = { codes: false, nameWords: SHORT_ENTRY_WORDS };

/** Lines with the words of each. */
export interface CountedLines {
  readonly lines: readonly string[];
  readonly words: readonly number[];
}

export function counted(lines: readonly string[]): CountedLines {
  return { lines, words: lines.map(countWords) };
}

/** Words in the first `count` of the lines. */
function wordsOfFirst(lines: CountedLines, count: number): number {
  let words = 0;
  for (let i = 0; i < count && i < lines.words.length; i += 1) words += lines.words[i] ?? 0;
  return words;
}

const RECORD_HEADING = '**Record:**';
const READINGS_HEADING = '**How this was read:**';
const RECORD_HEADING_WORDS = countWords(RECORD_HEADING);
const READINGS_HEADING_WORDS = countWords(READINGS_HEADING);

function moreLine(hidden: number): string {
  return `- ${hidden} more on the record`;
}

/** What a detail is laid out from. */
export interface DetailParts {
  /** What to do and the red flags: always shown. */
  readonly head: CountedLines;
  /** The record's entries in a style: the order first, then the conditions the card names, then the rest. */
  readonly entriesIn: (style: EntryStyle) => CountedLines;
  /** The entries that stay longest: the order and its named conditions. */
  readonly keep: number;
  /** How the record was read, most important first. */
  readonly readings: CountedLines;
}

/** One way to lay the detail out: the first `shown` entries, a count of `hidden` ones, the first `readings` readings. */
interface DetailLayout {
  readonly entries: CountedLines;
  readonly shown: number;
  readonly hidden: number;
  readonly readings: number;
}

function layoutWords(parts: DetailParts, layout: DetailLayout): number {
  let words = wordsOfFirst(parts.head, parts.head.lines.length) + RECORD_HEADING_WORDS + wordsOfFirst(layout.entries, layout.shown);
  if (layout.hidden > 0) words += countWords(moreLine(layout.hidden));
  if (Math.min(layout.readings, parts.readings.lines.length) > 0) words += READINGS_HEADING_WORDS + wordsOfFirst(parts.readings, layout.readings);
  return words;
}

function composeDetail(parts: DetailParts, layout: DetailLayout): string {
  const lines = [...parts.head.lines, '', RECORD_HEADING, ...layout.entries.lines.slice(0, layout.shown)];
  if (layout.hidden > 0) lines.push(moreLine(layout.hidden));
  const readings = parts.readings.lines.slice(0, layout.readings);
  if (readings.length > 0) lines.push('', READINGS_HEADING, ...readings);
  return lines.join('\n');
}

/** The layouts to try after the full one, in the order the record and then the readings give way. */
function* shorterLayouts(parts: DetailParts): Generator<DetailLayout> {
  const readingCount = parts.readings.lines.length;
  for (const style of [NO_CODES, SHORT_NAMES]) {
    const all = parts.entriesIn(style);
    const total = all.lines.length;
    for (let shown = total; shown >= Math.min(parts.keep, total); shown -= 1) yield { entries: all, shown, hidden: total - shown, readings: readingCount };
  }
  // Still too long: a safer reading outranks a second named condition, which the summary names anyway.
  const least = parts.entriesIn(SHORT_NAMES);
  const total = least.lines.length;
  for (let readings = readingCount; readings >= 0; readings -= 1) {
    for (const shown of new Set([parts.keep, 2])) {
      yield { entries: least, shown, hidden: total - shown, readings };
      yield { entries: least, shown, hidden: 0, readings };
    }
  }
}

/** The detail in the first layout that fits `maxWords`, else in the last one tried. */
export function layDetail(parts: DetailParts, maxWords = DETAIL_MAX_WORDS): string {
  const full = parts.entriesIn(FULL);
  let chosen: DetailLayout = { entries: full, shown: full.lines.length, hidden: 0, readings: parts.readings.lines.length };
  if (layoutWords(parts, chosen) > maxWords) {
    for (const layout of shorterLayouts(parts)) {
      chosen = layout;
      if (layoutWords(parts, layout) <= maxWords) break;
    }
  }
  return composeDetail(parts, chosen);
}
