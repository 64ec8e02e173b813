/**
 * The run report's chart, drawn on the server as inline SVG: no script, no CDN, so the page
 * prints and works offline. Two series (messages submitted and delivered per interval) on one
 * axis; a library would add a bundle for two polylines.
 */
export interface ChartSeries {
  label: string;
  color: string;
  values: readonly number[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function lineChartSvg(input: { title: string; xLabels: readonly string[]; series: readonly ChartSeries[]; width?: number; height?: number }): string {
  const width = input.width ?? 640;
  const height = input.height ?? 240;
  const pad = { left: 56, right: 12, top: 28, bottom: 36 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const points = Math.max(1, ...input.series.map((s) => s.values.length));
  const max = Math.max(1, ...input.series.flatMap((s) => s.values));
  const x = (i: number) => pad.left + (points === 1 ? plotW / 2 : (i * plotW) / (points - 1));
  const y = (v: number) => pad.top + plotH - (v / max) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${escape(input.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escape(input.title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
  ];
  for (const tick of ticks) {
    parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${pad.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#333">${tick}</text>`);
  }
  const labelEvery = Math.max(1, Math.ceil(input.xLabels.length / 6));
  input.xLabels.forEach((label, i) => {
    // The last label ends at the axis' end rather than running off the picture.
    const anchor = i === input.xLabels.length - 1 && i > 0 ? 'end' : i === 0 && input.xLabels.length > 1 ? 'start' : 'middle';
    if (i % labelEvery === 0 || i === input.xLabels.length - 1) parts.push(`<text x="${x(i).toFixed(1)}" y="${height - pad.bottom + 16}" text-anchor="${anchor}" fill="#333">${escape(label)}</text>`);
  });
  parts.push(`<line x1="${pad.left}" x2="${pad.left}" y1="${pad.top}" y2="${pad.top + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${pad.left}" x2="${width - pad.right}" y1="${pad.top + plotH}" y2="${pad.top + plotH}" stroke="#333"/>`);
  input.series.forEach((series, index) => {
    const coords = series.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    if (series.values.length === 1) parts.push(`<circle cx="${x(0).toFixed(1)}" cy="${y(series.values[0]!).toFixed(1)}" r="4" fill="${series.color}"/>`);
    else parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${coords}"/>`);
    const lx = pad.left + 8 + index * 180;
    parts.push(`<rect x="${lx}" y="8" width="12" height="12" fill="${series.color}"/><text x="${lx + 16}" y="18" fill="#111">${escape(series.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
