/**
 * Which activities the engine analyses: running only — road, trail, track, treadmill, indoor and virtual runs,
 * and the running legs of a multisport file. Walking and hiking are not analysed: the fatigue detectors (running
 * cadence, decoupling at running pace) and the sweat model's running equation are calibrated for running, and a
 * walk's HR and cadence would read as fatigue or as nothing. Every source's sport name goes through this one rule:
 * FIT `sport` (and `sub_sport`), GPX `<type>`, TCX `Sport`, a live start's `sport`.
 * @module
 */

const RUNNING = new Set([
  'running',
  'run',
  'trail_running',
  'trail_run',
  'trailrun',
  'street_running',
  'track_running',
  'treadmill_running',
  'treadmill',
  'indoor_running',
  'virtual_run',
  'virtualrun',
  'ultra_run',
  'obstacle_run',
  // Strava's numeric activity type for a run in its GPX exports.
  '9',
]);

function key(sport: string): string {
  return sport.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

/** True when `sport` names a run. `null`/empty (a source that never says) counts as a run, stated as a warning by ingest. */
export function isRunningSport(sport: string | null | undefined): boolean {
  if (sport === null || sport === undefined || sport.trim() === '') return true;
  return RUNNING.has(key(sport));
}

/** A readable name of a sport for "not analysed: …" ("cycling", "open water swimming"). */
export function sportLabel(sport: string | null | undefined): string {
  return sport ? key(sport).replace(/_/g, ' ') : 'unknown sport';
}
