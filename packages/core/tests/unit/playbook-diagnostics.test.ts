import { describe, expect, it } from 'vitest';
import type { ActionRegistry } from '../../src/action.js';
import { unknownFindingType } from '../../src/catalog/index.js';
import { type ConfigurationIssue, PlaybookValidationError } from '../../src/errors.js';
import {
  type CheckedFile,
  compilePlaybooks,
  type LoadOptions,
  parsePlaybooks,
} from '../../src/playbooks/index.js';
import { inertAction } from '../helpers/inert-action.js';

/** The YAML as written, without the opening newline and the indentation its lines share. */
const yaml = (strings: TemplateStringsArray): string => {
  const lines = strings.join('').split('\n').slice(1);
  if (lines.at(-1)?.trim() === '') lines.pop();
  const indent = Math.min(...lines.filter((line) => line.trim()).map((line) => line.search(/\S/)));
  return `${lines.map((line) => line.slice(indent)).join('\n')}\n`;
};

/** Loads `text` as `rules/s3.yaml`, recording what the loader reports for each file. */
const load = (text: string, options: LoadOptions = {}) => {
  const checked: CheckedFile[] = [];
  const onFileChecked = (file: CheckedFile) => void checked.push(file);
  try {
    const playbooks = parsePlaybooks(text, 'rules/s3.yaml', { ...options, onFileChecked });
    return { playbooks, checked, errors: [] as ConfigurationIssue[] };
  } catch (error) {
    if (!(error instanceof PlaybookValidationError)) throw error;
    return { playbooks: [], checked, errors: error.issues };
  }
};

describe('a type pattern matching no known finding type', () => {
  const text = yaml`
    name: s3-object-read
    match:
      types:
        - Exfiltration:S3/ObjectRead.Unusal
        - Exfiltration:S3/*
    exclude:
      - types: [Exfiltraton:S3/*]
    actions:
      - action: notify
  `;

  it('is a warning at the pattern, with the pattern meant, and the playbook still loads', () => {
    const { playbooks, checked, errors } = load(text, { unknownFindingType });

    expect(errors).toEqual([]);
    expect(playbooks.map((playbook) => playbook.name)).toEqual(['s3-object-read']);
    expect(checked).toEqual([
      {
        file: 'rules/s3.yaml',
        playbooks: 1,
        warnings: [
          {
            file: 'rules/s3.yaml',
            line: 4,
            column: 7,
            pointer: '/match/types/0',
            code: 'FINDING_TYPE_UNKNOWN',
            message:
              '"Exfiltration:S3/ObjectRead.Unusal" matches no GuardDuty finding type, active or retired; did you mean "Exfiltration:S3/ObjectRead.Unusual"?',
            suggestions: ['Exfiltration:S3/ObjectRead.Unusual'],
          },
          {
            file: 'rules/s3.yaml',
            line: 7,
            column: 13,
            pointer: '/exclude/0/types/0',
            code: 'FINDING_TYPE_UNKNOWN',
            message:
              '"Exfiltraton:S3/*" matches no GuardDuty finding type, active or retired; did you mean "Exfiltration:S3/*"?',
            suggestions: ['Exfiltration:S3/*'],
          },
        ],
      },
    ]);
  });

  it('is not looked for without the catalog check: the function loads playbooks without the catalog', () => {
    const { playbooks, checked } = load(text);

    expect(playbooks).toHaveLength(1);
    expect(checked).toEqual([{ file: 'rules/s3.yaml', playbooks: 1, warnings: [] }]);
  });

  it('is reported beside the errors of the file when it has some, before they are thrown', () => {
    const broken = text.replace('action: notify', 'action: notify\n    param: {}');

    const { checked, errors } = load(broken, { unknownFindingType });

    expect(errors.map((issue) => [issue.pointer, issue.code])).toEqual([['/actions/0', 'KEY_UNKNOWN']]);
    expect(checked[0]?.warnings.map((issue) => issue.pointer)).toEqual([
      '/match/types/0',
      '/exclude/0/types/0',
    ]);
  });

  it('is not also a warning when the pattern is invalid: that is an error', () => {
    const { checked, errors } = load(
      yaml`
        name: s3-object-read
        match: { types: "Exfiltration:S3/***" }
        actions:
          - action: notify
      `,
      { unknownFindingType },
    );

    expect(errors.map((issue) => [issue.pointer, issue.code])).toEqual([
      ['/match/types', 'TYPE_PATTERN_INVALID'],
    ]);
    expect(checked[0]?.warnings).toEqual([]);
  });
});

