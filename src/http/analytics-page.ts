import type { DescribedCardReport, DescribedReport } from '../store/describe-report.js';

/**
 * The analytics page: one self-contained HTML document (no scripts, no external resources, so it
 * works on networks without internet access), server-drawn SVG charts of the override rate per
 * card id over time, and the report table. Every value placed in the markup is escaped.
 * `jsonPath` is the absolute path of the JSON report, linked from the page.
 */
export function renderAnalyticsPage(report: DescribedReport, jsonPath: string): string {
  const jsonHref = `${jsonPath}?from=${encodeURIComponent(report.from)}&to=${encodeURIComponent(report.to)}`;
  const unknown = report.unknownCardFeedback;
  const charts = report.cards.length === 0 ? '<p>No cards issued and no feedback in this range.</p>' : report.cards.map(renderChart).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Card analytics ${escapeHtml(report.from)} to ${escapeHtml(report.to)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
form { margin: 1rem 0; }
figure { margin: 1rem 0 1.5rem; }
figcaption { font-weight: 600; margin-bottom: .25rem; }
table { border-collapse: collapse; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #ccc; text-align: right; vertical-align: top; }
th:first-child, td:first-child, th:last-child, td.reasons { text-align: left; }
td:first-child { white-space: nowrap; }
td.reasons ul { margin: 0; padding-left: 1rem; }
.note { color: #555; }
</style>
</head>
<body>
<h1>Card analytics</h1>
<form method="get">
<label>From <input type="date" name="from" value="${escapeHtml(report.from)}" required></label>
<label>To <input type="date" name="to" value="${escapeHtml(report.to)}" required></label>
<button type="submit">Show</button>
</form>
<p class="note">Days are UTC; issued cards count on the day they were issued, feedback on its outcome day.
Feedback for card uuids never recorded as issued: ${unknown.total} (accepted ${unknown.accepted}, overridden ${unknown.overridden}).
<a href="${escapeHtml(jsonHref)}">This report as JSON</a>.</p>
<ul class="note">
<li>${escapeHtml(report.definitions.overrideRate)}</li>
<li>${escapeHtml(report.definitions.responseRate)}</li>
<li>${escapeHtml(report.definitions.suppressed)}</li>
<li>Override reasons marked “not offered” were sent for a card that does not offer them; they are kept and counted.</li>
</ul>
<h2>Override rate per card over time</h2>
${charts}
<h2>Report</h2>
${renderTable(report.cards)}
<h2>By hook</h2>
${renderHookTable(report.cards)}
</body>
</html>
`;
}

const WIDTH = 720;
const HEIGHT = 190;
const LEFT = 46;
const RIGHT = 12;
const TOP = 12;
const BOTTOM = 30;

function renderChart(card: DescribedCardReport): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const count = card.series.length;
  const step = count > 1 ? plotWidth / (count - 1) : 0;
  const x = (index: number): number => LEFT + (count > 1 ? index * step : plotWidth / 2);
  const y = (fraction: number): number => TOP + (1 - fraction) * plotHeight;
  const maxIssued = Math.max(0, ...card.series.map((point) => point.issued));
  const barWidth = Math.max(1, Math.min(14, (count > 1 ? step : plotWidth) * 0.7));

  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (fraction) =>
        `<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${fmt(y(fraction))}" y2="${fmt(y(fraction))}" stroke="#e3e3e3"/>` +
        `<text x="${LEFT - 6}" y="${fmt(y(fraction) + 4)}" text-anchor="end" font-size="11" fill="#555">${fraction * 100}%</text>`,
    )
    .join('');
  const bars =
    maxIssued === 0
      ? ''
      : card.series
          .map((point, index) => {
            if (point.issued === 0) return '';
            const height = (point.issued / maxIssued) * plotHeight;
            return `<rect x="${fmt(x(index) - barWidth / 2)}" y="${fmt(TOP + plotHeight - height)}" width="${fmt(barWidth)}" height="${fmt(height)}" fill="#dbe7f3"><title>${escapeHtml(point.day)}: ${point.issued} issued</title></rect>`;
          })
          .join('');
  const rated = card.series.flatMap((point, index) =>
    point.overrideRate === null ? [] : [{ point, cx: x(index), cy: y(point.overrideRate), rate: point.overrideRate }],
  );
  const line =
    rated.length > 1
      ? `<polyline fill="none" stroke="#b3261e" stroke-width="2" points="${rated.map((p) => `${fmt(p.cx)},${fmt(p.cy)}`).join(' ')}"/>`
      : '';
  const dots = rated
    .map(
      ({ point, cx, cy, rate }) =>
        `<circle cx="${fmt(cx)}" cy="${fmt(cy)}" r="3" fill="#b3261e"><title>${escapeHtml(point.day)}: ${percent(rate)} overridden (${point.overridden} of ${point.accepted + point.overridden})</title></circle>`,
    )
    .join('');
  const first = card.series[0];
  const last = card.series[count - 1];
  const labels =
    first && last
      ? `<text x="${LEFT}" y="${HEIGHT - 10}" font-size="11" fill="#555">${escapeHtml(first.day)}</text>` +
        (count > 1 ? `<text x="${WIDTH - RIGHT}" y="${HEIGHT - 10}" text-anchor="end" font-size="11" fill="#555">${escapeHtml(last.day)}</text>` : '')
      : '';
  const empty =
    rated.length === 0
      ? `<text x="${LEFT + plotWidth / 2}" y="${TOP + plotHeight / 2}" text-anchor="middle" font-size="12" fill="#555">no feedback in this range</text>`
      : '';
  const summary = `${card.cardId}: override rate ${percent(card.overrideRate)}; bars show cards issued per day (highest ${maxIssued})`;
  return `<figure>
<figcaption>${cardName(card)} <span class="note">override rate ${percent(card.overrideRate)}, ${card.issued} issued; bars: cards issued per day (highest ${maxIssued})</span></figcaption>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(summary)}">${grid}${bars}${line}${dots}${labels}${empty}</svg>
</figure>`;
}

function cardName(card: DescribedCardReport): string {
  const title = card.title === undefined ? '' : `${escapeHtml(card.title)} `;
  return `${title}<span class="note">(${escapeHtml(card.cardId)}${card.indicator !== undefined ? `, ${escapeHtml(card.indicator)}` : ''})</span>`;
}

function renderTable(cards: readonly DescribedCardReport[]): string {
  const rows = cards
    .map((card) => {
      const reasons =
        card.topOverrideReasons.length === 0
          ? ''
          : `<ul>${card.topOverrideReasons
              .map(
                (reason) =>
                  `<li>${escapeHtml(reason.display ?? reason.code)}${reason.display !== undefined ? ` <span class="note">(${escapeHtml(reason.code)})</span>` : ''}: ${reason.count}${reason.offered ? '' : ' <strong>not offered</strong>'}</li>`,
              )
              .join('')}</ul>`;
      return `<tr><td>${cardName(card)}</td><td>${card.issued}</td><td>${card.accepted}</td><td>${card.overridden}</td><td>${card.suppressed}</td><td>${percent(card.overrideRate)}</td><td>${percent(card.responseRate)}</td><td>${card.suggestionsTaken}</td><td>${card.comments}</td><td>${card.overridesWithReasonNotOffered}</td><td class="reasons">${reasons}</td></tr>`;
    })
    .join('\n');
  return `<table>
<thead><tr><th>Card</th><th>Issued</th><th>Accepted</th><th>Overridden</th><th>Suppressed</th><th>Override rate</th><th>Response rate</th><th>Suggestions taken</th><th>Comments</th><th>Reason not offered</th><th>Top override reasons</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

function renderHookTable(cards: readonly DescribedCardReport[]): string {
  const rows = cards
    .flatMap((card) =>
      Object.entries(card.byHook).map(
        ([hook, counts]) =>
          `<tr><td>${cardName(card)}</td><td>${escapeHtml(hook)}</td><td>${counts.issued}</td><td>${counts.accepted}</td><td>${counts.overridden}</td><td>${counts.suppressed}</td></tr>`,
      ),
    )
    .join('\n');
  return `<table>
<thead><tr><th>Card</th><th>Hook</th><th>Issued</th><th>Accepted</th><th>Overridden</th><th>Suppressed</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
}

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function percent(rate: number | null): string {
  return rate === null ? '–' : `${(rate * 100).toFixed(1)}%`;
}

function fmt(value: number): string {
  return value.toFixed(1);
}
