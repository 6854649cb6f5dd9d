/**
 * An error the fake AWS answers with, in the calling service's wire format. Operation handlers throw it
 * exactly where the real API would refuse the request; the protocol layer renders `code`, `message` and
 * `status` as that service does.
 */
export class AwsFault extends Error {
  readonly code: string;
  readonly status: number;
  /** Extra elements some error bodies carry (S3's `<BucketName>`). */
  readonly fields: Record<string, string>;

  constructor(code: string, message: string, status = 400, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'AwsFault';
    this.code = code;
    this.status = status;
    this.fields = fields;
  }
}

/**
 * The harness itself was misused: a seed that refers to something it does not define, or a fault rule
 * the server cannot apply. Thrown to the test that configured it, never sent over HTTP.
 */
export class FakeAwsError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'FakeAwsError';
    this.code = code;
    this.details = details;
  }
}
