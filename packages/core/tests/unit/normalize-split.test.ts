import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type InputPart,
  type InputRejection,
  normalize,
  normalizeFinding,
  splitInput,
} from '../../src/normalize/index.js';
import { jsonPaths, replaceAt } from '../reliability/inputs.js';

type Json = Record<string, unknown>;

const FIXTURES = new URL('../fixtures/', import.meta.url);

const readJson = (path: string): Json => JSON.parse(readFileSync(new URL(path, FIXTURES), 'utf8'));

/** A shared sample by folder and number, e.g. fixture('cloud-custodian', '03'). */
const fixture = (folder: string, number: string): Json => {
  const dir = new URL(`findings/${folder}/`, FIXTURES);
  const file = readdirSync(dir).find((name) => name.startsWith(`${number}-`));
  if (!file) throw new Error(`no fixture ${folder}/${number}`);
  return readJson(`findings/${folder}/${file}`);
};

/** Security Hub's GetFindings response: `{ ResponseMetadata, Findings: [five GuardDuty ASFF findings] }`. */
const getFindingsResponse = (): Json =>
  readJson('input/cloud-custodian-securityhub-getfindings.json').data as Json;
/** A `GuardDuty Finding` EventBridge event. */
const guardDutyEvent = (): Json => fixture('cloud-custodian', '01');
/** A `Security Hub Findings - Custom Action` event wrapping one GuardDuty ASFF finding. */
const customActionEvent = (): Json => fixture('cloud-custodian', '03');
/** A bare GuardDuty ASFF finding. */
const asff = (): Json => fixture('cloud-custodian', '04');
/** A bare GuardDuty finding. */
const bare = (): Json => fixture('elastic-integrations', '44');

const findingsOf = (input: Json): Json[] => ((input.detail ?? input) as { findings: Json[] }).findings;

/** An ASFF finding of another product: the GuardDuty one re-imported under Inspector's product ARN. */
const inspector = (): Json => ({
  ...asff(),
  Id: 'arn:aws:inspector2:us-east-1:644160558196:finding/0a1b2c3d4e5f',
  ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector',
});

/** Each part as `[kind or code, path]`. */
const shape = (parts: InputPart[]): [string, string][] =>
  parts.map((part) => [part.kind === 'finding' ? `finding ${part.format}` : part.code, part.path]);

describe('splitInput: what a finding is', () => {
  it('reads each finding of a Security Hub GetFindings response, as normalize does', () => {
    // Arrange: the shape the adapter refused as EVENT_UNSUPPORTED while normalize read it
    const response = getFindingsResponse();

    // Act
    const parts = splitInput(response);

    // Assert
    expect(shape(parts)).toEqual([0, 1, 2, 3, 4].map((index) => ['finding asff', `/Findings/${index}`]));
    expect(parts.map((part) => part.kind === 'finding' && part.input)).toEqual(response.Findings);
    expect(normalize(response).map((finding) => finding.id)).toEqual([
      'f6b5c52d7a829ed112f7556dd1cc40c4',
      '4cb5a629e9757b650d102f683cdbcd7b',
      '14b53c819ce4bebac32c31842a5d85f9',
      'bab52b742e003b64aabbae94cb0c7888',
      'f8b516324d4c8ef0f4c1228093268d82',
    ]);
  });

  it('reads the detail of a Security Hub event delivered alone ({ actionName, findings })', () => {
    const { detail } = customActionEvent() as { detail: Json };

    expect(shape(splitInput(detail))).toEqual([['finding asff', '/findings/0']]);
    expect(normalizeFinding(detail).id).toBe('4cb5a629e9757b650d102f683cdbcd7b');
  });

  it('takes a GuardDuty Finding event whole, pointing at its detail', () => {
    const event = guardDutyEvent();

    expect(splitInput(event)).toEqual([
      { kind: 'finding', format: 'guardduty', input: event, finding: event.detail, path: '/detail' },
    ]);
  });

  it('splits a Security Hub event into its findings and refuses other products one by one', () => {
    const event = customActionEvent();
    findingsOf(event).unshift(inspector());

    const parts = splitInput(event);

    expect(shape(parts)).toEqual([
      ['FINDING_UNSUPPORTED', '/detail/findings/0/ProductArn'],
      ['finding asff', '/detail/findings/1'],
    ]);
    expect(parts[0]).toMatchObject({
      message: expect.stringContaining('"arn:aws:securityhub:us-east-1::product/aws/inspector"'),
    });
  });

  it('reads the Imported detail-type like the Custom Action one', () => {
    const event = { ...customActionEvent(), 'detail-type': 'Security Hub Findings - Imported' };

    expect(shape(splitInput(event))).toEqual([['finding asff', '/detail/findings/0']]);
  });

  it('reads an event that carries no source', () => {
    const { source: _gd, ...guardduty } = guardDutyEvent();
    const { source: _hub, ...hub } = customActionEvent();

    expect(shape(splitInput(guardduty))).toEqual([['finding guardduty', '/detail']]);
    expect(shape(splitInput(hub))).toEqual([['finding asff', '/detail/findings/0']]);
  });

  it('takes bare findings: GuardDuty camelCase, SDK PascalCase, ASFF', () => {
    const pascal = readJson('input/aws-cli-recon-iamuser-userpermissions.json');

    expect(shape(splitInput(bare()))).toEqual([['finding guardduty', '']]);
    expect(shape(splitInput(pascal))).toEqual([['finding guardduty', '']]);
    expect(shape(splitInput(asff()))).toEqual([['finding asff', '']]);
    expect(normalizeFinding(pascal).type.name).toBe('Recon:IAMUser/UserPermissions');
  });

  it('takes the elements of a list one by one', () => {
    expect(shape(splitInput([guardDutyEvent(), asff(), 7]))).toEqual([
      ['finding guardduty', '/0/detail'],
      ['finding asff', '/1'],
      ['EVENT_UNSUPPORTED', '/2'],
    ]);
  });

  it('gives nothing for an empty list or an event with no findings', () => {
    const event = customActionEvent();
    findingsOf(event).length = 0;

    expect(splitInput([])).toEqual([]);
    expect(splitInput({ Findings: [] })).toEqual([]);
    expect(splitInput(event)).toEqual([]);
  });

  it('splits the input of a finding part again into that one finding', () => {
    const inputs = [getFindingsResponse(), guardDutyEvent(), customActionEvent(), bare(), [asff(), bare()]];

    for (const input of inputs) {
      for (const part of splitInput(input)) {
        if (part.kind !== 'finding') throw new Error('expected only findings');
        const again = splitInput(part.input);

        expect(again).toHaveLength(1);
        expect(again[0]).toMatchObject({ kind: 'finding', format: part.format, finding: part.finding });
      }
    }
  });
});

