/**
 * The one feed: where a recorded run's samples and events meet an engine, for the report, replay, the dashboard
 * simulator and the tests alike. It decides which samples are analysed (the running legs of a multisport file),
 * and it holds the ordering rule: an event at time `t` takes effect after every sample with `sample.t <= t` and
 * before any later sample (events at the same `t` keep their order).
 * @module
 */
import { emptySample, readRow, type NormalizedRun, type RunEvent, type Sample } from './sample.js';
import { isRunningSport } from './sport.js';

/** What a feed plays into (an engine, or a live session's sender). */
export interface FeedTarget {
  push(sample: Readonly<Sample>): void;
  event(event: RunEvent): void;
}

export interface RunFeed {
  /** Running legs as [startT, endT] pairs; null when the whole file is one activity. */
  spans: Array<[number, number]> | null;
  /** The sport the engine is told: 'running' when a running leg is analysed, else the file's own sport. */
  sport: string | null;
  inSpan(t: number): boolean;
  /** Events in the order the rule above applies them. */
  events: RunEvent[];
  /** Plays every analysed sample and every event into `target`, in order. */
  play(target: FeedTarget): void;
  /** The same order one step at a time, for callers that wait between steps (replay to a server). */
  cursor(): FeedCursor;
}

/**
 * One step at a time, allocation-free: `next()` says what comes next and leaves it in `sample` or `event`.
 * The one implementation of the ordering rule; `play` is this loop run to the end.
 */
export interface FeedCursor {
  /** 'sample' (in `sample`), 'event' (in `event`) or 'done'. */
  next(): 'sample' | 'event' | 'done';
  readonly sample: Sample;
  event: RunEvent | null;
}

/** Running legs of a run as [startT, endT] pairs; null when the whole run is one leg. */
export function runningSpans(run: NormalizedRun): Array<[number, number]> | null {
  const legs = run.meta.legs ?? [];
  if (legs.length <= 1) return null;
  const running = legs.filter((l) => l.running);
  if (running.length === legs.length) return null;
  return running.map((l) => [l.startT, l.endT]);
}

/** The events of a run sorted by time, stable for equal times. */
export function orderedEvents(events: readonly RunEvent[]): RunEvent[] {
  return events
    .map((e, i) => ({ e, i }))
    .sort((x, y) => x.e.t - y.e.t || x.i - y.i)
    .map((x) => x.e);
}

export function runFeed(run: NormalizedRun): RunFeed {
  const spans = runningSpans(run);
  const legs = run.meta.legs ?? [];
  const anyRunning = legs.length === 0 ? isRunningSport(run.meta.sport) : legs.some((l) => l.running);
  // A multisport file with a running leg is analysed as running; a single-sport file keeps its own name.
  const own = run.meta.sport ?? null;
  const sport = anyRunning ? (own === null || isRunningSport(own) ? own : 'running') : (legs[0]?.sport ?? own ?? 'unknown');
  const inSpan = (t: number): boolean => spans === null || spans.some(([a, b]) => t >= a && t <= b);
  const events = orderedEvents(run.events);
  const cursor = (): FeedCursor => {
    const cols = run.samples;
    let i = 0;
    let ei = 0;
    const c: FeedCursor = {
      sample: emptySample(),
      event: null,
      next() {
        while (i < cols.length) {
          // An event takes effect after every sample at or before its time.
          if (ei < events.length && events[ei]!.t < cols.t[i]!) {
            c.event = events[ei++]!;
            return 'event';
          }
          readRow(cols, i++, c.sample);
          if (inSpan(c.sample.t)) return 'sample';
        }
        if (ei < events.length) {
          c.event = events[ei++]!;
          return 'event';
        }
        return 'done';
      },
    };
    return c;
  };
  return {
    spans,
    sport,
    inSpan,
    events,
    cursor,
    play(target) {
      const c = cursor();
      for (let step = c.next(); step !== 'done'; step = c.next()) {
        if (step === 'sample') target.push(c.sample);
        else target.event(c.event!);
      }
    },
  };
}
