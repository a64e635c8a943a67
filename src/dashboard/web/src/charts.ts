/**
 * Stacked time charts (uPlot) sharing one time axis: drag to zoom, buttons and keys to zoom and pan, a strip of
 * prompt markers whose "why" shows on hover, focus or tap, lap lines and shaded pauses drawn in every panel.
 * Each panel has its own x data (risk points are sparser than samples) but all follow the same x range.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, clear } from './dom.js';
import { formatDuration } from './format.js';
import { PALETTE } from './palette.js';

export { PALETTE };

export interface PanelSpec {
  id: string;
  title: string;
  unit: string;
  color: string;
  /** Tick and legend text for a y value. */
  format: (v: number) => string;
  /** Pace: faster (smaller) at the top. */
  invert?: boolean;
  /** Fixed y range, e.g. 0–100 for risk. */
  range?: [number, number];
  /** Fill under the line (for the risk gauge). */
  fill?: boolean;
  /**
   * Fit the y axis to the 1st–99th percentile of the values instead of their extremes, so a standing start
   * (pace of 20 min/km) does not flatten the rest of the run.
   */
  robust?: boolean;
  /** Tick steps a reader takes in at a glance (e.g. 15 s, 30 s, 1 min of pace); uPlot's own when absent. */
  incrs?: number[];
  /** Least span of the y axis (e.g. 20 bpm): a flat line still gets several ticks. */
  minSpan?: number;
  /** No tick or range below this (pace and heart rate are never negative). */
  floor?: number;
}

/** What the shared x axis shows: run time (s), or distance in the reader's unit. */
export interface XAxis {
  id: 'time' | 'distance';
  format: (v: number) => string;
  incrs: number[];
  /** Smallest zoom window, in x units. */
  minSpan: number;
}

export interface PanelData {
  t: ArrayLike<number>;
  values: ArrayLike<number | null>;
  /** Optional words per point for the cursor readout (e.g. the risk's top factors). */
  notes?: ArrayLike<string>;
}

export type Tone = 'info' | 'warning' | 'urgent';

export interface TimeMarker {
  /** Where on the x axis (run time, or distance when the axis shows distance). */
  t: number;
  /** The moment as a runner reads it ("1:02:05"); the x value formatted when absent. */
  when?: string;
  glyph: string;
  label: string;
  detail: string;
  tone: Tone;
}

export interface Band {
  from: number;
  to: number;
}


const PANEL_HEIGHT = 150;
/** A prompt marker's size on the strip, px (also the least gap between two on one row). */
const MARKER_PX = 26;
/** Time-axis steps a runner reads at a glance: seconds when zoomed in, then whole minutes and hours. */
const TIME_TICKS_S = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 5400, 7200, 10800, 14400, 21600, 43200];
/** Distance-axis steps (km or mi). */
const DISTANCE_TICKS = [0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 25, 50, 100];

export const TIME_AXIS: XAxis = { id: 'time', format: (v) => formatDuration(v), incrs: TIME_TICKS_S, minSpan: 30 };

export function distanceAxis(unit: string): XAxis {
  return {
    id: 'distance',
    format: (v) => {
      const digits = Math.abs(v - Math.round(v)) < 1e-6 ? 0 : Math.abs(v * 10 - Math.round(v * 10)) < 1e-6 ? 1 : 2;
      return `${v.toFixed(digits)} ${unit}`;
    },
    incrs: DISTANCE_TICKS,
    minSpan: 0.1,
  };
}

interface Mounted {
  spec: PanelSpec;
  figure: HTMLElement;
  /** y range for `robust` panels, computed once per data change (uPlot asks for it on every x change). */
  yRange: [number, number] | null;
  plot: uPlot;
  data: PanelData;
  empty: HTMLElement;
}

export class ChartStack {
  readonly element: HTMLElement;
  private readonly panels: Mounted[] = [];
  private readonly strip: HTMLElement;
  private readonly tooltip: HTMLElement;
  private markers: TimeMarker[] = [];
  private laps: number[] = [];
  private pauses: Band[] = [];
  /** The user's zoom; null = whole run (and, live, follow the growing end). */
  private range: { min: number; max: number } | null = null;
  private syncing = false;
  private readonly resizeObserver: ResizeObserver;
  private pinned: HTMLButtonElement | null = null;
  private xAxis: XAxis = TIME_AXIS;

