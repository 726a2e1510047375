import type { TextClass } from '../knowledge/classes.js';
import type { TextRulesFile } from '../knowledge/schemas.js';

type Tokens = readonly string[];

interface CompiledPhrase {
  readonly tokens: Tokens;
  readonly requires: CueIndex | undefined;
  readonly unless: CueIndex | undefined;
}

/** A phrase with the position of its class in the rules. */
interface IndexedPhrase {
  readonly classIndex: number;
  readonly phrase: CompiledPhrase;
}

/** Result of reading one free-text entry. */
export interface TextMatch {
  readonly classes: ReadonlySet<TextClass>;
  /** A matched phrase stood after "rule out", "possible", "?"... or its negation was itself negated. */
  readonly suspected: boolean;
}

export interface CompiledTextRules {
  readonly match: (text: string) => TextMatch;
  readonly bodySite: (text: string) => 'cervical' | 'unspecified' | 'remote' | undefined;
}

/** Lower-cased word tokens; "?" is kept as a token of its own (clinical policy §1). */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+|\?/g) ?? [];
}

/** Clauses run between periods, semicolons and commas (a decimal point such as "M48.02" is not a break). */
export function splitClauses(text: string): string[] {
  return text.split(/[;,]|\.(?!\d)|(?<!\d)\./);
}

/** The word itself or its plural ("stenoses" aside): compared in place, as this runs for every token of a text. */
function wordMatches(token: string | undefined, word: string): boolean {
  if (token === undefined) return false;
  if (token === word) return true;
  return word !== '?' && token.length === word.length + 1 && token.endsWith('s') && token.startsWith(word);
}

function phraseAt(tokens: Tokens, phrase: Tokens, at: number): boolean {
  for (let j = 0; j < phrase.length; j += 1) {
    if (!wordMatches(tokens[at + j], phrase[j] ?? '')) return false;
  }
  return true;
}

/** Index of the first position where `phrase` starts in `tokens`, or -1. */
function findFirst(tokens: Tokens, phrase: Tokens, from = 0, to = tokens.length): number {
  for (let i = from; i + phrase.length <= to; i += 1) if (phraseAt(tokens, phrase, i)) return i;
  return -1;
}

/**
 * A list of cue phrases indexed by their first word (and its plural), so a text is scanned once
 * for the whole list rather than once per cue: a long free text costs one pass per list.
 */
interface CueIndex {
  readonly byFirst: ReadonlyMap<string, readonly Tokens[]>;
  /** A cue of no words at all (a rule written without a letter or digit) matches anywhere. */
  readonly hasEmpty: boolean;
}

function indexCues(cues: readonly Tokens[]): CueIndex {
  const byFirst = new Map<string, Tokens[]>();
  let hasEmpty = false;
  for (const cue of cues) {
    const first = cue[0];
    if (first === undefined) {
      hasEmpty = true;
      continue;
    }
    for (const key of first === '?' ? [first] : [first, `${first}s`]) {
      const list = byFirst.get(key) ?? [];
      list.push(cue);
      byFirst.set(key, list);
    }
  }
  return { byFirst, hasEmpty };
}

/**
 * Visits each occurrence of a cue of the list inside `tokens[from, to)`, by start position and,
 * at one position, in the list's order; stops when `visit` returns true.
 */
function scanCues(tokens: Tokens, index: CueIndex, from: number, to: number, visit: (start: number, cue: Tokens) => boolean | void): void {
  for (let i = from; i < to || (index.hasEmpty && i === to); i += 1) {
    if (index.hasEmpty && visit(i, [])) return;
    for (const cue of index.byFirst.get(tokens[i] ?? '') ?? []) {
      if (i + cue.length <= to && phraseAt(tokens, cue, i) && visit(i, cue)) return;
    }
  }
}

function anyIn(tokens: Tokens, index: CueIndex, from: number, to: number): boolean {
  let found = false;
  scanCues(tokens, index, from, to, () => (found = true));
  return found;
}

/** The first cue starting at or after `position` in a list sorted by start (binary search). */
function firstAtOrAfter<T extends { start: number }>(sorted: readonly T[], position: number): T | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid]?.start ?? Number.POSITIVE_INFINITY) < position) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo];
}

const DOUBLE_NEGATION: readonly Tokens[] = [['not'], ['cannot'], ['can', 't'], ['cant']];

