/** clinical-policy §5: how a detail gives way to stay within its words, on lines made up for it. */
import { describe, expect, it } from '@jest/globals';
import { counted, layDetail, type EntryStyle } from '../../../src/cards/detail-layout.js';

const words = (n: number, word = 'w'): string => Array.from({ length: n }, () => word).join(' ');

/** The order and its named condition (2 words each), three more entries (4 words each); a code is one more word. */
function entriesIn(style: EntryStyle) {
  const code = style.codes ? ' CODE' : '';
  const entry = (label: string, n: number) => `- ${words(Math.min(n, style.nameWords), label)}${code}`;
  return counted([entry('order', 2), entry('named', 2), entry('other', 4), entry('other', 4), entry('other', 4)]);
}

/** 11 words; the headings are 1 and 4 words, "- 3 more on the record" 5. */
const head = counted(['**Do now:**', `- ${words(9)}`]);
const readings = counted([`- ${words(3, 'first')}`, `- ${words(3, 'second')}`, `- ${words(3, 'third')}`]);

/** The detail's lines when it may have `maxWords` words. */
const lay = (maxWords: number): string[] => layDetail({ head, entriesIn, keep: 2, readings }, maxWords).split('\n');
/** What to do, and the heading of the record: every layout opens with them. */
const OPENING = ['**Do now:**', `- ${words(9)}`, '', '**Record:**'];

describe('layDetail', () => {
  it('shows every line, codes and readings when they fit', () => {
    expect(lay(46)).toEqual([
      ...OPENING,
      '- order order CODE',
      '- named named CODE',
      '- other other other other CODE',
      '- other other other other CODE',
      '- other other other other CODE',
      '',
      '**How this was read:**',
      '- first first first',
      '- second second second',
      '- third third third',
    ]);
  });

  it('drops the codes, then entries from the end with their count, before any reading', () => {
    const lines = lay(38);
    expect(lines.join('\n')).not.toContain('CODE');
    expect(lines.slice(4, 8)).toEqual(['- order order', '- named named', '- other other other other', '- 2 more on the record']);
    expect(lines).toContain('- third third third');
  });

  it('drops the safer readings from the end once only the order and its named condition are left', () => {
    expect(lay(21)).toEqual([...OPENING, '- order order', '- named named', '- 3 more on the record']);
    const two = lay(26);
    expect(two).toContain('- second second second');
    expect(two.join('\n')).not.toContain('third');
  });

  it('gives the shortest layout when none fits', () => {
    expect(lay(5)).toEqual([...OPENING, '- order order', '- named named']);
  });
});
