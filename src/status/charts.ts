/**
 * Small bar charts rendered on the server as SVG: no script, readable without styles, and described
 * for screen readers (the same numbers are in the tables beside them).
 */

export interface Bar {
  label: string;
  value: number;
  /** A second, lighter bar behind the value (e.g. capacity). */
  limit?: number;
}

const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const ROW = 26;
const LABEL_WIDTH = 150;
const BAR_WIDTH = 300;

/** One row per bar, longest scale wins; `title` names the chart for assistive technology. */
export function barChart(title: string, bars: readonly Bar[], unit: string): string {
  const max = Math.max(1, ...bars.map((b) => Math.max(b.value, b.limit ?? 0)));
  const scale = (n: number) => Math.round((n / max) * BAR_WIDTH);
  const height = bars.length * ROW + 8;
  const width = LABEL_WIDTH + BAR_WIDTH + 90;
  const rows = bars.map((b, i) => {
    const y = i * ROW + 4;
    const limit =
      b.limit === undefined
        ? ''
        : `<rect class="limit" x="${LABEL_WIDTH}" y="${y}" width="${scale(b.limit)}" height="18"/>`;
    const text = b.limit === undefined ? `${b.value}` : `${b.value} / ${b.limit}`;
    return (
      `<text class="label" x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end">${escapeXml(b.label)}</text>` +
      limit +
      `<rect class="value${b.limit !== undefined && b.value >= b.limit ? ' full' : ''}" x="${LABEL_WIDTH}" y="${y}" width="${scale(b.value)}" height="18"/>` +
      `<text class="number" x="${LABEL_WIDTH + Math.max(scale(b.value), scale(b.limit ?? 0)) + 6}" y="${y + 13}">${escapeXml(text)}</text>`
    );
  });
  const summary = bars
    .map((b) => `${b.label}: ${b.value}${b.limit === undefined ? '' : ` of ${b.limit}`} ${unit}`)
    .join('; ');
  return (
    `<svg class="chart" role="img" aria-label="${escapeXml(`${title}. ${summary}`)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg">` +
    `<title>${escapeXml(title)}</title>${rows.join('')}</svg>`
  );
}
