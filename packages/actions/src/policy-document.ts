import { isObject } from '@riposte/core';

/**
 * IAM and resource policy documents as the actions read them back: decoded, parsed, compared, and
 * recognised as the revocation policies Riposte writes. Every value comes from AWS or from history,
 * so nothing here throws: what does not parse is `undefined` or `false`.
 */

/** A policy document as IAM returns it (URL-encoded, RFC 3986), decoded; as given when it is not encoded. */
export const decoded = (encodedDocument: string): string => {
  try {
    return decodeURIComponent(encodedDocument);
  } catch {
    return encodedDocument;
  }
};

/** A policy document's statements, or `undefined` when it is not a JSON policy document. */
export const parsedStatements = (document: string): Record<string, unknown>[] | undefined => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  if (!isObject(parsed)) return undefined;
  const { Statement: statement } = parsed as { Statement?: unknown };
  const statements = Array.isArray(statement) ? statement : [statement];
  return statements.length > 0 && statements.every(isObject)
    ? (statements as Record<string, unknown>[])
    : undefined;
};

export const isStar = (value: unknown): boolean =>
  value === '*' || (Array.isArray(value) && value.length === 1 && value[0] === '*');

/**
 * Whether a document has the shape of the revocation policies Riposte writes: only statements that
 * deny every action on every resource to sessions issued before a moment.
 */
export const isRevocationDocument = (document: string): boolean =>
  parsedStatements(document)?.every((statement) => {
    const condition = statement.Condition as { DateLessThan?: Record<string, unknown> } | undefined;
    const issuedBefore = condition?.DateLessThan?.['aws:TokenIssueTime'];
    return (
      statement.Effect === 'Deny' &&
      isStar(statement.Action) &&
      isStar(statement.Resource) &&
      typeof issuedBefore === 'string' &&
      !Number.isNaN(Date.parse(issuedBefore))
    );
  }) === true;

/** Whether every statement of a document denies: putting it back can take permissions away, never grant any. */
export const deniesOnly = (document: string): boolean =>
  parsedStatements(document)?.every((statement) => statement.Effect === 'Deny') === true;

/** JSON with its object keys sorted, so two spellings of one value compare (and record) equal. */
export const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, member: unknown) =>
    isObject(member)
      ? Object.fromEntries(
          Object.keys(member)
            .sort()
            .map((key) => [key, member[key]]),
        )
      : member,
  );

/** Whether two JSON documents say the same, whatever their spacing and key order. */
export const sameDocument = (a: string, b: string): boolean => {
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return false;
  }
};
