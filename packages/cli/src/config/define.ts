import type { AwsServices } from '@riposte/actions';
import type { ActionDefinition, EngineMode } from '@riposte/core';

/**
 * Where playbooks come from: a directory, a playbook file, a glob (`playbooks/**\/*.yaml`) or an
 * installed package that ships playbooks (`@riposte/rules`), optionally narrowed by playbook name.
 */
export type PlaybookSource =
  | string
  | {
      from: string;
      /** Only these playbooks of the source (by name). */
      include?: string[];
      /** Every playbook of the source but these (by name). */
      exclude?: string[];
    };

/** The settings the deployed function reads from its environment; they become the template's defaults. */
export interface FunctionSettings {
  /** `dry-run` plans and reports; `enforce` remediates. Default `dry-run`. */
  mode?: EngineMode;
  /** The SNS topic notify publishes to when a playbook names none, and forgeries are reported to. */
  topicArn?: string;
  /** Account ids the function may act in besides its own. */
  accounts?: string[];
  /** Every account of this organization may be acted in. */
  organizationId?: string;
  /** IAM role and user ARN patterns no action may change (`arn:aws:iam::*:role/breakglass-*`). */
  protectedPrincipals?: string[];
  /** The role assumed in member accounts for their findings (name, with its path if any). */
  memberRole?: string;
  limits?: {
    /** Circuit breaker: resources changed per account over a rolling hour before steps are held. */
    maxTargetsPerHour?: number;
  };
}

/** The default export of `riposte.config.mjs`. Every `riposte` command reads it. */
export interface RiposteConfig extends FunctionSettings {
  /** Default: `['@riposte/rules']`, the shipped playbooks. */
  playbooks?: PlaybookSource[];
  /**
   * Custom actions, registered beside the built-ins; the playbooks may use them by name. Each has its
   * own params type (`defineAction<Params>`); the registry checks params against its schema.
   */
  actions?: ActionDefinition<object, AwsServices>[];
  /** Where `riposte build` writes and `riposte template` reads the function. Default `dist/riposte`. */
  outDir?: string;
}

/** Types a configuration; it returns its argument unchanged. */
export const defineConfig = (config: RiposteConfig): RiposteConfig => config;
