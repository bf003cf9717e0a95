// A small inline SVG line chart of throughput samples (no library): one polyline per series, a max label.
import { formatRate } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
  return element;
}

// series: [{label, className, values: [number...]}]; all series have the same length (oldest first).
export function renderThroughputChart(container, series, capacity) {
  const width = 600;
  const height = 160;
  const pad = { left: 8, right: 8, top: 18, bottom: 8 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => pad.left + (i * (width - pad.left - pad.right)) / Math.max(1, capacity - 1);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);

  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img',
    'aria-label': series.map((s) => `${s.label} ${formatRate(s.values.at(-1) || 0)}`).join(', '),
  });
  for (const fraction of [0.25, 0.5, 0.75, 1]) {
    const gy = y(max * fraction);
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: gy, y2: gy, class: 'grid' }));
  }
  const maxLabel = svg('text', { x: pad.left, y: 13, class: 'axis' });
  maxLabel.textContent = `max ${formatRate(max)}`;
  chart.append(maxLabel);
  for (const s of series) {
    const offset = capacity - s.values.length;
    const points = s.values.map((v, i) => `${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { points, class: `line ${s.className}` }));
  }
  container.replaceChildren(chart);
}
