// Bytes allocated per message by package or source folder, and by function, from a profile alloc-sample.mjs wrote.
// `--messages N`: the messages the server handled while it sampled (watches × seconds at 1 Hz).
import { readFileSync } from 'node:fs';
import { arg } from './lib.mjs';

const file = process.argv[2];
const messages = Number(arg('messages', '1'));
const top = Number(arg('top', '30'));
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** node_modules' package, node's own module folder, or the built project's folder (dist/src/live, …). */
function area(url, name) {
  const pkg = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  const own = url.match(/dist\/((src|alerts|ingest)(\/[^/]+)?)/);
  return own ? own[1] : url || name;
}

const byArea = new Map();
const byFunction = new Map();
let total = 0;
let decoded = 0;
(function walk(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === 'decodeString' && url.includes('socket.io-parser')) decoded += node.selfSize;
  const fn = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
  byArea.set(area(url, functionName), (byArea.get(area(url, functionName)) ?? 0) + node.selfSize);
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const child of node.children) walk(child);
})(profile.head);

const perMessage = (bytes) => `${(bytes / messages).toFixed(0).padStart(7)} B`;
console.log(`${(total / 1e6).toFixed(1)} MB sampled, ${perMessage(total)} per message over ${messages} messages`);
// A check on --messages: socket.io-parser's decodeString allocates ~616 B per one-sample message, product and bare alike.
console.log(`socket.io-parser's decodeString: ${(decoded / 616).toFixed(0)} one-sample messages' worth`);
for (const [name, bytes] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${perMessage(bytes)}  ${name}`);
console.log('by function:');
for (const [name, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${perMessage(bytes)}  ${name}`);
