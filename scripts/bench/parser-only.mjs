// The yardstick of the cli bench: fit-file-parser's decode alone of one FIT file, in a fresh process (read the
// file, parse it in list mode with the units ingest/fit.ts asks for, CRC checked), printing nothing.
//   node scripts/bench/parser-only.mjs FILE.fit
import { readFileSync } from 'node:fs';
import FitParser from 'fit-file-parser';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node scripts/bench/parser-only.mjs FILE.fit\n');
  process.exit(2);
}
new FitParser({ force: false, mode: 'list', speedUnit: 'm/s', lengthUnit: 'm', temperatureUnit: 'celsius', elapsedRecordField: false }).parse(
  readFileSync(file),
  (err) => {
    if (err) {
      process.stderr.write(`parser-only: ${String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
