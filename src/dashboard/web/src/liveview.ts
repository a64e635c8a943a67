/**
 * A run that is still growing: charts that extend as samples arrive, prompts that appear as they fire, and a
 * watch face showing what the runner was just told. Shared by the live view and the simulator.
 */
import type { Alert, RiskPoint } from '../../../../alerts/types.js';
import { ChartStack } from './charts.js';
import { h, clear } from './dom.js';
import { formatDuration, formatNumber, kindGlyph, paceFromSpeed } from './format.js';
import { alertMarker, factorWords, promptItem, runPanels } from './runview.js';
import { getUnits, unitMetres } from './units.js';

/** A sample as stored or sent: missing = null or absent. */
type Row = { t?: number | null; hr?: number | null; speed?: number | null; cadence?: number | null };

export class LiveRunView {
  readonly element: HTMLElement;
  readonly stack: ChartStack;
  private t: number[] = [];
  private hr: (number | null)[] = [];
  private pace: (number | null)[] = [];
  private cadence: (number | null)[] = [];
  private riskT: number[] = [];
  private riskScore: (number | null)[] = [];
  private riskNotes: string[] = [];
  /** The engine's fluid-deficit estimate carried by each live risk point (absent from older servers). */
  private fluidMl: (number | null)[] = [];
  /** The run's clock on the watch face: the newest sample's time, whatever the face shows besides. */
  private readonly clock: HTMLElement;
  private readonly alerts: Alert[] = [];
  private readonly alertIds = new Set<string>();
  private readonly list: HTMLOListElement;
  private readonly empty: HTMLElement;
  private readonly face: HTMLElement;
  private readonly riskNow: HTMLElement;
  private frame = 0;
  private readonly units = getUnits();
  /** Wall-clock ms at which each alert arrived, relative to `startedAt`. */
  private startedAt = performance.now();

  constructor(container: HTMLElement, opts: { watchTitle?: string } = {}) {
    this.clock = h('div', { class: 'watch-clock', 'data-testid': 'watch-clock', 'aria-live': 'off' }, '');
    this.face = h('div', { class: 'watch', 'aria-live': 'assertive', 'data-testid': 'watch-face' }, h('div', null, h('div', { class: 'watch-message' }, 'Waiting for the run…')));
    this.riskNow = h('p', { class: 'muted', 'data-testid': 'risk-now' });
    this.list = h('ol', { class: 'prompts', 'data-testid': 'prompts' });
    this.empty = h('p', { class: 'empty-inline', 'data-testid': 'prompts-empty' }, 'No prompts yet.');
    const chartsCard = h('section', { class: 'card charts' }, h('h2', null, 'Over time'));
    this.element = h(
      'div',
      { class: 'live-grid' },
      h('aside', null, h('section', { class: 'card' }, h('h2', null, opts.watchTitle ?? 'On the watch'), this.face, this.riskNow)),
      h('div', null, chartsCard, h('section', { class: 'card' }, h('h2', null, 'Prompts as they fired'), this.empty, this.list)),
    );
    container.append(this.element);
    this.stack = new ChartStack(chartsCard, runPanels());
  }

  destroy(): void {
    cancelAnimationFrame(this.frame);
    this.stack.destroy();
  }

  /** Resets the wall clock the "told at" times count from. */
  markStart(): void {
    this.startedAt = performance.now();
  }

  /** Appends samples (rows as stored or sent, missing = null); rows at or before the last time are skipped. */
  appendSamples(rows: readonly Row[]): void {
    for (const row of rows) {
      const t = row.t;
      if (typeof t !== 'number' || t <= this.lastSampleT()) continue;
      this.t.push(t);
      this.hr.push(row.hr ?? null);
      this.pace.push(this.paceOf(row.speed));
      this.cadence.push(row.cadence ?? null);
    }
    this.updateFace();
    this.schedule();
  }

  /** Puts samples loaded from the store before those that arrived on the socket meanwhile. */
  prependStored(rows: readonly Row[]): void {
    const firstLive = this.t.length ? this.t[0]! : Infinity;
    const t: number[] = [];
    const hr: (number | null)[] = [];
    const pace: (number | null)[] = [];
    const cadence: (number | null)[] = [];
    for (const row of rows) {
      if (typeof row.t !== 'number' || row.t >= firstLive || (t.length > 0 && row.t <= t[t.length - 1]!)) continue;
      t.push(row.t);
      hr.push(row.hr ?? null);
      pace.push(this.paceOf(row.speed));
      cadence.push(row.cadence ?? null);
    }
    this.t = t.concat(this.t);
    this.hr = hr.concat(this.hr);
    this.pace = pace.concat(this.pace);
    this.cadence = cadence.concat(this.cadence);
    this.updateFace();
    this.schedule();
  }

  /** Pace in the reader's unit (s per km or per mile), as the pace panel draws it. */
  private paceOf(speed: number | null | undefined): number | null {
    const pace = typeof speed === 'number' ? paceFromSpeed(speed) : null;
    return pace === null ? null : pace * (unitMetres(this.units) / 1000);
  }

