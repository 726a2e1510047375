/** clinical-policy §5 summaries: under 140 characters, whole words, both names, names taken into a sentence. */
import { describe, expect, it } from '@jest/globals';
import { capitalise, countWords, firstWords, fitsAfterSpacing, fitSummary, inSentence, summaryName, SUMMARY_MAX } from '../../../src/cards/summary.js';

const ACRONYMS = new Set(['HVLA', 'ACDF', 'MRI']);

describe('inSentence', () => {
  it.each([
    ['Neck massage', 'neck massage'],
    ['HVLA manipulation of the neck', 'HVLA manipulation of the neck'],
    ['C5-C6 canal stenosis', 'C5-C6 canal stenosis'],
    ['NECK MASSAGE', 'neck massage'],
    ['HVLA CERVICAL MANIPULATION C5-C6', 'HVLA cervical manipulation C5-C6'],
    ['  Spinal   stenosis, cervical region ', 'spinal stenosis, cervical region'],
    ['Massage Therapy', 'massage therapy'],
    ['Chiropractic Manipulative Treatment, Spinal, 1-2 Regions', 'chiropractic manipulative treatment, spinal, 1-2 regions'],
    ['MRI Cervical Spine', 'MRI cervical spine'],
    ['Massage', 'massage'],
    ['Massage of the Neck', 'massage of the neck'],
    ['Massage of neck and Shoulders', 'massage of neck and Shoulders'],
  ])('takes %j into a sentence as %j', (text, expected) => {
    expect(inSentence(text, ACRONYMS)).toBe(expected);
  });
});

describe('capitalise', () => {
  it('capitalises the first letter only', () => {
    expect(capitalise('neck massage with HVLA')).toBe('Neck massage with HVLA');
    expect(capitalise('')).toBe('');
  });
});

describe('fitSummary', () => {
  const template = 'Stop {order}: {condition} needs an urgent MRI and spine surgery opinion first';

  it('keeps the record names when they fit', () => {
    expect(fitSummary(template, ['neck massage', 'massage'], [['spinal cord compression', 'cord compression']], ' with ')).toBe(
      'Stop neck massage: spinal cord compression needs an urgent MRI and spine surgery opinion first',
    );
  });

  it('shortens the condition to its short name before the order', () => {
    const condition = 'other spondylosis with myelopathy, cervical region, progressive over two years per neurology';
    const summary = fitSummary(template, ['neck massage', 'massage'], [[condition, 'myelopathy']], ' with ');
    expect(summary).toBe('Stop neck massage: myelopathy needs an urgent MRI and spine surgery opinion first');
  });

  it('shortens both when a long order meets a long condition, never cutting a word', () => {
    const order = 'therapeutic soft tissue massage of the posterior neck and upper trapezius, twice weekly for six weeks';
    const condition = 'multilevel degenerative cervical spinal stenosis C3-C4 through C6-C7 with foraminal narrowing';
    const summary = fitSummary('{Order} with {condition} can precipitate myelopathy; offer supervised PT instead', [order, 'massage'], [[condition, 'cervical stenosis']], ' with ');
    expect(summary).toBe('Massage with cervical stenosis can precipitate myelopathy; offer supervised PT instead');
    expect(summary.length).toBeLessThanOrEqual(SUMMARY_MAX);
  });

  it('names two conditions joined, shortening them together', () => {
    const summary = fitSummary('Stop {order}: {condition} can mean myelopathy; urgent MRI and spine surgery opinion', ['neck massage'], [
      ['urinary retention', 'new neurological signs'],
      ['cervical disc disorder at C5-C6 level with radiculopathy, left-sided, chronic', 'cervical radiculopathy'],
    ], ' with ');
    expect(summary).toBe('Stop neck massage: new neurological signs with cervical radiculopathy can mean myelopathy; urgent MRI and spine surgery opinion');
  });

  it('never returns an ellipsis or a cut word, even when nothing fits', () => {
    const summary = fitSummary('{Order} with {condition} and then a very long tail of words that goes on and on well past any limit a summary has', ['a rather long order name'], [['a long condition name']], ' with ', 60);
    expect(summary.length).toBeLessThanOrEqual(60);
    expect(summary).not.toMatch(/…/);
    expect('A rather long order name with a long condition name and then a very long tail'.startsWith(summary)).toBe(true);
    expect(summary.endsWith(' ')).toBe(false);
  });
});

