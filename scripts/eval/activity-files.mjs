// The activity files (FIT, GPX, TCX, gzipped or not) under some folders, walked in name order and deduplicated by
// content (fixtures/fit holds copies of ../shared/fit): what both evaluations walk.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';

const ACTIVITY = /\.(fit|gpx|tcx)(\.gz)?$/i;

/**
 * `sources`: [[dir, keyOf(path), label]]; a folder that is not there is skipped with a note. Returns [{key, path}],
 * the first copy of each content only.
 */
export function uniqueActivityFiles(sources, notes = []) {
  const walk = (dir, out) => {
    for (const e of readdirSync(dir).sort()) {
      const p = `${dir}/${e}`;
      if (statSync(p).isDirectory()) walk(p, out);
      else if (ACTIVITY.test(e)) out.push(p);
    }
  };
  const seen = new Set();
  const found = [];
  for (const [dir, keyOf, label] of sources) {
    if (!existsSync(dir)) {
      notes.push(`skipped ${label}: ${dir} is not present`);
      continue;
    }
    const files = [];
    walk(dir, files);
    for (const path of files) {
      const hash = createHash('sha1').update(readFileSync(path)).digest('hex');
      if (seen.has(hash)) continue;
      seen.add(hash);
      found.push({ key: keyOf(path), path });
    }
  }
  return found;
}
