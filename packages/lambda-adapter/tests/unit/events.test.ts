import { describe, expect, it } from 'vitest';
import { classifyInvocation, findingUnits } from '../../src/index.js';
import { readEvent } from '../helpers/harness.js';

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
    ['an array', [1, 2], 'got an array'],
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