describe('firstWords', () => {
  it('keeps a short text and marks a long one as shortened after whole words', () => {
    expect(firstWords('Cervical  spinal stenosis', 5)).toBe('Cervical spinal stenosis');
    expect(firstWords('one two three four five six', 3)).toBe('one two three …');
  });

  it.each([
    ['one two three', 3, 'one two three'],
    ['one two three', 2, 'one two …'],
    [' one two', 2, 'one two'],
    ['one two\n', 2, 'one two'],
    ['one\ttwo', 5, 'one two'],
    ['one\u00a0two', 5, 'one two'],
    ['', 3, ''],
    ['   ', 3, ''],
  ])('reads %j to at most %i words as %j', (text, max, expected) => {
    expect(firstWords(text, max)).toBe(expected);
  });

  it('reads the words of a long free text as splitting it at white space would', () => {
    const bySplitting = (text: string, max: number): string => {
      const all = text.split(/\s+/).filter((w) => w !== '');
      return all.length <= max ? all.join(' ') : `${all.slice(0, max).join(' ')} …`;
    };
    for (const text of generatedTexts()) {
      for (const max of [0, 1, 3, 12]) expect({ text, max, words: firstWords(text, max) }).toEqual({ text, max, words: bySplitting(text, max) });
    }
  });
});

/** Seeded texts of words, every kind of JavaScript white space, marks, surrogate pairs, some long. */
function generatedTexts(): string[] {
  let seed = 7;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const parts = ['neck', 'Massage', 'C5-C6', 'HVLA', 'İstanbul', '𝔸', '?', '', ' ', '  ', '\t', '\n', '\u00a0', '\u2028', '\u3000', '\ufeff', '\u200a', '–', 'é'];
  const texts: string[] = [];
  for (let n = 0; n < 400; n += 1) {
    const count = n % 50 === 0 ? 3000 : Math.floor(random() * 60);
    let text = '';
    for (let i = 0; i < count; i += 1) text += parts[Math.floor(random() * parts.length)];
    texts.push(text);
  }
  return texts;
}

describe('fitsAfterSpacing', () => {
  it('tells a text that fits from one a character longer, however its spaces run', () => {
    const spacings = [' ', '  ', '\t', ' \n ', '\u00a0', '\u3000 '];
    for (const length of [SUMMARY_MAX - 1, SUMMARY_MAX, SUMMARY_MAX + 1]) {
      for (const spacing of spacings) {
        for (const words of [1, 2, 7, 20]) {
          // `words` words of letters, single-spaced to exactly `length` characters, then spaced out.
          const letters = length - (words - 1);
          const sizes = Array.from({ length: words }, (_, i) => Math.floor(letters / words) + (i < letters % words ? 1 : 0));
          const text = `${spacing}${sizes.map((size) => 'x'.repeat(size)).join(spacing)}${spacing}`;
          expect(text.replace(/\s+/g, ' ').trim()).toHaveLength(length);
          expect({ length, spacing, words, fits: fitsAfterSpacing(text, SUMMARY_MAX) }).toEqual({ length, spacing, words, fits: length <= SUMMARY_MAX });
        }
      }
    }
  });
});

describe('summaryName', () => {
  it('is inSentence whenever that fits a summary, and only a name that cannot fit is left out', () => {
    for (const text of generatedTexts()) {
      const reference = inSentence(text, ACRONYMS);
      const got = summaryName(text, ACRONYMS);
      if (got === '' && reference !== '') expect({ text, tooLong: reference.length > SUMMARY_MAX }).toEqual({ text, tooLong: true });
      else expect(got).toBe(reference);
      expect(fitsAfterSpacing(text, SUMMARY_MAX)).toBe(text.replace(/\s+/g, ' ').trim().length <= SUMMARY_MAX);
    }
  });
});

describe('countWords', () => {
  /** What a word is (clinical policy §5 counts them): a whitespace-separated token with a letter or number. */
  const bySplitting = (text: string): number => text.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;

  it('counts words, not markdown marks or bullets', () => {
    expect(countWords('**Do now:**\n- Remove the order.\n- MRI, C5-C6 (2024-03-10)')).toBe(8);
  });

  it.each([
    ['', 0],
    ['  \n\t ', 0],
    ['- * ** —', 0],
    ['naïve Ünïcode façade', 3],
    ['颈椎 狭窄', 2],
    ['٣ ² Ⅻ', 3],
    ['word\u00a0word\u2003word\u3000word\ufeffword', 5],
    ['word\u200bword', 1],
    ['𝒜 😀 x😀', 2],
    ['\ud835 \udc9c lone halves', 2],
    ['e\u0301 \u0301', 1],
  ])('counts %j as %i words, outside ASCII too', (text, expected) => {
    expect(countWords(text)).toBe(expected);
    expect(countWords(text)).toBe(bySplitting(text));
  });
});
