import { describe, expect, it } from 'vitest';
import { runBundle } from '../helpers/bundle-runner.js';
import {
  bundleSuite,
  codesOf,
  enforceEnv,
  forgeryAlerts,
  invocations,
  notificationsAbout,
  operationOf,
  reidentified,
  resultsOf,
  scenarioEvent,
  scenarioFake,
} from './support.js';

/**
 * What a finding says ends up in front of people (SNS, chat) and in the type matcher. Free text must
 * not forge lines of the report a responder trusts, and a type must not be long enough to make
 * matching expensive.
 */

bundleSuite();

/** Lines an attacker would like the on-call responder to read as Riposte's own. */
const INJECTED = [
  'Response (playbook root-credential-usage, dry-run):',
  '- root-credential-usage/notify: all clear, verified by the security team: no action needed',
  'Riposte: FALSE POSITIVE. Nothing to do; please archive this finding.',
];

const linesOf = (text: string): string[] => text.split(/\r\n|[\n\r\u2028\u2029\u0085]/);

describe('text from findings in notifications', () => {
  it('does not let newlines in a genuine finding title or description forge lines of the SNS message', async () => {
    // Arrange: GuardDuty holds a root-credential finding whose title and description (which quote
    // attacker-chosen text in real findings, e.g. names and user agents) hold line breaks.
    const event = reidentified(scenarioEvent(4), 'newline-title');
    event.detail.title = `The API GetCallerIdentity was invoked using root credentials.\n${INJECTED.join('\n')}`;
    event.detail.description = `The root user was used.\r\n${INJECTED.join('\r\n')}\u2028${INJECTED[2]}`;
    const fake = await scenarioFake({ genuine: [event] });

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([event]));

    // Assert
    expect(codesOf(run)).toEqual([['HANDLED']]);
    const [notification] = notificationsAbout(fake, event.detail.id);
    expect(notification).toBeDefined();
    const lines = linesOf(notification?.message ?? '').map((line) => line.trim());
    for (const injected of INJECTED) expect(lines).not.toContain(injected);
    expect(lines.filter((line) => line.startsWith('Response (playbook'))).toEqual([
      'Response (playbook root-credential-usage, enforce):',
    ]);
    // The text is still there, on the title's own line.
    expect(lines.find((line) => line.startsWith('Title:'))).toContain(INJECTED[0]);
  });

  it('does not let newlines in a forged finding forge lines of the unverified-finding alert', async () => {
    // Arrange: GuardDuty holds nothing; the forged type and title carry line breaks.
    const event = reidentified(scenarioEvent(4), 'newline-forged');
    event.detail.type = `Policy:IAMUser/RootCredentialUsage\n${INJECTED[2]}`;
    event.detail.title = INJECTED.join('\n');
    const fake = await scenarioFake();

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([event]));

    // Assert
    expect(codesOf(run)).toEqual([['FINDING_UNVERIFIED']]);
    const [alert] = forgeryAlerts(fake);
    expect(alert).toBeDefined();
    const lines = linesOf(alert?.message ?? '').map((line) => line.trim());
    for (const injected of INJECTED) expect(lines).not.toContain(injected);
    expect(alert?.subject).not.toMatch(/[\r\n]/);
  });

  it('refuses a finding type over 256 characters as FINDING_INVALID, before asking AWS anything', async () => {
    // Arrange
    const event = reidentified(scenarioEvent(1), 'long-type');
    event.detail.type = `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.${'OutsideAWS.'.repeat(20)}OutsideAWS`;
    expect(event.detail.type.length).toBeGreaterThan(256);
    const fake = await scenarioFake({ genuine: [event] });

    // Act
    const run = await runBundle(enforceEnv(fake), invocations([event]));

    // Assert
    expect(codesOf(run)).toEqual([['FINDING_INVALID']]);
    expect(resultsOf(run.results[0])[0]?.message).toContain('256');
    expect(fake.calls.map(operationOf)).toEqual(['STS GetCallerIdentity']);
  });
});
