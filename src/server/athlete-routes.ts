/**
 * The athlete model's API: the learned model with where each profile value comes from, and re-analysis jobs.
 * @module
 */
import type { Router } from 'express';
import { profileSources } from '../athlete/profile-merge.js';
import type { Store } from '../store/types.js';
import { athleteOf, requireAthlete } from './auth.js';
import type { AthleteService } from './athlete.js';
import { notFound } from './errors.js';
import type { Reanalyzer } from './reanalyze.js';

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
