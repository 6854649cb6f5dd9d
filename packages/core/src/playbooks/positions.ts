import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { ConfigurationIssue, SourceLocation } from '../errors.js';
import type { SchemaProblem } from '../schema-problems.js';

/** One parsed YAML document and what it takes to turn a JSON pointer into a file position. */
export interface SourceDocument {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

const escapePointerSegment = (segment: string | number): string =>
  String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

export const childPointer = (pointer: string, segment: string | number): string =>
  `${pointer}/${escapePointerSegment(segment)}`;

const pointerSegments = (pointer: string): string[] =>
  pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));

interface Located {
  /** The deepest node the pointer reaches (the pointer may name a key the YAML does not have). */
  node: Node | undefined;
  /** The key node when the pointer's last segment is a mapping key that exists. */
  key: Node | undefined;
}

const isEmptyScalar = (node: Node): boolean =>
  isScalar(node) && node.value === null && !!node.range && node.range[0] === node.range[1];

const walk = (source: SourceDocument, pointer: string): Located => {
  let node: Node | undefined = source.doc.contents ?? undefined;
  let key: Node | undefined;
  for (const segment of pointerSegments(pointer)) {
    // Aliases stand for the anchored node: positions inside them are the anchor's.
    const current: Node | undefined = isAlias(node) ? (node.resolve(source.doc) ?? undefined) : node;
    key = undefined;
    if (isMap(current)) {
      const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
      if (!pair) break;
      key = isNode(pair.key) ? pair.key : undefined;
      // `key:` with nothing after it: the key is where the reader looks, not the empty spot after it.
      node = isNode(pair.value) && !isEmptyScalar(pair.value) ? pair.value : key;
    } else if (isSeq(current)) {
      const item = current.items[Number(segment)];
      if (!isNode(item)) break;
      node = item;
    } else {
      break;
    }
  }
  return { node, key };
};

const positionOf = (source: SourceDocument, node: Node | undefined): { line: number; column: number } => {
  const offset = node?.range?.[0] ?? source.doc.range[0];
  const { line, col } = source.lineCounter.linePos(offset);
  return { line, column: col };
};

/** Where the node at `pointer` starts, or the nearest ancestor that exists. */
export const locate = (source: SourceDocument, pointer: string): SourceLocation => ({
  file: source.file,
  pointer,
  ...positionOf(source, walk(source, pointer).node),
});

/** An issue at the node `pointer` names (the nearest existing ancestor when it is absent). */
export const issueAt = (source: SourceDocument, pointer: string, message: string): ConfigurationIssue => ({
  ...locate(source, pointer),
  message,
});

/** An issue about `key` of the mapping at `pointer`, positioned at the key itself (e.g. an unknown key). */
export const issueAtKey = (
  source: SourceDocument,
  pointer: string,
  key: string,
  message: string,
): ConfigurationIssue => {
  const located = walk(source, childPointer(pointer, key));
  return { file: source.file, pointer, message, ...positionOf(source, located.key ?? located.node) };
};

/**
 * A schema problem at its YAML node: a key that is there but should not be, at the key itself; a
 * missing key, at the mapping that lacks it; anything else, at the value.
 */
export const positioned =
  (source: SourceDocument) =>
  (problem: SchemaProblem): ConfigurationIssue =>
    problem.key !== undefined && problem.error.keyword !== 'required'
      ? issueAtKey(source, problem.pointer, problem.key, problem.message)
      : issueAt(source, problem.pointer, problem.message);
