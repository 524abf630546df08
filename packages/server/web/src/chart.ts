/**
 * A grouped bar chart as inline SVG: sign-ins and refusals per time bucket.
 * It scales to its container (viewBox), and carries a text summary for
 * screen readers; the numbers are also in the table beside it.
 */
import { s } from './dom.js';

export interface Series {
  label: string;
  className: string;
  values: number[];
}

const H = 240;
const PAD = { left: 40, right: 12, top: 12, bottom: 28 };

function niceMax(max: number): number {
  if (max <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= max) return step * magnitude;
  }
  return max;
}

/**
 * Draw the chart `width` pixels wide (the container's width, so text keeps its
 * size at phone width); `labels` name each bucket on the x axis, as many as fit.
 */
export function barChart(title: string, labels: string[], series: Series[], width: number): SVGElement {
  const W = Math.max(280, Math.round(width));
  const n = labels.length;
  const max = niceMax(Math.max(0, ...series.flatMap((x) => x.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, n);
  const barW = Math.max(1, (slot * 0.8) / series.length);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const totals = series
    .map((x) => `${x.values.reduce((a, b) => a + b, 0)} ${x.label.toLowerCase()}`)
    .join(', ');
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': `${title}: ${totals}`,
    class: 'chart',
    width: W,
    height: H,
  });
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    svg.append(
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(Math.round(v))),
    );
  }
  // Room for one label about every 80 pixels.
  const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(plotW / 80))));
  labels.forEach((label, i) => {
    const x0 = PAD.left + i * slot + slot * 0.1;
    series.forEach((x, j) => {
      const v = x.values[i] ?? 0;
      if (v === 0) return;
      svg.append(
        s(
          'rect',
          {
            x: x0 + j * barW,
            y: y(v),
            width: Math.max(1, barW - 1),
            height: PAD.top + plotH - y(v),
            class: x.className,
          },
          s('title', {}, `${label}: ${v} ${x.label.toLowerCase()}`),
        ),
      );
    });
    if (i % every === 0) {
      svg.append(
        s(
          'text',
          { x: PAD.left + i * slot + slot / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis' },
          label,
        ),
      );
    }
  });
  return svg;
}