  constructor(container: HTMLElement, specs: PanelSpec[], opts: { syncKey?: string } = {}) {
    const syncKey = opts.syncKey ?? `cg-${Math.random().toString(36).slice(2)}`;
    this.tooltip = h('div', { class: 'marker-tip', role: 'tooltip', hidden: true });
    this.strip = h('div', { class: 'marker-strip', 'aria-label': 'Prompts on the time line' });
    const controls = h(
      'div',
      { class: 'chart-controls', role: 'toolbar', 'aria-label': 'Chart zoom' },
      h('button', { type: 'button', onclick: () => this.zoom(0.5), 'aria-label': 'Zoom in' }, '+'),
      h('button', { type: 'button', onclick: () => this.zoom(2), 'aria-label': 'Zoom out' }, '−'),
      h('button', { type: 'button', onclick: () => this.pan(-0.5), 'aria-label': 'Earlier' }, '←'),
      h('button', { type: 'button', onclick: () => this.pan(0.5), 'aria-label': 'Later' }, '→'),
      h('button', { type: 'button', onclick: () => this.reset(), 'aria-label': 'Show the whole run' }, 'Whole run'),
      h('span', { class: 'hint' }, 'Drag across a chart to zoom'),
    );
    this.element = h('div', { class: 'chart-stack', tabindex: 0, 'aria-label': 'Run charts. Plus and minus zoom, arrow keys pan, 0 resets.' }, controls, this.strip, this.tooltip);
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    container.appendChild(this.element);

    const width = this.width();
    for (const spec of specs) {
      const wrap = h('figure', { class: 'panel', 'data-panel': spec.id, role: 'img', 'aria-label': spec.title });
      const readout = h('span', { class: 'readout', 'aria-hidden': 'true' });
      const caption = h('figcaption', null, h('span', { class: 'swatch', style: `background:${spec.color}` }), spec.title, spec.unit ? h('small', null, ` ${spec.unit}`) : null, readout);
      const empty = h('p', { class: 'panel-empty', hidden: true }, `No ${spec.title.toLowerCase()} recorded`);
      wrap.append(caption, empty);
      this.element.appendChild(wrap);
      const data: PanelData = { t: [], values: [] };
      const plot = new uPlot(this.options(spec, width, syncKey, readout), [[], []], wrap);
      wrap.hidden = true;
      this.panels.push({ spec, figure: wrap, plot, data, empty, yRange: null });
    }
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.element);
    document.addEventListener('click', this.onDocumentClick);
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    document.removeEventListener('click', this.onDocumentClick);
    for (const p of this.panels) p.plot.destroy();
    this.element.remove();
  }

  /** Switches what the x axis shows; the caller then sets panels and markers in the new x units. */
  setXAxis(axis: XAxis): void {
    this.xAxis = axis;
    this.range = null;
    this.element.dataset.xAxis = axis.id;
  }

  get xAxisId(): XAxis['id'] {
    return this.xAxis.id;
  }

  setPanel(id: string, data: PanelData): void {
    this.setPanels([[id, data]]);
  }

  /** Several panels at once: one re-layout for all (the live view updates four per frame). */
  setPanels(updates: [string, PanelData][]): void {
    for (const [id, data] of updates) {
      const panel = this.panels.find((p) => p.spec.id === id);
      if (!panel) continue;
      panel.data = data;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < data.values.length; i++) {
        const v = data.values[i];
        if (v === null || v === undefined || !Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const any = lo <= hi;
      // The canvas says nothing to a screen reader: the figure carries a one-line summary.
      const unit = panel.spec.unit ? ` ${panel.spec.unit}` : '';
      panel.figure.setAttribute(
        'aria-label',
        any ? `${panel.spec.title}: from ${panel.spec.format(lo)} to ${panel.spec.format(hi)}${unit}` : `${panel.spec.title}: not recorded`,
      );
      // No series at all (e.g. no fluid estimate in this report): no panel. A series with no values: say so.
      panel.figure.hidden = data.t.length === 0;
      panel.empty.hidden = any;
      panel.plot.root.hidden = !any;
      panel.yRange = panel.spec.robust ? robustRange(data.values, panel.spec) : null;
      panel.plot.setData([Array.from(data.t), Array.from(data.values)] as uPlot.AlignedData, false);
    }
    this.applyRange();
  }

  setMarkers(markers: TimeMarker[], laps: number[] = this.laps, pauses: Band[] = this.pauses): void {
    this.markers = markers;
    this.laps = laps;
    this.pauses = pauses;
    this.renderStrip();
    for (const p of this.panels) p.plot.redraw(false, false);
  }

  /** Centre the view on `t` (a prompt chosen from the list). */
  focusTime(t: number, spanS = 600): void {
    const [lo, hi] = this.extent();
    const half = Math.min(this.xAxis.id === 'time' ? spanS : spanS / 300, hi - lo) / 2;
    this.range = { min: Math.max(lo, t - half), max: Math.min(hi, t + half) };
    this.applyRange();
  }

  zoom(factor: number): void {
    const [lo, hi] = this.extent();
    const cur = this.range ?? { min: lo, max: hi };
    const mid = (cur.min + cur.max) / 2;
    const half = Math.max(this.xAxis.minSpan / 2, ((cur.max - cur.min) * factor) / 2);
    if (half * 2 >= hi - lo) return this.reset();
    this.range = { min: Math.max(lo, mid - half), max: Math.min(hi, mid + half) };
    this.applyRange();
  }

  pan(fraction: number): void {
    if (!this.range) return;
    const [lo, hi] = this.extent();
    const span = this.range.max - this.range.min;
    let min = this.range.min + span * fraction;
    min = Math.min(Math.max(lo, min), hi - span);
    this.range = { min, max: min + span };
    this.applyRange();
  }

  reset(): void {
    this.range = null;
    this.applyRange();
  }

  private extent(): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of this.panels) {
      const n = p.data.t.length;
      if (n === 0) continue;
      lo = Math.min(lo, p.data.t[0]!);
      hi = Math.max(hi, p.data.t[n - 1]!);
    }
    for (const m of this.markers) {
      lo = Math.min(lo, m.t);
      hi = Math.max(hi, m.t);
    }
    if (!Number.isFinite(lo)) return [0, 60];
    return hi > lo ? [lo, hi] : [lo, lo + 60];
  }

  private applyRange(): void {
    const [lo, hi] = this.extent();
    const r = this.range ?? { min: lo, max: hi };
    this.syncing = true;
    for (const p of this.panels) p.plot.setScale('x', r);
    this.syncing = false;
    // The visible window, readable by assistive tech and by the browser tests.
    this.element.dataset.from = String(Math.round(r.min));
    this.element.dataset.to = String(Math.round(r.max));
    this.renderStrip();
  }

  private width(): number {
    return Math.max(260, this.element.clientWidth || this.element.parentElement?.clientWidth || 600);
  }

  private resize(): void {
    const width = this.width();
    for (const p of this.panels) if (p.plot.width !== width) p.plot.setSize({ width, height: PANEL_HEIGHT });
    this.renderStrip();
  }

  private options(spec: PanelSpec, width: number, syncKey: string, readout: HTMLElement): uPlot.Options {
    const stack = this;
    const axisFont = '12px system-ui, sans-serif';
    return {
      width,
      height: PANEL_HEIGHT,
      // The value under the cursor goes in the caption (cursors are synced: every panel shows its value then).
      legend: { show: false },
      cursor: { sync: { key: syncKey }, drag: { x: true, y: false } },
      scales: {
        x: { time: false },
        y: spec.range
          ? { range: spec.range, dir: spec.invert ? -1 : 1 }
          : spec.robust
            ? { dir: spec.invert ? -1 : 1, range: (u, min, max) => stack.panels.find((p) => p.plot === u)?.yRange ?? paddedRange(min, max, spec) }
            : { dir: spec.invert ? -1 : 1 },
      },
      axes: [
        { font: axisFont, size: 30, space: 64, incrs: () => stack.xAxis.incrs, values: (_u, ticks) => ticks.map((v) => stack.xAxis.format(v)), stroke: '#444', grid: { stroke: '#e8e8e8' } },
        {
          font: axisFont,
          size: 56,
          space: 22,
          ...(spec.incrs ? { incrs: spec.incrs } : {}),
          values: (u, ticks) => {
            const labels = ticks.map((v) => spec.format(v));
            // The canvas hides its ticks from assistive tech and tests: the figure names them.
            if (u.root.parentElement) u.root.parentElement.dataset.yTicks = labels.join('|');
            return labels;
          },
          stroke: '#444',
          grid: { stroke: '#e8e8e8' },
        },
      ],
      series: [
        { label: 'x', value: (_u, v) => (v === null ? '–' : stack.xAxis.format(v)) },
        {
          label: spec.title,
          stroke: spec.color,
          width: 1.75,
          fill: spec.fill ? `${spec.color}33` : undefined,
          spanGaps: false,
          points: { show: false },
          value: (_u, v) => (v === null ? '–' : `${spec.format(v)}${spec.unit ? ` ${spec.unit}` : ''}`),
        },
      ],
      hooks: {
        draw: [(u) => stack.drawOverlays(u)],
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            const v = i === null || i === undefined ? null : u.data[1]?.[i];
            const t = i === null || i === undefined ? null : u.data[0]?.[i];
            const note = i === null || i === undefined ? '' : (stack.panels.find((p) => p.plot === u)?.data.notes?.[i] ?? '');
            readout.textContent = v === null || v === undefined || t === null || t === undefined ? '' : `${spec.format(v)}${spec.unit ? ` ${spec.unit}` : ''} at ${stack.xAxis.format(t)}${note ? ` · ${note}` : ''}`;
          },
        ],
        setScale: [
          (u, key) => {
            if (key !== 'x' || stack.syncing) return;
            // A drag-zoom on one panel: every panel and the marker strip follow.
            const min = u.scales.x!.min!;
            const max = u.scales.x!.max!;
            const [lo, hi] = stack.extent();
            stack.range = min <= lo && max >= hi ? null : { min, max };
            stack.applyRange();
          },
        ],
      },
    };
  }

  private drawOverlays(u: uPlot): void {
    const ctx = u.ctx;
    const { top, height, left, width } = u.bbox;
    const dpr = devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.fillStyle = PALETTE.pause;
    for (const b of this.pauses) {
      const x0 = u.valToPos(b.from, 'x', true);
      const x1 = u.valToPos(b.to, 'x', true);
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height);
    }
    ctx.setLineDash([4 * dpr, 4 * dpr]);
    ctx.lineWidth = dpr;
    ctx.strokeStyle = PALETTE.lap;
    for (const t of this.laps) {
      const x = Math.round(u.valToPos(t, 'x', true));
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    ctx.lineWidth = 1.5 * dpr;
    // Prompt lines in neutral ink: the series own the colours; the marker above says which prompt it is.
    ctx.strokeStyle = PALETTE.promptLine;
    for (const m of this.markers) {
      const x = Math.round(u.valToPos(m.t, 'x', true));
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, top + height);
      ctx.stroke();
    }
    ctx.restore();
  }

  private renderStrip(): void {
    const first = this.panels[0]?.plot;
    clear(this.strip);
    if (!first) return;
    const dpr = devicePixelRatio || 1;
    const left = first.bbox.left / dpr;
    const width = first.bbox.width / dpr;
    this.strip.style.marginLeft = `${left}px`;
    this.strip.style.width = `${width}px`;
    const scale = first.scales.x;
    if (scale?.min === undefined || scale.max === undefined || scale.min === null || scale.max === null) return;
    // Markers closer than a marker's width go to a second row, so each stays visible and tappable.
    const lastX = [-Infinity, -Infinity];
    let rows = 1;
    for (const [i, m] of this.markers.entries()) {
      if (m.t < scale.min || m.t > scale.max) continue;
      const x = first.valToPos(m.t, 'x');
      const row = x - lastX[0]! >= MARKER_PX || x - lastX[1]! < MARKER_PX ? 0 : 1;
      lastX[row] = x;
      rows = Math.max(rows, row + 1);
      const button = h(
        'button',
        {
          type: 'button',
          class: `marker tone-${m.tone}`,
          style: `left:${x}px;top:${2 + row * MARKER_PX}px`,
          'data-index': i,
          'aria-label': `${m.when ?? this.xAxis.format(m.t)} ${m.label}: ${m.detail}`,
        },
        m.glyph,
      );
      button.addEventListener('mouseenter', () => this.showTip(button, m));
      button.addEventListener('focus', () => this.showTip(button, m));
      button.addEventListener('mouseleave', () => this.pinned !== button && this.hideTip());
      button.addEventListener('blur', () => this.pinned !== button && this.hideTip());
      button.addEventListener('click', (e) => {
        e.stopPropagation();
        this.pinned = this.pinned === button ? null : button;
        if (this.pinned) this.showTip(button, m);
        else this.hideTip();
      });
      this.strip.appendChild(button);
    }
    this.strip.style.height = `${6 + rows * MARKER_PX}px`;
  }

  private showTip(button: HTMLElement, m: TimeMarker): void {
    clear(this.tooltip);
    this.tooltip.append(
      h('strong', null, `${m.when ?? this.xAxis.format(m.t)} · ${m.label}`),
      h('span', null, m.detail),
    );
    this.tooltip.hidden = false;
    const stackBox = this.element.getBoundingClientRect();
    const box = button.getBoundingClientRect();
    const tipWidth = Math.min(280, stackBox.width - 16);
    let left = box.left - stackBox.left + box.width / 2 - tipWidth / 2;
    left = Math.max(8, Math.min(stackBox.width - tipWidth - 8, left));
    this.tooltip.style.width = `${tipWidth}px`;
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${box.bottom - stackBox.top + 6}px`;
  }

  private hideTip(): void {
    this.tooltip.hidden = true;
  }

  private readonly onDocumentClick = (): void => {
    this.pinned = null;
    this.hideTip();
  };

  private onKey(e: KeyboardEvent): void {
    if (e.target !== this.element) return;
    const actions: Record<string, () => void> = {
      '+': () => this.zoom(0.5),
      '=': () => this.zoom(0.5),
      '-': () => this.zoom(2),
      ArrowLeft: () => this.pan(-0.25),
      ArrowRight: () => this.pan(0.25),
      '0': () => this.reset(),
    };
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }
}

/** At least `minSpan` around the middle, and nothing below `floor`. */
function widened(lo: number, hi: number, spec: Pick<PanelSpec, 'minSpan' | 'floor'>): [number, number] {
  const min = spec.minSpan ?? 0;
  if (hi - lo < min) {
    const mid = (lo + hi) / 2;
    lo = mid - min / 2;
    hi = mid + min / 2;
  }
  if (spec.floor !== undefined && lo < spec.floor) {
    hi += spec.floor - lo;
    lo = spec.floor;
  }
  return [lo, hi];
}

/** The 1st–99th percentile of the finite values, padded by 35 %; null (uPlot's own range) when there are few. */
export function robustRange(values: ArrayLike<number | null>, spec: Pick<PanelSpec, 'minSpan' | 'floor'> = {}): [number, number] | null {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined && Number.isFinite(v)) finite.push(v);
  }
  if (finite.length < 20) return null;
  finite.sort((a, b) => a - b);
  const lo = finite[Math.floor(finite.length * 0.01)]!;
  const hi = finite[Math.ceil(finite.length * 0.99) - 1]!;
  // Generous padding: sample noise should read as texture around a level, not fill the panel.
  const pad = Math.max((hi - lo) * 0.35, 1);
  return widened(lo - pad, hi + pad, spec);
}

/** The data's own range, never empty (a single point or a flat line still gets an axis). */
function paddedRange(min: number | null, max: number | null, spec: Pick<PanelSpec, 'minSpan' | 'floor'> = {}): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max - min < 1e-9) return widened(min - 1, max + 1, spec);
  const pad = (max - min) * 0.05;
  return widened(min - pad, max + pad, spec);
}
