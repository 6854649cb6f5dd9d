import { AwsFault } from './errors.js';

/**
 * A value the renderer turns into XML: objects become child elements in key order, arrays become a
 * wrapped list (one `itemName` element per entry), `undefined`/`null` members are left out, dates are
 * written as ISO 8601 as every XML-speaking AWS API does.
 */
export type XmlValue = string | number | boolean | Date | undefined | null | XmlValue[] | XmlObject;
export interface XmlObject {
  [name: string]: XmlValue;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export const escapeXml = (text: string): string => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

export const renderXml = (name: string, value: XmlValue, itemName: string): string => {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    const items = value.map((item) => renderXml(itemName, item, itemName)).join('');
    return items === '' ? `<${name}/>` : `<${name}>${items}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const children = Object.entries(value)
      .map(([child, childValue]) => renderXml(child, childValue, itemName))
      .join('');
    return `<${name}>${children}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
};

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** A parsed element: its local name (namespace prefix dropped), child elements and direct text. */
export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity] ?? '';
  });

export const malformedXml = (): AwsFault =>
  new AwsFault(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

/**
 * Parses the small request documents S3 receives (PublicAccessBlockConfiguration, Tagging). Attributes
 * are ignored; anything that is not a single well-nested root element is refused as S3 refuses it.
 */
export const parseXml = (source: string): XmlElement => {
  const body = source.replace(/<\?xml[^>]*\?>/, '').replace(/<!--[\s\S]*?-->/g, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const token = /<(\/?)([A-Za-z_][\w:.-]*)[^>]*?(\/?)>|([^<]+)/g;
  for (let match = token.exec(body); match !== null; match = token.exec(body)) {
    const [, closing, qualifiedName, selfClosing, text] = match;
    if (text !== undefined) {
      const parent = stack.at(-1);
      if (parent === undefined) {
        if (text.trim() !== '') throw malformedXml();
      } else {
        parent.text += decodeEntities(text);
      }
      continue;
    }
    const name = (qualifiedName ?? '').split(':').pop() ?? '';
    if (closing) {
      if (stack.pop()?.name !== name) throw malformedXml();
      continue;
    }
    const element: XmlElement = { name, children: [], text: '' };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else if (root === undefined) root = element;
    else throw malformedXml();
    if (!selfClosing) stack.push(element);
  }
  if (root === undefined || stack.length > 0) throw malformedXml();
  return root;
};

export const childText = (element: XmlElement, name: string): string | undefined =>
  element.children.find((child) => child.name === name)?.text.trim();
