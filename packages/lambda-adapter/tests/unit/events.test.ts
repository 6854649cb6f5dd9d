import { readFileSync } from 'node:fs';
import { normalize } from '@riposte/core';
import { describe, expect, it } from 'vitest';
import { classifyInvocation, type FindingInput, findingUnits } from '../../src/index.js';
import { readEvent } from '../helpers/harness.js';

/** An input fixture of core's splitter tests (provenance in its SOURCES.md). */
const coreInput = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../../core/tests/fixtures/input/${name}`, import.meta.url), 'utf8'));

/** Security Hub's GetFindings response: `{ ResponseMetadata, Findings: [five GuardDuty ASFF findings] }`. */
const getFindingsResponse = () =>
  coreInput('cloud-custodian-securityhub-getfindings.json').data as { Findings: Record<string, unknown>[] };

/** `{ actionName, actionDescription, findings: [one GuardDuty ASFF finding] }`. */
const securityHubDetail = () =>
  readEvent('securityhub-custom-action-consolelogin.json').detail as Record<string, unknown>;

const withoutSource = ({ source: _source, ...event }: Record<string, unknown>) => event;

describe('findingUnits', () => {
  it('takes a GuardDuty Finding event whole', () => {
    const event = readEvent('scenario-instance-credential-exfiltration.json');

    expect(findingUnits(event)).toEqual([{ kind: 'finding', input: event }]);
  });

  it('splits a Security Hub event into its GuardDuty findings', () => {
    const event = readEvent('securityhub-custom-action-consolelogin.json');
    const [asff] = (event.detail as { findings: unknown[] }).findings;

    expect(findingUnits(event)).toEqual([{ kind: 'finding', input: asff }]);
  });

  it('rejects a Security Hub finding that calls itself GuardDuty under another product ARN', () => {
    const event = readEvent('securityhub-custom-action-consolelogin.json');
    const [asff] = (event.detail as { findings: Record<string, unknown>[] }).findings;
    const impostor = {
      ...asff,
      ProductArn: 'arn:aws:securityhub:us-east-1:444455556666:product/444455556666/default',
      ProductName: 'GuardDuty',
      ProductFields: { ...(asff!.ProductFields as object), 'aws/securityhub/ProductName': 'GuardDuty' },
    };

    const units = findingUnits({ ...event, detail: { findings: [impostor] } });

    expect(units).toEqual([expect.objectContaining({ kind: 'rejected', code: 'FINDING_UNSUPPORTED' })]);
  });

  it('takes a bare GuardDuty finding and a bare ASFF finding', () => {
    const bare = readEvent('finding-policy-rootcredentialusage.json');
    const asff = readEvent('asff-recon-iamuser-resourcepermissions.json');

    expect(findingUnits(bare)).toEqual([{ kind: 'finding', input: bare }]);
    expect(findingUnits(asff)).toEqual([{ kind: 'finding', input: asff }]);
  });

  it.each([
    ['null', null, 'got null'],
    ['a number', 42, 'got number'],
    [
      'an object without an envelope',
      { hello: 'world' },
      'neither an EventBridge event nor a GuardDuty finding',
    ],
    [
      'a Security Hub event without findings',
      { source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported', detail: {} },
      'without detail.findings',
    ],
    [
      'an EC2 state-change event',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
      '"aws.ec2" "EC2 Instance State-change Notification" events are not handled',
    ],
  ])('rejects %s with EVENT_UNSUPPORTED', (_, event, message) => {
    expect(findingUnits(event)).toEqual([
      { kind: 'rejected', code: 'EVENT_UNSUPPORTED', message: expect.stringContaining(message) },
    ]);
  });

  it('rejects each element of a list that is not a finding, naming it', () => {
    expect(findingUnits([1, [2]])).toEqual([
      {
        kind: 'rejected',
        code: 'EVENT_UNSUPPORTED',
        message: '/0: expected an EventBridge event or a GuardDuty finding, got number',
      },
      {
        kind: 'rejected',
        code: 'EVENT_UNSUPPORTED',
        message: expect.stringContaining(
          '/1: expected an EventBridge event or a GuardDuty finding, got an array',
        ),
      },
    ]);
  });

  it('answers an input that holds no finding with one rejection', () => {
    const event = readEvent('securityhub-custom-action-consolelogin.json');

    expect(findingUnits([])).toEqual([
      expect.objectContaining({ kind: 'rejected', code: 'EVENT_UNSUPPORTED' }),
    ]);
    expect(findingUnits({ ...event, detail: { findings: [] } })).toEqual([
      expect.objectContaining({ kind: 'rejected', code: 'EVENT_UNSUPPORTED' }),
    ]);
  });

  it('rejects a bare ASFF finding of another product as FINDING_UNSUPPORTED, as inside an event', () => {
    const asff = readEvent('asff-recon-iamuser-resourcepermissions.json');
    const inspector = { ...asff, ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector' };

    expect(findingUnits(inspector)).toEqual([
      {
        kind: 'rejected',
        code: 'FINDING_UNSUPPORTED',
        message: expect.stringContaining('"arn:aws:securityhub:us-east-1::product/aws/inspector"'),
      },
    ]);
  });

  it('rejects a GuardDuty event without detail as FINDING_INVALID, with the pointer', () => {
    const event = readEvent('scenario-instance-credential-exfiltration.json');

    expect(findingUnits({ ...event, detail: 'x' })).toEqual([
      { kind: 'rejected', code: 'FINDING_INVALID', message: '/detail: expected an object, got string "x"' },
    ]);
  });
});

describe('findingUnits and core normalize read the same findings', () => {
  it('takes each finding of a Security Hub GetFindings response (it answered EVENT_UNSUPPORTED before)', () => {
    // Arrange: { ResponseMetadata, Findings: [five GuardDuty ASFF findings] }, which normalize reads
    const response = getFindingsResponse();

    // Act
    const units = findingUnits(response);

    // Assert
    expect(units).toEqual(response.Findings.map((input) => ({ kind: 'finding', input })));
    expect(units.flatMap((unit) => (unit.kind === 'finding' ? normalize(unit.input) : []))).toEqual(
      normalize(response),
    );
  });

  it.each([
    ["the detail of a Security Hub event (an input transformer's $.detail)", () => securityHubDetail()],
    [
      'a Security Hub event without a source',
      () => withoutSource(readEvent('securityhub-custom-action-consolelogin.json')),
    ],
    [
      'a GuardDuty event without a source',
      () => withoutSource(readEvent('scenario-instance-credential-exfiltration.json')),
    ],
    ["a finding in the SDK's PascalCase", () => coreInput('aws-cli-recon-iamuser-userpermissions.json')],
  ])('takes %s, as normalize does', (_, input) => {
    const value = input();

    const units = findingUnits(value);

    expect(units.map((unit) => unit.kind)).toEqual(['finding']);
    expect(normalize((units[0] as FindingInput).input)).toEqual(normalize(value));
  });
});

describe('classifyInvocation', () => {
  const event = readEvent('scenario-instance-credential-exfiltration.json');

  it('reads SQS records, naming each by its messageId', () => {
    const invocation = classifyInvocation({
      Records: [
        { eventSource: 'aws:sqs', messageId: 'a', body: JSON.stringify(event) },
        { eventSource: 'aws:sqs', messageId: 'b', body: 'not json' },
        { eventSource: 'aws:sqs', body: 7 },
      ],
    });

    expect(invocation).toEqual({
      kind: 'sqs',
      records: [
        { messageId: 'a', units: [{ kind: 'finding', input: event }] },
        {
          messageId: 'b',
          units: [{ kind: 'rejected', code: 'BODY_INVALID', message: 'SQS message b is not JSON' }],
        },
        {
          messageId: 'record-2',
          units: [
            { kind: 'rejected', code: 'BODY_INVALID', message: 'SQS message record-2 is number, not text' },
          ],
        },
      ],
    });
  });

  it('reads SNS records', () => {
    expect(
      classifyInvocation({ Records: [{ EventSource: 'aws:sns', Sns: { Message: JSON.stringify(event) } }] }),
    ).toEqual({
      kind: 'sns',
      units: [{ kind: 'finding', input: event }],
    });
  });

  it('does not unwrap an SQS batch nested in a message', () => {
    const nested = { Records: [{ eventSource: 'aws:sqs', messageId: 'inner', body: JSON.stringify(event) }] };

    const invocation = classifyInvocation({
      Records: [{ eventSource: 'aws:sqs', messageId: 'outer', body: JSON.stringify(nested) }],
    });

    expect(invocation).toMatchObject({
      kind: 'sqs',
      records: [{ units: [{ kind: 'rejected', code: 'EVENT_UNSUPPORTED' }] }],
    });
  });

  it('takes each finding of a Security Hub GetFindings response in an SQS body', () => {
    const response = getFindingsResponse();

    const invocation = classifyInvocation({
      Records: [{ eventSource: 'aws:sqs', messageId: 'm-1', body: JSON.stringify(response) }],
    });

    expect(invocation).toEqual({
      kind: 'sqs',
      records: [{ messageId: 'm-1', units: response.Findings.map((input) => ({ kind: 'finding', input })) }],
    });
  });

  it('rejects records of other sources, and mixed batches', () => {
    const invocation = classifyInvocation({
      Records: [{ eventSource: 'aws:sqs', body: '{}' }, { eventSource: 'aws:dynamodb' }],
    });

    expect(invocation).toEqual({
      kind: 'direct',
      units: [
        { kind: 'rejected', code: 'EVENT_UNSUPPORTED', message: expect.stringContaining('"aws:dynamodb"') },
      ],
    });
  });
});
