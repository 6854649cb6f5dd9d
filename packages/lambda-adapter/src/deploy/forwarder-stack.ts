import type { Playbook } from '@riposte/core';
import { TemplateError } from '../errors.js';
import { findingEventPattern } from './event-patterns.js';
import {
  type CloudFormationTemplate,
  condition,
  describePlaybooks,
  enabledOf,
  getAtt,
  ref,
  sub,
} from './shared.js';

export interface ForwarderTemplateOptions {
  /** The playbooks the function runs: the forwarding rule admits what its own rule admits. */
  playbooks: Playbook[];
  /** Where the function runs, e.g. `us-east-1`: the `HomeRegion` parameter's default. */
  homeRegion: string;
}

export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

const HOME_BUS = 'arn:{AWS::Partition}:events:{HomeRegion}:{AWS::AccountId}:event-bus/default';

/**
 * The stack for every other region than the function's: an EventBridge rule with the function rule's
 * finding pattern, forwarding to the home region's default bus, where the function's own rule picks
 * the findings up (they keep their source and region; the function acts in the finding's region). Its
 * role (trusted by EventBridge, for this account only) may put events on that bus and nowhere else.
 * In the home region itself the stack creates nothing but a placeholder, so a StackSet can cover
 * every region of the account.
 */
export const buildForwarderTemplate = (options: ForwarderTemplateOptions): CloudFormationTemplate => {
  if (!REGION.test(options.homeRegion)) {
    throw new TemplateError(`"${options.homeRegion}" is not an AWS region name (e.g. us-east-1)`, {
      homeRegion: options.homeRegion,
    });
  }
  const enabled = enabledOf(options.playbooks);

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: describePlaybooks(
      `Riposte forwarder: sends this region's GuardDuty findings to ${options.homeRegion} for`,
      enabled,
    ),
    Parameters: {
      HomeRegion: {
        Type: 'String',
        Default: options.homeRegion,
        AllowedPattern: REGION.source,
        Description: 'The region the Riposte function runs in; its default event bus receives the findings.',
      },
    },
    Conditions: {
      IsHomeRegion: { 'Fn::Equals': [ref('AWS::Region'), ref('HomeRegion')] },
      Forwards: { 'Fn::Not': [condition('IsHomeRegion')] },
    },
    Resources: {
      ForwarderRole: {
        Type: 'AWS::IAM::Role',
        Condition: 'Forwards',
        Properties: {
          Description: "Riposte: lets EventBridge put this region's findings on the home region's bus",
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sts:AssumeRole',
                Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
              },
            ],
          },
          Policies: [
            {
              PolicyName: 'riposte-forwarder',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Sid: 'PutEventsOnHomeRegionBus',
                    Effect: 'Allow',
                    Action: ['events:PutEvents'],
                    Resource: sub(HOME_BUS),
                  },
                ],
              },
            },
          ],
        },
      },
      ForwardingRule: {
        Type: 'AWS::Events::Rule',
        Condition: 'Forwards',
        Properties: {
          Description: "GuardDuty findings some Riposte playbook may act on, sent to the function's region",
          State: 'ENABLED',
          EventPattern: findingEventPattern(enabled),
          Targets: [{ Id: 'home-region-bus', Arn: sub(HOME_BUS), RoleArn: getAtt('ForwarderRole', 'Arn') }],
        },
      },
      // A stack needs a resource; in the home region this is the only one.
      HomeRegionPlaceholder: {
        Type: 'AWS::CloudFormation::WaitConditionHandle',
        Condition: 'IsHomeRegion',
        Properties: {},
      },
    },
    Outputs: {
      ForwardingRuleArn: { Condition: 'Forwards', Value: getAtt('ForwardingRule', 'Arn') },
      HomeEventBusArn: { Value: sub(HOME_BUS) },
    },
  };
};
