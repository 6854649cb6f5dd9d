/**
 * Decoding of Query-protocol request bodies (EC2, IAM, STS, SNS) into the nested shape the SDK
 * serialised: `Filter.1.Value.2` becomes `Filter[0].Value[1]`, the awsQuery list marker `member` is
 * dropped (`Tags.member.1.Key` becomes `Tags[0].Key`) and `entry` maps become objects keyed by `Name`
 * (`MessageAttributes.entry.1.Name=a` becomes `MessageAttributes.a`).
 */
export type QueryValue = string | QueryValue[] | QueryParams;
export interface QueryParams {
  [name: string]: QueryValue;
}

interface Tree {
  [segment: string]: Tree | string;
}

const isIndex = (segment: string): boolean => /^[1-9][0-9]*$/.test(segment);

const normalize = (node: Tree | string): QueryValue => {
  if (typeof node === 'string') return node;
  const keys = Object.keys(node);
  const only = keys.length === 1 ? node[keys[0] as string] : undefined;
  if (keys[0] === 'member' && only !== undefined) return normalize(only);
  if (keys[0] === 'entry' && only !== undefined) {
    const entries = normalize(only);
    const pairs = Array.isArray(entries) ? entries : [];
    return Object.fromEntries(
      pairs.flatMap((pair) =>
        typeof pair === 'object' && !Array.isArray(pair) && typeof pair.Name === 'string'
          ? [[pair.Name, pair.Value ?? '']]
          : [],
      ),
    );
  }
  if (keys.length > 0 && keys.every(isIndex)) {
    return keys
      .sort((left, right) => Number(left) - Number(right))
      .map((key) => normalize(node[key] as Tree | string));
  }
  return Object.fromEntries(keys.map((key) => [key, normalize(node[key] as Tree | string)]));
};

export interface QueryRequest {
  action: string | undefined;
  version: string | undefined;
  params: QueryParams;
}

export const decodeQuery = (body: string): QueryRequest => {
  const form = new URLSearchParams(body);
  const tree: Tree = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    const segments = key.split('.');
    let node: Tree = tree;
    segments.forEach((segment, index) => {
      if (index === segments.length - 1) {
        node[segment] = value;
        return;
      }
      const next = node[segment];
      if (typeof next === 'object') {
        node = next;
      } else {
        const created: Tree = {};
        node[segment] = created;
        node = created;
      }
    });
  }
  const params = normalize(tree);
  return {
    action: form.get('Action') ?? undefined,
    version: form.get('Version') ?? undefined,
    params: typeof params === 'object' && !Array.isArray(params) ? params : {},
  };
};

export const stringParam = (params: QueryParams, name: string): string | undefined => {
  const value = params[name];
  return typeof value === 'string' ? value : undefined;
};

export const objectParam = (params: QueryParams, name: string): QueryParams | undefined => {
  const value = params[name];
  return typeof value === 'object' && !Array.isArray(value) ? value : undefined;
};

/** A list parameter; a list sent with a single member still decodes to an array. */
export const listParam = (params: QueryParams, name: string): QueryValue[] => {
  const value = params[name];
  return Array.isArray(value) ? value : [];
};

export const stringListParam = (params: QueryParams, name: string): string[] =>
  listParam(params, name).filter((value): value is string => typeof value === 'string');

export const objectListParam = (params: QueryParams, name: string): QueryParams[] =>
  listParam(params, name).filter(
    (value): value is QueryParams => typeof value === 'object' && !Array.isArray(value),
  );

export interface TagParam {
  key: string;
  value: string;
}

/** Tag lists as both EC2 (`Tag.N.Key`) and IAM (`Tags.member.N.Key`) send them. */
export const tagsParam = (params: QueryParams, name: string): TagParam[] =>
  objectListParam(params, name).map((tag) => ({
    key: stringParam(tag, 'Key') ?? '',
    value: stringParam(tag, 'Value') ?? '',
  }));
