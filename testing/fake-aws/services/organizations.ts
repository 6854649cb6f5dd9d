import { AwsFault } from '../errors.js';
import type { JsonOperation } from './cloudtrail.js';

const ACCOUNT_ID = /^\d{12}$/;

// The JSON protocol carries timestamps as epoch seconds.
const epochSeconds = (iso: string): number => Date.parse(iso) / 1000;

/** Answers for any account of the seeded organization, as its management account would. */
const describeAccount: JsonOperation = (input, { state }) => {
  const accountId = input.AccountId;
  if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
    throw new AwsFault(
      'InvalidInputException',
      'You provided a value that does not match the required pattern.',
      400,
      { Reason: 'INVALID_PATTERN' },
    );
  }
  const organization = state.organization;
  if (!organization) {
    throw new AwsFault(
      'AWSOrganizationsNotInUseException',
      'Your account is not a member of an organization.',
    );
  }
  const account = organization.accounts.get(accountId);
  if (!account)
    throw new AwsFault('AccountNotFoundException', "You specified an account that doesn't exist.");
  return {
    Account: {
      Id: account.id,
      Arn: account.arn,
      Email: account.email,
      Name: account.name,
      Status: account.status,
      State: account.status,
      JoinedMethod: account.joinedMethod,
      JoinedTimestamp: epochSeconds(account.joinedTimestamp),
    },
  };
};

export const organizationsOperations: Record<string, JsonOperation> = {
  DescribeAccount: describeAccount,
};
