/**
 * The athlete model's API: the learned model with where each profile value comes from, and re-analysis jobs.
 * @module
 */
import type { Router } from 'express';
import type { LearnableField, Profile } from '../../alerts/types.js';
import type { Store } from '../store/types.js';
import { athleteOf, requireAthlete } from './auth.js';
import type { AthleteService } from './athlete.js';
import { notFound } from './errors.js';
import type { Reanalyzer } from './reanalyze.js';

export type ValueSource = { source: 'typed' } | { source: 'learned'; note: string } | { source: 'assumed' };

const SOURCED: readonly (keyof Profile)[] = [
  'massKg', 'hrMax', 'hrRest', 'lthr', 'age', 'usualLongRunMin', 'easyPaceMps', 'thresholdPaceMps', 'criticalSpeedMps', 'sweatRateMlPerH', 'sweatSodiumMmolPerL',
];

/** Where each profile value the engine gets comes from: typed by the runner, learned from their runs, or assumed. */
export function profileSources(typed: Profile, merged: Profile): Record<string, ValueSource> {
  const out: Record<string, ValueSource> = {};
  for (const field of SOURCED) {
    const note = merged.learned?.[field as LearnableField];
    if (typeof typed[field] === 'number') out[field] = { source: 'typed' };
    else if (note) out[field] = { source: 'learned', note };
    else out[field] = { source: 'assumed' };
  }
  return out;
}

export function registerAthleteRoutes(router: Router, deps: { store: Store; athletes: AthleteService; reanalyzer: Reanalyzer }): void {
  const auth = requireAthlete(deps.store);

  router.get('/athletes/me/model', auth, async (_req, res) => {
    const me = athleteOf(res);
    const [{ options }, model] = await Promise.all([deps.athletes.engineOptions(me.id, me.profile), deps.athletes.trainingModel(me.id)]);
    res.json({ model, profile: options.profile, sources: profileSources(me.profile, options.profile ?? {}) });
  });

  router.post('/reanalyze', auth, (_req, res) => {
    const job = deps.reanalyzer.start(athleteOf(res).id);
    res.status(202).location(`/api/reanalyze/${job.id}`).json(job);
  });

  router.get('/reanalyze/:id', auth, (req, res) => {
    const job = deps.reanalyzer.get(athleteOf(res).id, String(req.params.id));
    if (!job) throw notFound('re-analysis job');
    res.json(job);
  });
}
