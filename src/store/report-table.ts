import type { DescribedReport } from './describe-report.js';

const HEADERS = [
  'Card',
  'Indicator',
  'Issued',
  'Accepted',
  'Overridden',
  'Suppressed',
  'Override rate',
  'Response rate',
  'Suggestions',
  'Comments',
  'Not offered',
  'Top override reasons',
] as const;

const percent = (rate: number | null): string => (rate === null ? '-' : `${(rate * 100).toFixed(1)}%`);

/**
 * The report as a plain-text table for a terminal. Text that came from EHRs (reason codes and
 * displays) has control characters replaced, so it cannot drive the terminal.
 */
export function formatReportTable(report: DescribedReport): string {
  const rows = report.cards.map((card) => [
    card.title === undefined ? card.cardId : `${card.title} (${card.cardId})`,
    card.indicator ?? '-',
    String(card.issued),
    String(card.accepted),
    String(card.overridden),
    String(card.suppressed),
    percent(card.overrideRate),
    percent(card.responseRate),
    String(card.suggestionsTaken),
    String(card.comments),
    String(card.overridesWithReasonNotOffered),
    card.topOverrideReasons.map((reason) => `${reason.display ?? reason.code} x${reason.count}${reason.offered ? '' : ' (not offered)'}`).join('; '),
  ].map(printable));
  const hookLines = report.cards.flatMap((card) =>
    Object.entries(card.byHook).map(([hook, counts]) =>
      printable(`  ${card.cardId} on ${hook}: issued ${counts.issued}, accepted ${counts.accepted}, overridden ${counts.overridden}, suppressed ${counts.suppressed}`),
    ),
  );
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        // Text columns align left, numbers right.
        return column <= 1 || column === HEADERS.length - 1 ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  const unknown = report.unknownCardFeedback;
  return [
    `Card analytics ${report.from} to ${report.to} (UTC days, inclusive)`,
    '',
    line(HEADERS),
    line(widths.map((width) => '-'.repeat(width))),
    ...(rows.length === 0 ? ['(no cards issued and no feedback in this range)'] : rows.map(line)),
    '',
    `Feedback for card uuids never recorded as issued: ${unknown.total} (accepted ${unknown.accepted}, overridden ${unknown.overridden})`,
    '',
    'By hook:',
    ...(hookLines.length === 0 ? ['  (none)'] : hookLines),
    '',
    `Definitions: ${report.definitions.overrideRate}; ${report.definitions.responseRate}; ${report.definitions.suppressed}.`,
    'Not offered: overrides naming a reason the card does not offer (kept and counted).',
    '',
  ].join('\n');
}

function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
