/**
 * Checkpoints and rebuilds: a live run's engine and normaliser state is saved every
 * {@link CHECKPOINT_EVERY_BATCHES} batches once they are stored, and on close; a run opened again (a server
 * restart, idle eviction, a hand-over between processes) restores the latest usable checkpoint and replays the
 * stored samples and events after it, or replays the whole run when there is none. Events are stored at the time
 * they took effect (src/live/session.ts), so a rebuild replays exactly what the live engine saw and gives the
 * same prompts.
 * @module
 */
import type { EngineSnapshot } from '../../alerts/types.js';
import type { LiveNormalizerState } from '../../ingest/live.js';
import type { SampleColumns } from '../../ingest/sample.js';
import type { RunRecord, Store, StoredRunEvent } from '../store/types.js';

/**
 * Save an engine checkpoint every this many batches, so a restart replays at most that many. Replaying is cheap
 * (300 one-sample batches: 300 rows read and about a millisecond of engine), a checkpoint is not (~16 KB of JSON
 * encoded, cloned to the store thread and written): every 20 batches, checkpoints took ~13 % of the server's CPU at
 * 2,000 watches × 1 Hz; every 100, saturation (a message acked, the next sent) still did 8 % fewer messages a second.
 */
export const CHECKPOINT_EVERY_BATCHES = 300;

/**
 * How many batches a run waits for its first checkpoint: 1 to {@link CHECKPOINT_EVERY_BATCHES}, fixed per run id.
 * Runs that started together (a bench, a server restart rebuilding every session) would otherwise all checkpoint on
 * the same batch: 5,000 watches at 1 Hz then held the event loop for 200–400 ms at once, encoding and writing 5,000
 * snapshots.
 */
export function firstCheckpointAfter(runId: string): number {
  let h = 0x811c9dc5; // FNV-1a, 32 bits
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 0x01000193);
  return 1 + ((h >>> 0) % CHECKPOINT_EVERY_BATCHES);
}

/** What a live checkpoint holds (the store keeps it as an opaque engine snapshot). */
export interface CheckpointState extends EngineSnapshot {
  version: 1;
  engine: EngineSnapshot;
  normalizer: LiveNormalizerState;
  /** t of the last sample the engine consumed (-1 before the first). */
  lastT: number;
}

/** What the store holds to open a live run again. */
export interface RebuildSource {
  /** The latest checkpoint, when it is usable (this version, not beyond what is stored). */
  checkpoint: { seq: number; state: CheckpointState } | null;
  /** The seq the samples below start after: the checkpoint's, or 0. */
  afterSeq: number;
  /** Samples stored after `afterSeq`, through the run's contiguous seq. */
  cols: SampleColumns | null;
  /** Every event stored for the run, in order. */
  events: StoredRunEvent[];
  /** Where the live normaliser goes on from: the checkpoint's, moved to the last stored sample. */
  normalizerState: Partial<LiveNormalizerState>;
}

/** Reads the checkpoint, the samples after it and the events of a stored live run. */
export async function readRebuildSource(store: Store, record: RunRecord): Promise<RebuildSource> {
  const saved = await store.getCheckpoint(record.athleteId, record.id);
  const state = saved?.snapshot as CheckpointState | undefined;
  const checkpoint = state?.version === 1 && saved!.seq <= record.contiguousSeq ? { seq: saved!.seq, state } : null;
  const startMs = record.startTime ? Date.parse(record.startTime) : null;
  const afterSeq = checkpoint ? checkpoint.seq : 0;
  const [cols, events] = await Promise.all([
    store.readSamples(record.athleteId, record.id, { afterSeq, throughSeq: record.contiguousSeq }),
    store.listEvents(record.athleteId, record.id),
  ]);
  const lastStoredT = cols && cols.length > 0 ? cols.t[cols.length - 1]! : (checkpoint?.state.lastT ?? -1);
  const normalizerState: Partial<LiveNormalizerState> = checkpoint
    ? { ...checkpoint.state.normalizer, lastT: lastStoredT >= 0 ? lastStoredT : checkpoint.state.normalizer.lastT }
    : { startMs: Number.isFinite(startMs) ? startMs : null, lastT: lastStoredT >= 0 ? lastStoredT : null };
  return { checkpoint, afterSeq, cols, events: events ?? [], normalizerState };
}