  lastSampleT(): number {
    return this.t.length ? this.t[this.t.length - 1]! : -Infinity;
  }

  /** Risk points from before the page was opened (the follow ack's history), placed before the live ones. */
  prependRisk(points: readonly RiskPoint[]): void {
    const firstLive = this.riskT.length ? this.riskT[0]! : Infinity;
    const older = points.filter((p, i) => p.t < firstLive && (i === 0 || p.t > points[i - 1]!.t));
    if (older.length === 0) return;
    this.riskT = older.map((p) => p.t).concat(this.riskT);
    this.riskScore = older.map((p) => p.score as number | null).concat(this.riskScore);
    this.riskNotes = older.map((p) => factorWords(p.factors)).concat(this.riskNotes);
    this.fluidMl = older.map((p) => (typeof p.fluidDeficitMl === 'number' ? p.fluidDeficitMl : null)).concat(this.fluidMl);
    if (this.riskT.length === older.length) {
      const last = older[older.length - 1]!;
      const words = factorWords(last.factors);
      this.riskNow.textContent = `Cramp risk now: ${formatNumber(last.score)} / 100${words ? ` (${words})` : ''}`;
    }
    this.schedule();
  }

  addRisk(point: RiskPoint): void {
    const last = this.riskT.length ? this.riskT[this.riskT.length - 1]! : -Infinity;
    if (point.t <= last) return;
    this.riskT.push(point.t);
    this.riskScore.push(point.score);
    this.fluidMl.push(typeof point.fluidDeficitMl === 'number' ? point.fluidDeficitMl : null);
    const words = factorWords(point.factors);
    this.riskNotes.push(words);
    this.riskNow.textContent = `Cramp risk now: ${formatNumber(point.score)} / 100${words ? ` (${words})` : ''}`;
    this.schedule();
  }

  /** Adds a prompt unless already shown (alerts are re-sent on resume; their ids are stable). */
  addAlert(alert: Alert, fresh = true): void {
    if (this.alertIds.has(alert.id)) return;
    this.alertIds.add(alert.id);
    this.alerts.push(alert);
    this.empty.hidden = true;
    const told = fresh ? `told +${((performance.now() - this.startedAt) / 1000).toFixed(1)} s` : undefined;
    const item = promptItem(alert, (a) => this.stack.focusTime(a.t), told);
    if (fresh) {
      item.classList.add('fresh');
      this.showOnWatch(alert);
    }
    this.list.append(item);
    this.stack.setMarkers(this.alerts.map(alertMarker));
  }

  shownAlerts(): readonly Alert[] {
    return this.alerts;
  }

  setFaceText(text: string): void {
    clear(this.face);
    this.face.className = 'watch';
    this.face.append(h('div', null, this.t.length ? this.clock : null, h('div', { class: 'watch-message' }, text)));
  }

  private showOnWatch(alert: Alert): void {
    clear(this.face);
    this.face.className = `watch tone-${alert.severity}`;
    this.face.append(
      h(
        'div',
        null,
        this.clock,
        h('div', { class: 'watch-time' }, `${kindGlyph(alert.kind)} at ${formatDuration(alert.t)}`),
        h('div', { class: 'watch-message', 'data-testid': 'watch-message' }, alert.message),
        this.statsLine(),
      ),
    );
  }

  private statsLine(): HTMLElement {
    const i = this.t.length - 1;
    const hr = i >= 0 ? this.hr[i] : null;
    const pace = i >= 0 ? this.pace[i] : null;
    return h('div', { class: 'watch-stats' }, `${formatNumber(hr ?? null)} bpm · ${pace === null || pace === undefined ? '–' : `${formatDuration(pace)} /${this.units.distance}`}`);
  }

  private updateFace(): void {
    // The clock follows the run on every batch, whatever the face shows besides.
    if (this.t.length > 0) this.clock.textContent = formatDuration(this.lastSampleT());
    const stats = this.face.querySelector('.watch-stats');
    if (stats) stats.replaceWith(this.statsLine());
    else if (this.alerts.length === 0 && this.t.length > 0) {
      clear(this.face);
      this.face.append(h('div', null, this.clock, h('div', { class: 'watch-message' }, 'Running'), this.statsLine()));
    }
  }

  /** One chart update per animation frame, however many batches arrived. */
  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.stack.setPanels([
        ['hr', { t: this.t, values: this.hr }],
        ['pace', { t: this.t, values: this.pace }],
        ['cadence', { t: this.t, values: this.cadence }],
        ['risk', { t: this.riskT, values: this.riskScore, notes: this.riskNotes }],
        // No panel until a point carries the estimate.
        ['fluid', this.fluidMl.some((v) => v !== null) ? { t: this.riskT, values: this.fluidMl } : { t: [], values: [] }],
      ]);
    });
  }
}
