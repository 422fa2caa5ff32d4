import { STATS_OUTCOMES, type HourCount, type HourlyDeliveries, type StatsOutcome } from './api.js';
import { h, svg } from './dom.js';

const LABEL: Record<StatsOutcome, string> = { delivered: 'delivered', failed: 'failed', skipped: 'skipped', pending: 'not final yet' };

const WIDTH = 480;
const HEIGHT = 150;
const LEFT = 30;
const BOTTOM = 20;
const TOP = 8;

const total = (hour: HourCount) => STATS_OUTCOMES.reduce((sum, outcome) => sum + hour[outcome], 0);
const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function describe(hour: HourCount): string {
  const parts = STATS_OUTCOMES.filter((o) => hour[o] > 0).map((o) => `${hour[o]} ${LABEL[o]}`);
  return `${clock(hour.start)}: ${parts.length > 0 ? parts.join(', ') : 'no deliveries'}`;
}

/** Deliveries per hour, stacked by final status: an inline SVG drawn here (no library), with a text summary beside it. */
export function hourlyChart(stats: HourlyDeliveries, id: string): HTMLElement {
  const max = Math.max(1, ...stats.hours.map(total));
  const band = (WIDTH - LEFT - 4) / stats.hours.length;
  const plot = HEIGHT - BOTTOM - TOP;
  const y = (value: number) => (value / max) * plot;
  const sums = Object.fromEntries(STATS_OUTCOMES.map((o) => [o, stats.hours.reduce((sum, hour) => sum + hour[o], 0)])) as Record<StatsOutcome, number>;
  const summary = `In the last 24 hours: ${STATS_OUTCOMES.map((o) => `${sums[o]} ${LABEL[o]}`).join(', ')}.`;

  const bars = stats.hours.map((hour, i) => {
    let base = HEIGHT - BOTTOM;
    const x = LEFT + i * band + band * 0.15;
    const stack = STATS_OUTCOMES.filter((o) => hour[o] > 0).map((o) => {
      const height = y(hour[o]);
      base -= height;
      return svg('rect', { class: `bar ${o}`, x: x.toFixed(1), y: base.toFixed(1), width: (band * 0.7).toFixed(1), height: height.toFixed(1) });
    });
    // the whole column answers hovering, even an empty hour
    return svg('g', { class: 'hour' }, svg('title', null, describe(hour)), svg('rect', { class: 'hit', x: (LEFT + i * band).toFixed(1), y: TOP, width: band.toFixed(1), height: plot }), stack);
  });
  const ticks = stats.hours
    .map((hour, i) => ({ hour, i }))
    .filter(({ i }) => i % 6 === 0 || i === stats.hours.length - 1)
    .map(({ hour, i }) => {
      const last = i === stats.hours.length - 1;
      return svg('text', { class: 'tick', x: (LEFT + i * band + (last ? band : band / 2)).toFixed(1), y: HEIGHT - 5, 'text-anchor': last ? 'end' : 'middle' }, clock(hour.start));
    });

  const figure = svg(
    'svg',
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-summary`, class: 'chart', preserveAspectRatio: 'xMidYMid meet' },
    svg('title', { id: `${id}-title` }, 'Deliveries per hour by final status'),
    svg('line', { class: 'axis', x1: LEFT, x2: WIDTH - 4, y1: HEIGHT - BOTTOM, y2: HEIGHT - BOTTOM }),
    svg('line', { class: 'grid', x1: LEFT, x2: WIDTH - 4, y1: TOP, y2: TOP }),
    svg('text', { class: 'tick', x: LEFT - 4, y: TOP + 4, 'text-anchor': 'end' }, String(max)),
    svg('text', { class: 'tick', x: LEFT - 4, y: HEIGHT - BOTTOM, 'text-anchor': 'end' }, '0'),
    bars,
    ticks,
  );
  return h(
    'figure',
    { class: 'chart-figure' },
    figure,
    h('figcaption', null, h('ul', { class: 'legend' }, STATS_OUTCOMES.map((o) => h('li', null, h('span', { class: `swatch ${o}`, 'aria-hidden': 'true' }), `${LABEL[o]} (${sums[o]})`))), h('p', { id: `${id}-summary`, class: 'muted' }, summary)),
  );
}
