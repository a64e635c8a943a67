/**
 * Reading an activity XML file (GPX, TCX) safely with fast-xml-parser: the text decoded from its declared
 * encoding, the root element found without parsing, DOCTYPE entity declarations refused, entity processing off
 * (so nothing is ever expanded), nesting bounded, and a file cut short parsed up to its last complete element.
 * @module
 */
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import { IngestError } from './errors.js';

/** Deeper nesting is refused (XML_TOO_DEEP): a TCX trackpoint's values sit 9 levels down, a GPX one's 7. */
export const MAX_XML_DEPTH = 48;

/** The root elements read, by local name (any namespace prefix removed). */
export type ActivityXmlRoot = 'gpx' | 'TrainingCenterDatabase';

/** A parsed element: attributes as plain keys (strings), children by local name, text under `#text`. */
export type XmlNode = { readonly [key: string]: unknown };

/** The elements that may repeat, always given as arrays (so one element and many read the same). */
const ARRAYS = new Set(['trk', 'trkseg', 'trkpt', 'Activity', 'Lap', 'Track', 'Trackpoint']);

let parser: XMLParser | null = null;

/**
 * The parser, made on first use: a FIT file (most of what is read) never loads fast-xml-parser, which costs a
 * fresh `crampguard analyze` process ~35 ms of module loading. Its CommonJS build is one file and loads synchronously,
 * so the decoders stay synchronous.
 */
function xmlParser(): XMLParser {
  if (parser) return parser;
  const { XMLParser: Parser } = createRequire(import.meta.url)('fast-xml-parser') as typeof import('fast-xml-parser');
  parser = new Parser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    removeNSPrefix: true,
    parseTagValue: false, // values are read as numbers where they are numbers, by the caller
    parseAttributeValue: false,
    // Entities are never expanded: a DOCTYPE that declares any is refused first, and the predefined ones
    // (&amp; …) in the few strings read are decoded by `text()`.
    processEntities: false,
    htmlEntities: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    commentPropName: false,
    maxNestedTags: MAX_XML_DEPTH,
    jPath: false, // no path string built per element (measured: about half the parse time on a 3 MB TCX)
    isArray: (name) => ARRAYS.has(name),
  });
  return parser;
}

/** Text decoded per the byte-order mark or the XML declaration's encoding (UTF-8 when neither says). */
export function xmlText(bytes: Uint8Array): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder('utf-8').decode(bytes.subarray(3));
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (declared !== undefined && !/^utf-?8$/i.test(declared)) {
    try {
      return new TextDecoder(declared).decode(bytes);
    } catch {
      // An encoding TextDecoder does not know: read as UTF-8, which every real GPX/TCX writer uses.
    }
  }
  return new TextDecoder('utf-8').decode(bytes);
}

/** True when the bytes start (after a byte-order mark and white space) with `<`: XML, or nothing this reads. */
export function looksLikeXml(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  else if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    // UTF-16: '<' is one byte of a two-byte unit.
    const le = bytes[0] === 0xff;
    for (i = 2; i + 1 < bytes.length && i < 1024; i += 2) {
      const unit = le ? bytes[i]! | (bytes[i + 1]! << 8) : (bytes[i]! << 8) | bytes[i + 1]!;
      if (unit === 0x3c) return true;
      if (unit !== 0x20 && unit !== 0x09 && unit !== 0x0a && unit !== 0x0d) return false;
    }
    return false;
  }
  for (; i < bytes.length && i < 1024; i++) {
    const b = bytes[i]!;
    if (b === 0x3c) return true;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return false;
}

/**
 * The root element's local name, after the prolog (declaration, processing instructions, comments, DOCTYPE).
 * Refuses a DOCTYPE that declares entities (XML_ENTITIES) and text that has no element (XML_MALFORMED).
 */
export function xmlRoot(text: string): string {
  let i = 0;
  for (;;) {
    i = text.indexOf('<', i);
    if (i < 0) throw new IngestError('XML_MALFORMED', 'not well-formed XML: no root element');
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end < 0) throw new IngestError('XML_MALFORMED', 'not well-formed XML: unclosed <? … ?>');
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) throw new IngestError('XML_MALFORMED', 'not well-formed XML: unclosed comment');
      i = end + 3;
    } else if (text.startsWith('<!', i)) {
      // DOCTYPE, possibly with an internal subset in [ … ].
      const open = text.indexOf('[', i);
      const close = text.indexOf('>', i);
      let end = close;
      if (open >= 0 && (close < 0 || open < close)) {
        const subsetEnd = text.indexOf(']', open);
        if (subsetEnd < 0) throw new IngestError('XML_MALFORMED', 'not well-formed XML: unclosed DOCTYPE');
        if (/<!ENTITY/i.test(text.slice(open, subsetEnd))) {
          throw new IngestError('XML_ENTITIES', 'XML entity declarations are not accepted (no GPX or TCX file needs them)');
        }
        end = text.indexOf('>', subsetEnd);
      }
      if (end < 0) throw new IngestError('XML_MALFORMED', 'not well-formed XML: unclosed DOCTYPE');
      i = end + 1;
    } else {
      const name = /^<([A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?)/.exec(text.slice(i, i + 256))?.[1];
      if (name === undefined) throw new IngestError('XML_MALFORMED', 'not well-formed XML: bad root element');
      const colon = name.indexOf(':');
      return colon < 0 ? name : name.slice(colon + 1);
    }
  }
}

