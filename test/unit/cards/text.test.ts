/** The text helpers the cards are written with: markdown escaping and slot filling. */
import { describe, expect, it } from '@jest/globals';
import { escapeMarkdown, isSingleSpaced, replaceSlot } from '../../../src/cards/text.js';

describe('replaceSlot', () => {
  it.each([
    ['no slot here', '{order}', 'neck massage'],
    ['{order}', '{order}', 'neck massage'],
    ['Remove the {order} {noun}', '{order}', 'neck massage'],
    ['{order}{order} and {order}', '{order}', 'x'],
    ['{order}', '{order}', 'a {order} inside'],
    ['{order}', '{order}', ''],
  ])('fills %j with %j as replaceAll does', (text, slot, value) => {
    expect(replaceSlot(text, slot, value)).toBe(text.replaceAll(slot, value));
  });

  it('puts a value holding replacement patterns in as written', () => {
    expect(replaceSlot('Remove the {order} now', '{order}', 'massage $& $$ $` $\' $1')).toBe('Remove the massage $& $$ $` $\' $1 now');
  });

  it('leaves the text as it is for an empty slot', () => {
    expect(replaceSlot('ab', '', '-')).toBe('ab');
  });
});

describe('escapeMarkdown', () => {
  it('gives a plain single-spaced text back as it is', () => {
    expect(escapeMarkdown('Spinal stenosis, cervical region')).toBe('Spinal stenosis, cervical region');
  });

  it('escapes markdown marks and makes whitespace single spaces', () => {
    expect(escapeMarkdown('*Neck* massage (C5_C6) [left]')).toBe('\\*Neck\\* massage \\(C5\\_C6\\) \\[left\\]');
    expect(escapeMarkdown(' Neck\tmassage\n\u00a0twice  weekly ')).toBe('Neck massage twice weekly');
  });
});

describe('isSingleSpaced', () => {
  it.each([
    ['neck massage', true],
    ['', true],
    ['neck  massage', false],
    [' neck', false],
    ['neck ', false],
    ['neck\tmassage', false],
    ['neck\u00a0massage', false],
  ])('says %j is single-spaced: %s', (text, expected) => {
    expect(isSingleSpaced(text)).toBe(expected);
    expect(isSingleSpaced(text)).toBe(text.replace(/\s+/g, ' ').trim() === text);
  });
});
