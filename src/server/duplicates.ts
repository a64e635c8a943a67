/**
 * "The same activity uploaded again", as Strava judges it: a new upload is a duplicate of a stored run when both
 * started within {@link SAME_START_TOLERANCE_MS} and either came from the same device (manufacturer and
 * product) within a second of each other, or their recordings overlap for at least half of the shorter one (the
 * same run re-exported by another app, which renames the device or drops it). Identical bytes are caught before
 * this by the file's sha-256 and keep their own answer (200 with the stored run).
 * @module
 */
import type { RunMeta } from '../../ingest/sample.js';
import type { RunCandidate, Store } from '../store/types.js';

/** Starts further apart than this are different activities whatever else they share. */
export const SAME_START_TOLERANCE_MS = 60_000;
/** Same device: starts within this are the same recording. */
const SAME_DEVICE_START_MS = 1000;
/** Share of the shorter recording two runs must overlap by. */
const MIN_OVERLAP = 0.5;

export interface ActivityKey {
  startTime: string;
  /** Elapsed time of the recording, s. */
  elapsedS: number;
  manufacturer: string | null;
  product: string | null;
}

export function activityKey(meta: RunMeta): ActivityKey | null {
  if (!meta.startTime || !Number.isFinite(Date.parse(meta.startTime))) return null;
  return { startTime: meta.startTime, elapsedS: meta.elapsedS, manufacturer: meta.manufacturer, product: meta.product };
}

export function isSameActivity(stored: RunCandidate, key: ActivityKey): boolean {
  if (!stored.startTime) return false;
  const a0 = Date.parse(stored.startTime);
  const b0 = Date.parse(key.startTime);
  if (!Number.isFinite(a0) || Math.abs(a0 - b0) > SAME_START_TOLERANCE_MS) return false;
  const sameDevice =
    !!key.manufacturer &&
    stored.meta?.manufacturer === key.manufacturer &&
    (stored.meta?.product ?? null) === (key.product ?? null);
  if (sameDevice && Math.abs(a0 - b0) <= SAME_DEVICE_START_MS) return true;
  const storedS = stored.meta?.elapsedS ?? stored.durationS;
  // A live run still going has no length yet: starting together is all there is to compare.
  if (storedS === null || storedS === undefined || !Number.isFinite(storedS)) return stored.status === 'live';
  const a1 = a0 + storedS * 1000;
  const b1 = b0 + key.elapsedS * 1000;
  const shorter = Math.min(a1 - a0, b1 - b0);
  const overlap = Math.min(a1, b1) - Math.max(a0, b0);
  if (shorter <= 0) return overlap >= 0 && Math.abs(a0 - b0) <= SAME_DEVICE_START_MS;
  return overlap >= MIN_OVERLAP * shorter;
}

/**
 * The athlete's stored run this upload repeats (the first stored), or null. Replays (`replayOf`) are copies, not
 * recordings: they never make an upload a duplicate (with their original deleted, the file may come back).
 */
export async function findSameActivity(store: Store, athleteId: string, meta: RunMeta): Promise<RunCandidate | null> {
  const key = activityKey(meta);
  if (!key) return null;
  const candidates = await store.findRunsStartingNear(athleteId, key.startTime, SAME_START_TOLERANCE_MS);
  return candidates.find((c) => c.replayOf === null && isSameActivity(c, key)) ?? null;
}
