import { describe, expect, it } from 'vitest';
import { createLogger, createMasker, maskSecrets } from '../../src/index.js';
import { captureLogs, lambdaContext, readEvent, testHandler } from '../helpers/harness.js';

const WEBHOOK = 'https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/abcdefGHIJKLmnopQRSTuvwx';
// The documentation's example secret key, and a session token of the shape STS returns.
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = `IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD${'a1B2c3D4e5F6g7H8'.repeat(20)}==`;

describe('createMasker', () => {
  const mask = createMasker([WEBHOOK]);

  it('masks the configured webhook URL', () => {
    expect(mask(`posting to ${WEBHOOK} failed`)).toBe('posting to [redacted] failed');
  });

  it('masks any https URL on the webhook host, whatever its path', () => {
    expect(mask('retrying https://hooks.slack.com/services/T0AAAAAAA/B0CCCCCCC/other')).toBe(
      'retrying [redacted]',
    );
  });

  it('masks secret access keys and session tokens by their shape', () => {
    expect(mask(`key=${SECRET_KEY} token=${SESSION_TOKEN}`)).toBe('key=[redacted] token=[redacted]');
  });

  it('leaves finding ids, access key ids, hex digests and ARNs readable', () => {
    const text =
      'finding 7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01 key ASIAEXAMPLEKEY123456 sha1 da39a3ee5e6b4b0d3255bfef95601890afd80709 arn:aws:iam::111122223333:role/app-server-s3-full';

    expect(mask(text)).toBe(text);
  });
});

describe('maskSecrets', () => {
  const mask = createMasker([WEBHOOK]);

  it('replaces credential fields at any depth', () => {
    const value = {
      a: { b: { Credentials: { AccessKeyId: 'ASIA', SecretAccessKey: SECRET_KEY } } },
      sessionToken: 't',
    };

    expect(maskSecrets(value, mask)).toEqual({
      a: { b: { Credentials: '[redacted]' } },
      sessionToken: '[redacted]',
    });
  });

  it('reduces an error to its type, code and masked message', () => {
    const error = Object.assign(new Error(`POST ${WEBHOOK} returned 500`), { code: 'WEBHOOK_FAILED' });

    expect(maskSecrets({ err: error }, mask)).toMatchObject({
      err: { type: 'Error', code: 'WEBHOOK_FAILED', message: 'POST [redacted] returned 500' },
    });
  });

  it('cuts cycles instead of throwing', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;

    expect(maskSecrets(cyclic, mask)).toEqual({ name: 'loop', self: '[circular]' });
  });
});

describe('createLogger', () => {
  it('writes one JSON line per entry with the level as a label', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', destination: logs.destination });

    logger.child({ findingId: 'f-1' }).info({ step: 'a' }, 'step applied');
    logger.debug('not written');

    expect(logs.entries()).toEqual([
      { level: 'info', time: expect.any(String), findingId: 'f-1', step: 'a', msg: 'step applied' },
    ]);
  });

  it('masks secrets in messages, fields, bindings and errors', () => {
    const logs = captureLogs();
    const logger = createLogger({ level: 'info', secrets: [WEBHOOK], destination: logs.destination });

    logger
      .child({ target: WEBHOOK })
      .info({ credentials: { secretAccessKey: SECRET_KEY } }, `sent to ${WEBHOOK}`);
    logger.error(new Error(`assumed role with token ${SESSION_TOKEN}`));
    logger.warn({ nested: { deeper: { text: `key ${SECRET_KEY}` } } }, 'nested');

    const text = logs.text();
    expect(text).not.toContain('hooks.slack.com');
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain('IQoJb3JpZ2lu');
    expect(logs.entries()).toHaveLength(3);
  });
});

describe('handler logs', () => {
  it('write one line per step and one summary per finding, bound to the finding, playbook and action', async () => {
    const { handler, logs } = await testHandler();

    await handler(readEvent('scenario-instance-credential-exfiltration.json'), lambdaContext('111122223333'));

    const findingId = '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01';
    const steps = logs.entries().filter((entry) => typeof entry.step === 'string');
    const summaries = logs.entries().filter((entry) => entry.code === 'HANDLED');
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({
      findingId,
      playbook: 'rerun-credential-exfiltration',
      action: 'record-response',
      status: 'applied',
    });
    expect(summaries).toEqual([
      expect.objectContaining({
        findingId,
        outcome: 'applied',
        matched: ['rerun-credential-exfiltration', 'respond-to-every-finding'],
      }),
    ]);
  });

  it('never contain the webhook URL or credentials a step reports', async () => {
    const findingId = '7ec8a2f6b1d94e3a8c5f0b2d4e6a8c01';
    const { handler, recorder, logs } = await testHandler({
      RIPOSTE_MODE: 'enforce',
      RIPOSTE_WEBHOOK_URL: WEBHOOK,
    });
    recorder.behaviour.set(findingId, { leak: `${WEBHOOK} with ${SECRET_KEY} and ${SESSION_TOKEN}` });

    await handler(readEvent('scenario-instance-credential-exfiltration.json'), lambdaContext('111122223333'));

    const text = logs.text();
    expect(text).toContain('posted to [redacted]');
    expect(text).not.toContain('hooks.slack.com');
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain('IQoJb3JpZ2lu');
  });
});