function parseOnce(text: string): XmlNode {
  try {
    return xmlParser().parse(text) as XmlNode;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/nested tags/i.test(message)) {
      throw new IngestError('XML_TOO_DEEP', `XML nested deeper than ${MAX_XML_DEPTH} elements`, { cause: err });
    }
    throw new IngestError('XML_MALFORMED', `not well-formed XML: ${message.split('\n')[0]}`, { cause: err });
  }
}

export interface ParsedXml {
  root: XmlNode;
  /** The document does not end with its root's closing tag (a file cut short): parsed up to where it ends. */
  truncated: boolean;
}

/** Offset just past the last closing tag of `element` (any prefix), or -1. Searches back from the end in windows. */
function endOfLast(text: string, element: string): number {
  const closing = new RegExp(`</(?:[A-Za-z_][\\w.-]*:)?${element}\\s*>`, 'g');
  for (let from = Math.max(0, text.length - 65_536); ; from = Math.max(0, from - 65_536)) {
    let end = -1;
    closing.lastIndex = from;
    for (let m = closing.exec(text); m !== null; m = closing.exec(text)) end = m.index + m[0].length;
    if (end >= 0 || from === 0) return end;
  }
}

/**
 * Parses a GPX or TCX document whose root `rootName` was found by {@link xmlRoot}. A document cut short (no
 * closing root tag at its end) is parsed up to its last complete `lastElement`, so that a point cut in half
 * is not read as a point without its values.
 */
export function parseActivityXml(text: string, rootName: string, lastElement: string): ParsedXml {
  const tail = text.slice(-512).trimEnd();
  const truncated = !new RegExp(`</(?:[A-Za-z_][\\w.-]*:)?${rootName}\\s*>$`).test(tail);
  let body = text;
  if (truncated) {
    const end = endOfLast(text, lastElement);
    if (end >= 0) body = text.slice(0, end);
    else {
      // Not one complete point: parse what comes before the first (the caller then finds no points).
      const first = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${lastElement}[\\s/>]`).exec(text);
      if (first !== null) body = text.slice(0, first.index);
    }
  }
  const doc = parseOnce(body);
  const root = doc[rootName];
  if (root === undefined) throw new IngestError('XML_MALFORMED', `not well-formed XML: no <${rootName}> element`);
  return { root: typeof root === 'object' && root !== null ? (root as XmlNode) : {}, truncated };
}

/** A child element or attribute as a node ({} when absent or text-only). */
export function child(node: unknown, name: string): XmlNode {
  if (typeof node !== 'object' || node === null) return {};
  const v = (node as XmlNode)[name];
  if (Array.isArray(v)) return typeof v[0] === 'object' && v[0] !== null ? (v[0] as XmlNode) : {};
  return typeof v === 'object' && v !== null ? (v as XmlNode) : {};
}

/** A repeated child element as an array of nodes. */
export function children(node: unknown, name: string): XmlNode[] {
  if (typeof node !== 'object' || node === null) return [];
  const v = (node as XmlNode)[name];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (typeof x === 'object' && x !== null ? (x as XmlNode) : {}));
}

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** A text value (element text or attribute), predefined and numeric character references decoded; null when absent. */
export function text(node: unknown, name: string): string | null {
  if (typeof node !== 'object' || node === null) return null;
  let v = (node as XmlNode)[name];
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'object' && v !== null) v = (v as XmlNode)['#text'];
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const s = String(v).trim();
  if (s === '') return null;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, (_, ref: string) => {
    if (ref[0] !== '#') return PREDEFINED[ref]!;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/** A numeric value, NaN when absent or not a finite number. */
export function number(node: unknown, name: string): number {
  if (typeof node !== 'object' || node === null) return NaN;
  let v = (node as XmlNode)[name];
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'object' && v !== null) v = (v as XmlNode)['#text'];
  if (typeof v !== 'string' || v === '') return NaN;
  const x = Number(v);
  return Number.isFinite(x) ? x : NaN;
}

/** Epoch ms of an xsd:dateTime value; NaN when absent or unparseable. A time without a zone is read as UTC. */
export function timeValue(s: string | null): number {
  if (s === null) return NaN;
  const zoned = /(?:Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned);
  return Number.isFinite(ms) ? ms : NaN;
}