describe('the loader reports each file it read', () => {
  it('in the order given, with its playbook count and its own warnings only', () => {
    const checked: CheckedFile[] = [];

    compilePlaybooks(
      [
        {
          file: 'rules/b.yaml',
          text: 'name: b\nmatch: { types: Recon:EC2/Portscan }\nactions: [{ action: notify }]\n',
        },
        {
          file: 'rules/a.yaml',
          text: [
            'name: a1',
            'match: { types: Recon:EC2/PortScan }',
            'actions: [{ action: notify }]',
            '---',
            'name: a2',
            'match: { types: Recon:EC2/* }',
            'actions: [{ action: notify }]',
            '',
          ].join('\n'),
        },
      ],
      { unknownFindingType, onFileChecked: (file) => void checked.push(file) },
    );

    expect(
      checked.map(({ file, playbooks, warnings }) => [file, playbooks, warnings.map((w) => w.line)]),
    ).toEqual([
      ['rules/b.yaml', 1, []],
      ['rules/a.yaml', 2, [2]],
    ]);
    expect(checked[1]?.warnings[0]?.suggestions).toEqual(['Recon:EC2/Portscan']);
  });
});

describe('a key the schema does not allow', () => {
  it('is an error at the key, with the key meant, read from the schema', () => {
    const { errors } = load(yaml`
      name: s3-object-read
      match: { types: Exfiltration:S3/* }
      exclude:
        tag: { env: dev }
      actions:
        - action: notify
      limits:
        maxtargets: 3
    `);

    expect(errors).toEqual([
      {
        file: 'rules/s3.yaml',
        line: 4,
        column: 3,
        pointer: '/exclude',
        code: 'KEY_UNKNOWN',
        message: 'has unknown key "tag"; did you mean "tags"?',
        suggestions: ['tags'],
      },
      {
        file: 'rules/s3.yaml',
        line: 8,
        column: 3,
        pointer: '/limits',
        code: 'KEY_UNKNOWN',
        message: 'has unknown key "maxtargets"; did you mean "maxTargets"?',
        suggestions: ['maxTargets'],
      },
    ]);
  });

  it('is not told to be a key the mapping already has', () => {
    const { errors } = load(yaml`
      name: s3-object-read
      match: { types: Exfiltration:S3/*, type: Exfiltration:S3/* }
      actions:
        - action: notify
    `);

    expect(errors).toEqual([
      expect.objectContaining({ message: 'has unknown key "type"', code: 'KEY_UNKNOWN' }),
    ]);
    expect(errors[0]).not.toHaveProperty('suggestions');
  });
});

