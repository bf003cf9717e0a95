// A small inline SVG line chart of throughput samples (no library): one polyline per series over a time axis
// (local clock labels such as 03:15:30) and a value axis in bytes per second with round steps. It is drawn at
// its container's width so that labels stay readable on a phone.
import { formatClock, formatRate } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const HEIGHT = 200;
const PAD = { left: 78, right: 12, top: 12, bottom: 26 };
const TIME_STEPS_MS = [5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000];
const NICE = [1, 2, 2.5, 5, 10];

function svg(tag, attrs = {}, text = '') {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value);
  if (text) element.textContent = text;
  return element;
}

// The smallest round value (1, 2, 2.5 or 5 times a power of ten of KiB, MiB...) at least `max` (1 KiB at least).
export function niceMaximum(max) {
  let unit = 1024;
  if (!(max > unit)) return unit;
  while (max / unit >= 1000 && unit < 1024 ** 4) unit *= 1024;
  const scaled = Math.max(max / unit, 1e-9);
  const power = 10 ** Math.floor(Math.log10(scaled));
  const step = NICE.find((n) => n * power >= scaled * (1 - 1e-9));
  return step * power * unit;
}

// series: [{label, className, values: [bytes per second...]}] sampled at `times` (ms, oldest first); the time
// axis spans `spanMs` up to the newest sample.
export function renderThroughputChart(container, series, times, spanMs) {
  const width = Math.max(280, Math.round(container.clientWidth || 600));
  const plot = { width: width - PAD.left - PAD.right, height: HEIGHT - PAD.top - PAD.bottom };
  const end = times.at(-1) ?? Date.now();
  const start = end - spanMs;
  const max = niceMaximum(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (t) => PAD.left + ((t - start) / spanMs) * plot.width;
  const y = (v) => PAD.top + plot.height - (v / max) * plot.height;

  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, class: 'chart', role: 'img',
    'aria-label': series.map((s) => `${s.label} ${formatRate(s.values.at(-1) || 0)}`).join(', '),
  });
  const valueAxis = svg('g', { class: 'axis value-axis', 'data-testid': 'chart-value-axis' });
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const gy = y(max * fraction);
    chart.append(svg('line', { x1: PAD.left, x2: width - PAD.right, y1: gy, y2: gy, class: fraction === 0 ? 'baseline' : 'grid' }));
    valueAxis.append(svg('text', { x: PAD.left - 6, y: gy + 4, 'text-anchor': 'end' }, formatRate(max * fraction)));
  }
  const timeAxis = svg('g', { class: 'axis time-axis', 'data-testid': 'chart-time-axis' });
  const most = Math.max(2, Math.floor(plot.width / 80));
  const step = TIME_STEPS_MS.find((s) => spanMs / s <= most) ?? TIME_STEPS_MS.at(-1);
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) {
    timeAxis.append(svg('line', { x1: x(t), x2: x(t), y1: PAD.top + plot.height, y2: PAD.top + plot.height + 4, class: 'tick' }));
    timeAxis.append(svg('text', { x: x(t), y: HEIGHT - 6, 'text-anchor': 'middle' }, formatClock(t)));
  }
  chart.append(valueAxis, timeAxis);
  for (const s of series) {
    const points = s.values.map((v, i) => `${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    chart.append(svg('polyline', { points, class: `line ${s.className}` }));
  }
  container.replaceChildren(chart);
}
