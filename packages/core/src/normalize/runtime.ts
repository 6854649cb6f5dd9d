/**
 * Runtime Monitoring's view of a finding (`service.runtimeDetails`): the process it is about, with its
 * lineage, and the context around the event (the process that modified a file, the socket, the
 * kernel module, ...). Field names are those of the GuardDuty API (`ProcessDetails`, `LineageObject`,
 * `RuntimeContext`); fields it does not document stay in `raw`.
 */
import type { RuntimeAncestor, RuntimeContext, RuntimeContextProcess, RuntimeProcess } from '../finding.js';
import {
  boundedArray,
  type JsonObject,
  type Located,
  objectsOf,
  optionalArray,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalTimestamp,
  stringsOf,
} from './read.js';

/** Process and user ids are unsigned 32-bit numbers on Linux. */
const MAX_ID = 4_294_967_295;

/** GuardDuty reports a process's lineage up to the first ancestor; a few hundred is already absurd. */
const MAX_LINEAGE = 500;

/** Drops unset fields; undefined when none is left. */
export const compact = <T extends object>(value: T): T | undefined => {
  let empty = true;
  for (const key of Object.keys(value) as (keyof T)[]) {
    if (value[key] === undefined) delete value[key];
    else empty = false;
  }
  return empty ? undefined : value;
};

const ancestorOf = ({ value, path }: Located<JsonObject>): RuntimeAncestor => ({
  name: optionalString(value, path, 'name'),
  executablePath: optionalString(value, path, 'executablePath'),
  pid: optionalInteger(value, path, 'pid', 0, MAX_ID),
  namespacePid: optionalInteger(value, path, 'namespacePid', 0, MAX_ID),
  userId: optionalInteger(value, path, 'userId', 0, MAX_ID),
  euid: optionalInteger(value, path, 'euid', 0, MAX_ID),
  startTime: optionalTimestamp(value, path, 'startTime'),
  uuid: optionalString(value, path, 'uuid'),
  parentUuid: optionalString(value, path, 'parentUuid'),
});

const processFields = (process: Located<JsonObject>): Omit<RuntimeProcess, 'lineage'> => {
  const { value, path } = process;
  return {
    ...ancestorOf(process),
    executableSha256: optionalString(value, path, 'executableSha256'),
    user: optionalString(value, path, 'user'),
    pwd: optionalString(value, path, 'pwd'),
  };
};

const lineageOf = ({ value, path }: Located<JsonObject>): RuntimeAncestor[] =>
  objectsOf(boundedArray(value, path, 'lineage', MAX_LINEAGE)).map(
    (ancestor) => compact(ancestorOf(ancestor)) ?? {},
  );

/** `runtimeDetails.process`: the process, and its lineage (nearest ancestor first, as GuardDuty lists it). */
export const runtimeProcessOf = (process: Located<JsonObject>): RuntimeProcess => {
  const fields = processFields(process);
  compact(fields);
  return { ...fields, lineage: lineageOf(process) };
};

const contextProcessOf = (process: Located<JsonObject> | undefined): RuntimeContextProcess | undefined => {
  if (!process) return undefined;
  const fields: RuntimeContextProcess = processFields(process);
  const lineage = lineageOf(process);
  if (lineage.length > 0) fields.lineage = lineage;
  return compact(fields);
};

const optionalStrings = (obj: JsonObject, path: string, key: string): string[] | undefined => {
  const list = optionalArray(obj, path, key);
  return list && stringsOf(list);
};

/** `runtimeDetails.context`: what Runtime Monitoring saw around the event, undefined when it names nothing. */
export const runtimeContextOf = ({ value, path }: Located<JsonObject>): RuntimeContext | undefined => {
  const text = (key: string) => optionalString(value, path, key);
  return compact<RuntimeContext>({
    modifyingProcess: contextProcessOf(optionalObject(value, path, 'modifyingProcess')),
    targetProcess: contextProcessOf(optionalObject(value, path, 'targetProcess')),
    modifiedAt: optionalTimestamp(value, path, 'modifiedAt'),
    scriptPath: text('scriptPath'),
    libraryPath: text('libraryPath'),
    ldPreloadValue: text('ldPreloadValue'),
    socketPath: text('socketPath'),
    runcBinaryPath: text('runcBinaryPath'),
    releaseAgentPath: text('releaseAgentPath'),
    mountSource: text('mountSource'),
    mountTarget: text('mountTarget'),
    fileSystemType: text('fileSystemType'),
    flags: optionalStrings(value, path, 'flags'),
    moduleName: text('moduleName'),
    moduleFilePath: text('moduleFilePath'),
    moduleSha256: text('moduleSha256'),
    shellHistoryFilePath: text('shellHistoryFilePath'),
    addressFamily: text('addressFamily'),
    ianaProtocolNumber: optionalInteger(value, path, 'ianaProtocolNumber', 0, 255),
    memoryRegions: optionalStrings(value, path, 'memoryRegions'),
    toolName: text('toolName'),
    toolCategory: text('toolCategory'),
    serviceName: text('serviceName'),
    commandLineExample: text('commandLineExample'),
    threatFilePath: text('threatFilePath'),
    fileOperation: text('fileOperation'),
    filePath: text('filePath'),
    relatedFilePaths: optionalStrings(value, path, 'relatedFilePaths'),
  });
};

export interface RuntimeView {
  process?: RuntimeProcess;
  runtimeContext?: RuntimeContext;
}

/** `service.runtimeDetails` (or Security Hub's flattened copy of it): its process and context. */
export const runtimeDetailsOf = (details: Located<JsonObject> | undefined): RuntimeView => {
  if (!details) return {};
  const process = optionalObject(details.value, details.path, 'process');
  const context = optionalObject(details.value, details.path, 'context');
  return (
    compact<RuntimeView>({
      process: process && runtimeProcessOf(process),
      runtimeContext: context && runtimeContextOf(context),
    }) ?? {}
  );
};
