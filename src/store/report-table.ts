import type { AnalyticsReport } from './report.js';

const HEADERS = ['Card id', 'Issued', 'Accepted', 'Overridden', 'Override rate', 'Suggestions', 'Comments', 'Top override reasons'] as const;

/**
 * The report as a plain-text table for a terminal. Text that came from EHRs (reason codes and
 * displays) has control characters replaced, so it cannot drive the terminal.
 */
export function formatReportTable(report: AnalyticsReport): string {
  const rows = report.cards.map((card) => [
    card.cardId,
    String(card.issued),
    String(card.accepted),
    String(card.overridden),
    card.overrideRate === null ? '-' : `${(card.overrideRate * 100).toFixed(1)}%`,
    String(card.suggestionsTaken),
    String(card.comments),
    card.topOverrideReasons.map((reason) => `${reason.display ?? reason.code} x${reason.count}`).join('; '),
  ].map(printable));
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        // Text columns align left, numbers right.
        return column === 0 || column === HEADERS.length - 1 ? cell.padEnd(width) : cell.padStart(width);
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
  ].join('\n');
}

function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