describe('every problem carries its kind', () => {
  it.each([
    ['a YAML syntax error', 'name: [a\n', 'YAML_INVALID'],
    ['a missing key', 'name: a\nmatch: { types: Recon:EC2/* }\n', 'KEY_MISSING'],
    [
      'a value of the wrong type',
      'name: a\nmatch: { severity: { min: high } }\nactions: [{ action: notify }]\n',
      'VALUE_INVALID',
    ],
    [
      'an unknown tactic',
      'name: a\nmatch: { tactics: [Exfil] }\nactions: [{ action: notify }]\n',
      'TACTIC_UNKNOWN',
    ],
    [
      'a severity range upside down',
      'name: a\nmatch: { severity: { min: 8, max: 2 } }\nactions: [{ action: notify }]\n',
      'SEVERITY_RANGE_INVALID',
    ],
    [
      'a step waiting for a step the playbook lacks',
      'name: a\nmatch: { types: Recon:EC2/* }\nactions: [{ action: notify, after: [nope] }]\n',
      'STEP_UNKNOWN',
    ],
    [
      'two playbooks of one name',
      'name: a\nmatch: { types: Recon:EC2/* }\nactions: [{ action: notify }]\n---\nname: a\nmatch: { types: Recon:EC2/* }\nactions: [{ action: notify }]\n',
      'PLAYBOOK_NAME_DUPLICATE',
    ],
  ])('%s', (_, text, code) => {
    const { errors } = load(text);

    expect(errors.length).toBeGreaterThan(0);
    expect(errors.map((issue) => issue.code)).toEqual(errors.map(() => code));
  });
});

describe('an action the registry does not hold', () => {
  /** A registry double holding built-in action names; notify's params schema is closed, as the real one is. */
  const notifySchema = {
    type: 'object',
    additionalProperties: false,
    properties: { topicArn: { type: 'string' }, webhookUrl: { type: 'string' }, message: { type: 'string' } },
  };
  const actions = [
    inertAction('isolate-instance', { phase: 'contain' }),
    inertAction('isolate-eks-pod', { phase: 'contain' }),
    inertAction('isolate-rds-instance', { phase: 'contain' }),
    inertAction('notify', { phase: 'contain', paramsSchema: notifySchema }),
  ];
  const registry: ActionRegistry<unknown> = {
    get: (name) => actions.find((candidate) => candidate.name === name),
    list: () => actions,
    validateUndoState: () => [],
    // As the real registry words it: an unknown param's pointer names the param.
    validateParams: (_name, params) =>
      Object.keys(params as object)
        .filter((key) => !(key in notifySchema.properties))
        .map((key) => ({ pointer: `/${key}`, message: 'is not a known param' })),
  };

  it('is an error at the action, with the name meant instead of the whole list', () => {
    const { errors } = load(
      yaml`
        name: ec2-contain
        match: { types: Backdoor:EC2/* }
        actions:
          - action: isolate
      `,
      { registry },
    );

    expect(errors).toEqual([
      {
        file: 'rules/s3.yaml',
        line: 4,
        column: 13,
        pointer: '/actions/0/action',
        code: 'ACTION_UNKNOWN',
        message: 'unknown action "isolate"; did you mean "isolate-instance"?',
        suggestions: ['isolate-instance'],
      },
    ]);
  });

  it('lists the known actions when none is near', () => {
    const { errors } = load(
      'name: a\nmatch: { types: Backdoor:EC2/* }\nactions: [{ action: quarantine-bucket }]\n',
      { registry },
    );

    expect(errors[0]?.message).toBe(
      'unknown action "quarantine-bucket"; known actions: isolate-eks-pod, isolate-instance, isolate-rds-instance, notify',
    );
    expect(errors[0]).not.toHaveProperty('suggestions');
  });

  it("is an unknown param at its key, with the param meant from the action's schema, leaving out params given", () => {
    const { errors } = load(
      yaml`
        name: s3-notify
        match: { types: Exfiltration:S3/* }
        actions:
          - action: notify
            params:
              message: read
              topicArm: arn:aws:sns:us-east-1:111122223333:security-alerts
              mesage: hi
      `,
      { registry },
    );

    expect(
      errors.map(({ line, column, pointer, code, suggestions }) => ({
        line,
        column,
        pointer,
        code,
        suggestions,
      })),
    ).toEqual([
      {
        line: 7,
        column: 7,
        pointer: '/actions/0/params/topicArm',
        code: 'KEY_UNKNOWN',
        suggestions: ['topicArn'],
      },
      {
        line: 8,
        column: 7,
        pointer: '/actions/0/params/mesage',
        code: 'KEY_UNKNOWN',
        suggestions: undefined,
      },
    ]);
  });
});