/**
 * The tokens of each clause, a clause made only of site or level words joined to the one before
 * it ("Spinal stenosis, cervical region" is one clause; clinical policy §1).
 */
export function clauseTokens(text: string, joinWords: ReadonlySet<string>): string[][] {
  const clauses: string[][] = [];
  for (const clause of splitClauses(text)) {
    const tokens = tokenize(clause);
    if (tokens.length === 0) continue;
    const previous = clauses.at(-1);
    if (previous && tokens.every((token) => joinWords.has(token))) previous.push(...tokens);
    else clauses.push(tokens);
  }
  return clauses;
}

/** Compiles the text rules once at start-up. */
export function compileTextRules(rules: TextRulesFile): CompiledTextRules {
  const cues = {
    negationBefore: indexCues(rules.cues.negationBefore.map(tokenize)),
    negationAfter: indexCues(rules.cues.negationAfter.map(tokenize)),
    suspicionBefore: indexCues(rules.cues.suspicionBefore.map(tokenize)),
    suspicionRightAfter: rules.cues.suspicionRightAfter.map(tokenize),
  };
  const qualifiers = new Map<string, CueIndex>(
    Object.entries(rules.qualifiers).map(([name, words]) => [name, indexCues(words.map(tokenize))]),
  );
  const classes: Array<[TextClass, CompiledPhrase[]]> = [];
  for (const [cls, phrases] of Object.entries(rules.classes) as Array<[TextClass, TextRulesFile['classes'][TextClass]]>) {
    if (!phrases) continue;
    classes.push([
      cls,
      phrases.map((p) => ({
        tokens: tokenize(p.phrase),
        requires: p.requires ? qualifiers.get(p.requires) : undefined,
        unless: p.unless ? qualifiers.get(p.unless) : undefined,
      })),
    ]);
  }
  const siteCervical = indexCues(rules.bodySite.cervical.map(tokenize));
  const siteRemote = indexCues(rules.bodySite.remote.map(tokenize));
  const siteUnspecified = new Set(rules.bodySite.unspecifiedExactly.map((word) => tokenize(word).join(' ')));
  const joinWords = new Set([
    ...[...rules.bodySite.cervical, ...rules.bodySite.remote, ...rules.bodySite.unspecifiedExactly].flatMap(tokenize),
    ...rules.clauseJoin.levels,
    ...rules.clauseJoin.words,
  ]);

  /**
   * Where the cues stand in one clause, computed once so each phrase occurrence is read in
   * constant time (the whole match stays linear in the length of the text).
   */
  function cueMap(tokens: Tokens): { negationEnd: number; suspicionEnd: number; after: Array<{ start: number; negatedAgain: boolean }> } {
    // Where the earliest-ending cue of the list ends: no cue starting later can end sooner.
    const firstEnd = (index: CueIndex) => {
      let best = Number.POSITIVE_INFINITY;
      scanCues(tokens, index, 0, tokens.length, (start, cue) => {
        if (start >= best) return true;
        best = Math.min(best, start + cue.length);
        return false;
      });
      return best;
    };
    // By start, as the scan visits them.
    const after: Array<{ start: number; negatedAgain: boolean }> = [];
    scanCues(tokens, cues.negationAfter, 0, tokens.length, (at) => {
      const negatedAgain = DOUBLE_NEGATION.some((neg) => findFirst(tokens, neg, Math.max(0, at - neg.length), at) !== -1);
      after.push({ start: at, negatedAgain });
    });
    return { negationEnd: firstEnd(cues.negationBefore), suspicionEnd: firstEnd(cues.suspicionBefore), after };
  }

  /** Reads one occurrence: undefined when negated, else whether it is suspected. */
  function readOccurrence(tokens: Tokens, map: ReturnType<typeof cueMap>, start: number, length: number): { suspected: boolean } | undefined {
    const end = start + length;
    if (map.negationEnd <= start) return undefined;
    const following = firstAtOrAfter(map.after, end);
    if (following) return following.negatedAgain ? { suspected: true } : undefined;
    const suspected =
      map.suspicionEnd <= start || cues.suspicionRightAfter.some((cue) => findFirst(tokens, cue, end, end + cue.length) !== -1);
    return { suspected };
  }

  // Phrases indexed by their first word (and its plural), so a clause costs one map lookup per
  // token instead of a scan for every phrase: nearly every text in a problem list matches nothing.
  const byFirstWord = new Map<string, IndexedPhrase[]>();
  const everywhere: IndexedPhrase[] = [];
  classes.forEach(([, phrases], classIndex) => {
    for (const phrase of phrases) {
      const entry = { classIndex, phrase };
      const first = phrase.tokens[0];
      if (first === undefined) {
        everywhere.push(entry);
        continue;
      }
      for (const key of first === '?' ? [first] : [first, `${first}s`]) {
        const list = byFirstWord.get(key) ?? [];
        list.push(entry);
        byFirstWord.set(key, list);
      }
    }
  });

  /** Whether `phrase` occurs at `start`, its first word being known to match. */
  function restMatches(tokens: Tokens, phrase: Tokens, start: number): boolean {
    if (start + phrase.length > tokens.length) return false;
    for (let j = 1; j < phrase.length; j += 1) {
      if (!wordMatches(tokens[start + j], phrase[j] ?? '')) return false;
    }
    return true;
  }

  function match(text: string): TextMatch {
    const found = new Set<TextClass>();
    let allSuspected = true;
    for (const tokens of clauseTokens(text, joinWords)) {
      let map: ReturnType<typeof cueMap> | undefined;
      // Whether the clause names a qualifier list, asked once per list and clause (a long clause repeats its phrases).
      let namedLists: Map<CueIndex, boolean> | undefined;
      const named = (qualifier: CueIndex): boolean => {
        namedLists ??= new Map();
        let known = namedLists.get(qualifier);
        if (known === undefined) {
          known = anyIn(tokens, qualifier, 0, tokens.length);
          namedLists.set(qualifier, known);
        }
        return known;
      };
      let hits: boolean[] | undefined;
      const read = (entry: IndexedPhrase, start: number): void => {
        const { phrase } = entry;
        if (phrase.requires && !named(phrase.requires)) return;
        if (phrase.unless && named(phrase.unless)) return;
        map ??= cueMap(tokens);
        const occurrence = readOccurrence(tokens, map, start, phrase.tokens.length);
        if (!occurrence) return;
        hits ??= [];
        hits[entry.classIndex] = true;
        if (!occurrence.suspected) allSuspected = false;
      };
      for (let start = 0; start < tokens.length; start += 1) {
        for (const entry of byFirstWord.get(tokens[start] ?? '') ?? []) {
          if (restMatches(tokens, entry.phrase.tokens, start)) read(entry, start);
        }
      }
      for (const entry of everywhere) {
        for (let start = 0; start <= tokens.length; start += 1) read(entry, start);
      }
      if (!hits) continue;
      // Classes go in in the rules' order, as a scan class by class would add them.
      for (let classIndex = 0; classIndex < classes.length; classIndex += 1) {
        const cls = classes[classIndex]?.[0];
        if (cls && hits[classIndex]) found.add(cls);
      }
    }
    return { classes: found, suspected: found.size > 0 && allSuspected };
  }

  function bodySite(text: string): 'cervical' | 'unspecified' | 'remote' | undefined {
    const tokens = tokenize(text);
    if (tokens.length === 0) return undefined;
    if (anyIn(tokens, siteCervical, 0, tokens.length)) return 'cervical';
    if (siteUnspecified.has(tokens.join(' '))) return 'unspecified';
    if (anyIn(tokens, siteRemote, 0, tokens.length)) return 'remote';
    return undefined;
  }

  return { match: cached(match), bodySite: cached(bodySite) };
}

/** Distinct texts remembered per reader; problem lists repeat a small vocabulary, so hits are the rule. */
const CACHED_TEXTS = 4096;
/** Longer texts (free-text notes) are read every time rather than kept. */
const CACHED_TEXT_LENGTH = 256;

/**
 * A reader that remembers its answer per distinct short text, the oldest forgotten first. The
 * answers are shared between calls, so they are frozen.
 */
function cached<T>(read: (text: string) => T): (text: string) => T {
  const answers = new Map<string, { readonly answer: T }>();
  return (text) => {
    if (text.length > CACHED_TEXT_LENGTH) return read(text);
    const known = answers.get(text);
    if (known) return known.answer;
    const answer = read(text);
    if (typeof answer === 'object' && answer !== null) Object.freeze(answer);
    if (answers.size >= CACHED_TEXTS) {
      const oldest = answers.keys().next();
      if (!oldest.done) answers.delete(oldest.value);
    }
    answers.set(text, { answer });
    return answer;
  };
}
