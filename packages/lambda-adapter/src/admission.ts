import type { FindingVerifier, VerificationRoute } from '@riposte/actions';
import type { Finding } from '@riposte/core';
import type { AccountPolicy, FunctionIdentity } from './accounts.js';
import { findingKey } from './idempotency/store.js';
import type { ResultCode } from './result.js';

/** How far ahead of the function's clock a finding's last update may be (clock skew). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** How the finding was verified, for the report. */
export interface VerificationSummary {
  status: 'verified' | 'refused' | 'unavailable' | 'failed';
  via?: VerificationRoute;
  detectorId?: string;
  reason?: string;
  /** Request ids of the GuardDuty calls, for the audit trail. */
  requestIds: string[];
  /** Time spent asking GuardDuty, in milliseconds. */
  durationMs: number;
}

export type Admission =
  | { admitted: true; finding: Finding; key: string; verification: VerificationSummary }
  | {
      admitted: false;
      code: Extract<
        ResultCode,
        | 'ACCOUNT_NOT_ALLOWED'
        | 'FINDING_UNVERIFIED'
        | 'VERIFICATION_FAILED'
        | 'FINDING_TOO_OLD'
        | 'FINDING_FROM_FUTURE'
      >;
      message: string;
      retryable: boolean;
      verification?: VerificationSummary;
    };

export interface AdmissionOptions {
  own: FunctionIdentity;
  /** Whether a member role is configured: without one, only the function's own account can be acted in. */
  hasMemberRole: boolean;
  accounts: AccountPolicy;
  verifier: FindingVerifier;
  maxFindingAgeSeconds: number;
  clock: () => Date;
}

/**
 * The gate between a delivered finding and any change: the account must be one the function may act
 * in, and GuardDuty must hold the finding as delivered. What passes is GuardDuty's own copy, with the
 * idempotency key it is remembered by. Nothing here changes anything, and nothing is remembered of a
 * refused finding.
 */
export const createAdmission = (options: AdmissionOptions) => {
  /**
   * `ignoreAge`: an approval re-verifies the finding a held response acted on, however long ago
   * GuardDuty last updated it; the hold's own expiry bounds how late that may be.
   */
  const admit = async (delivered: Finding, { ignoreAge = false } = {}): Promise<Admission> => {
    if (delivered.partition !== options.own.partition) {
      return {
        admitted: false,
        code: 'ACCOUNT_NOT_ALLOWED',
        message: `the finding is in partition ${JSON.stringify(delivered.partition.slice(0, 20))}, not this function's ${options.own.partition}`,
        retryable: false,
      };
    }
    if (delivered.accountId !== options.own.accountId && !options.hasMemberRole) {
      // The function's own credentials must never act on another account's finding.
      return {
        admitted: false,
        code: 'ACCOUNT_NOT_ALLOWED',
        message: `the finding belongs to account ${JSON.stringify(delivered.accountId.slice(0, 20))}, not this function's ${options.own.accountId}; set RIPOSTE_MEMBER_ROLE (with RIPOSTE_ACCOUNTS or RIPOSTE_ORGANIZATION_ID) to act in member accounts`,
        retryable: false,
      };
    }
    const account = await options.accounts.check(delivered.accountId);
    if (!account.allowed) {
      return {
        admitted: false,
        code: 'ACCOUNT_NOT_ALLOWED',
        message: account.reason,
        retryable: account.retryable,
      };
    }

    const verification = await options.verifier.verify(delivered);
    const requestIds = verification.calls.flatMap((call) => (call.requestId ? [call.requestId] : []));
    const durationMs = verification.calls.reduce((total, call) => total + call.durationMs, 0);
    if (verification.status !== 'verified') {
      const summary: VerificationSummary = {
        status: verification.status,
        reason: verification.reason,
        requestIds,
        durationMs,
      };
      return verification.status === 'failed' && verification.retryable
        ? {
            admitted: false,
            code: 'VERIFICATION_FAILED',
            message: `the finding could not be verified this time: ${verification.reason}; nothing was run`,
            retryable: true,
            verification: summary,
          }
        : {
            admitted: false,
            code: 'FINDING_UNVERIFIED',
            message: `refused an unverified finding: ${verification.reason}; nothing was run`,
            retryable: false,
            verification: summary,
          };
    }
    const finding = verification.finding;
    const summary: VerificationSummary = {
      status: 'verified',
      via: verification.via,
      detectorId: verification.detectorId,
      requestIds,
      durationMs,
    };

    const updated = Date.parse(finding.updatedAt ?? '');
    const now = options.clock().getTime();
    if (Number.isNaN(updated) || updated > now + MAX_CLOCK_SKEW_MS) {
      return {
        admitted: false,
        code: 'FINDING_FROM_FUTURE',
        message: `GuardDuty's copy was last updated at ${finding.updatedAt ?? '(no time)'}, after now; nothing was run`,
        retryable: false,
        verification: summary,
      };
    }
    if (!ignoreAge && updated < now - options.maxFindingAgeSeconds * 1000) {
      return {
        admitted: false,
        code: 'FINDING_TOO_OLD',
        message: `the finding was last updated at ${finding.updatedAt}, more than RIPOSTE_MAX_FINDING_AGE (${options.maxFindingAgeSeconds} s) ago; nothing was run`,
        retryable: false,
        verification: summary,
      };
    }
    return {
      admitted: true,
      finding,
      key: findingKey({ ...finding, detectorId: verification.detectorId }),
      verification: summary,
    };
  };

  return { admit };
};

export type AdmissionGate = ReturnType<typeof createAdmission>;