describe('splitInput: rejections', () => {
  it.each<[string, unknown, string, string, string]>([
    ['null', null, 'EVENT_UNSUPPORTED', '', 'got null'],
    ['a number', 42, 'EVENT_UNSUPPORTED', '', 'got number'],
    [
      'an object of neither shape',
      { hello: 'world' },
      'EVENT_UNSUPPORTED',
      '',
      'neither an EventBridge event',
    ],
    ['a list inside a list', [[{}]], 'EVENT_UNSUPPORTED', '/0', 'lists of findings do not nest'],
    [
      'another service',
      { source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} },
      'EVENT_UNSUPPORTED',
      '/detail-type',
      '"aws.ec2" "EC2 Instance State-change Notification" events are not handled',
    ],
    [
      'a GuardDuty event from another source',
      { ...guardDutyEvent(), source: 'aws.securityhub' },
      'EVENT_UNSUPPORTED',
      '/source',
      '"aws.securityhub" "GuardDuty Finding" events are not handled',
    ],
    [
      'a Security Hub event without findings',
      { source: 'aws.securityhub', 'detail-type': 'Security Hub Findings - Imported', detail: {} },
      'EVENT_UNSUPPORTED',
      '/detail/findings',
      'without detail.findings',
    ],
    [
      'a GuardDuty event without detail',
      { ...guardDutyEvent(), detail: null },
      'FINDING_INVALID',
      '/detail',
      'missing required object "detail"',
    ],
    [
      'a Security Hub finding that is not an object',
      { ...customActionEvent(), detail: { findings: ['x'] } },
      'FINDING_INVALID',
      '/detail/findings/0',
      'expected an ASFF finding object, got string "x"',
    ],
    [
      'a bare ASFF finding of another product',
      inspector(),
      'FINDING_UNSUPPORTED',
      '/ProductArn',
      'not a GuardDuty finding',
    ],
  ])('refuses %s', (_, input, code, path, text) => {
    const [part, ...rest] = splitInput(input);

    expect(rest).toEqual([]);
    expect(part).toMatchObject({ kind: 'rejected', code, path, reason: expect.stringContaining(text) });
    const { reason, message } = part as InputRejection;
    expect(message).toBe(path ? `${path}: ${reason}` : reason);
  });

  it('refuses a Security Hub finding that calls itself GuardDuty under a custom product ARN', () => {
    const impostor = {
      ...asff(),
      ProductArn: 'arn:aws:securityhub:us-east-1:644160558196:product/644160558196/default',
      ProductName: 'GuardDuty',
    };

    expect(shape(splitInput(impostor))).toEqual([['FINDING_UNSUPPORTED', '/ProductArn']]);
  });

  it('quotes at most 80 characters of what the input claims', () => {
    const [part] = splitInput({ source: 'x'.repeat(10_000), 'detail-type': 'GuardDuty Finding' });

    expect(part).toMatchObject({ kind: 'rejected', code: 'EVENT_UNSUPPORTED' });
    expect((part as InputRejection).reason).toContain(`"${'x'.repeat(80)}…"`);
    expect((part as InputRejection).reason.length).toBeLessThan(400);
  });
});

describe('splitInput and normalize agree', () => {
  const samples = [getFindingsResponse(), guardDutyEvent(), customActionEvent(), asff(), bare()];

  /**
   * Whether normalize did with `input` what its parts say: read exactly the finding parts, when every
   * rejection is another product's finding (and there is some finding); otherwise throw, pointing at a
   * rejection or inside a finding part (malformed in a way only reading it shows).
   */
  const agrees = (input: unknown): boolean => {
    const parts = splitInput(input);
    const findings = parts.filter((part) => part.kind === 'finding');
    const blocking = parts.filter((part) => part.kind === 'rejected' && part.code !== 'FINDING_UNSUPPORTED');
    try {
      const read = normalize(input).length;
      return read === findings.length && blocking.length === 0 && (read > 0 || parts.length === 0);
    } catch (error) {
      const { path } = error as { path: string };
      return parts.some((part) =>
        part.kind === 'rejected'
          ? part.path === path
          : path === part.path || path.startsWith(`${part.path}/`),
      );
    }
  };

  it('never throws, and agrees with normalize, on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => agrees(input)),
      { numRuns: 500 },
    );
  });

  it('never throws, and agrees with normalize, when any node of a real input is replaced', () => {
    const cases = samples.flatMap((sample) => jsonPaths(sample).map((path) => ({ sample, path })));
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.jsonValue({ maxDepth: 2 }), ({ sample, path }, value) =>
        agrees(replaceAt(sample, path, value)),
      ),
      { numRuns: 2000 },
    );
  });
});
