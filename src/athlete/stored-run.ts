/**
 * A stored run as a {@link NormalizedRun} again, from what the store keeps (meta, sample columns, events), for
 * re-analysis and for the context of a cramp logged afterwards. An upload keeps its decoded meta; a live run
 * (or a row without meta) gets the one its end built (`liveRunToNormalized`, the same rule as at the end).
 * @module
 */
import { CHANNELS, type NormalizedRun, type RunEvent, type RunMeta, type SampleColumns } from '../../ingest/sample.js';
import { liveRunToNormalized } from '../live/finished-run.js';

export function storedRunToNormalized(
  record: { meta: RunMeta | null; startTime: string | null },
  cols: SampleColumns,
  events: RunEvent[],
): NormalizedRun {
  if (!record.meta) return liveRunToNormalized(cols, events, record.startTime, null);
  const channels = CHANNELS.filter((c) => {
    const col = cols[c];
    for (let i = 0; i < cols.length; i++) if (!Number.isNaN(col[i]!)) return true;
    return false;
  });
  return { meta: record.meta, samples: cols, rr: null, events, channels, warnings: [] };
}
