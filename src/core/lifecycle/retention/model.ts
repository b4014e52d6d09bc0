import { badRequest } from '../../iam/rules.js';
import { repositoryDecorations, requireSelector, tagDecorations, type Selector } from '../selectors.js';

/**
 * Harbor's tag retention policy (src/pkg/retention/policy): one per project, algorithm "or", up to 15
 * rules. Each rule picks repositories (scope selectors), then artifacts by tag (tag selectors), then
 * retains some of those by its template; everything a repository's rules do not retain is deleted.
 */
export const retentionTemplates = [
  'latestPushedK',
  'latestPulledN',
  'nDaysSinceLastPush',
  'nDaysSinceLastPull',
  'always',
] as const;
export type RetentionTemplate = (typeof retentionTemplates)[number];

export const maxRetentionRules = 15;

export interface RetentionRule {
  id: number;
  priority: number;
  disabled: boolean;
  action: 'retain';
  template: RetentionTemplate;
  /** The template's parameter under the template's own name, e.g. `{"latestPushedK": 10}`. */
  params: Record<string, unknown>;
  tag_selectors: Selector[];
  scope_selectors: { repository: Selector[] };
}

export interface RetentionTrigger {
  kind: string;
  settings: { cron?: string };
  references?: Record<string, unknown>;
}

/** The policy as Harbor's API writes it (`scope.ref` is the project id). */
export interface RetentionPolicy {
  algorithm: 'or';
  rules: RetentionRule[];
  trigger: RetentionTrigger;
  scope: { level: 'project'; ref: number };
}

/** A stored policy. */
export interface StoredRetentionPolicy {
  id: number;
  projectId: number;
  policy: RetentionPolicy;
  createdAt: Date;
  updatedAt: Date;
}

/** Harbor's defaults when a parameter is missing or unreadable. */
const defaults: Record<RetentionTemplate, number> = {
  latestPushedK: 10,
  latestPulledN: 10,
  nDaysSinceLastPush: 30,
  nDaysSinceLastPull: 30,
  always: 0,
};

/** Harbor's upper bounds: counts below 2^15, days up to 20190904 (sic). */
const maxima: Record<RetentionTemplate, number> = {
  latestPushedK: 32_766,
  latestPulledN: 32_766,
  nDaysSinceLastPush: 20_190_904,
  nDaysSinceLastPull: 20_190_904,
  always: 0,
};

export function isTemplate(value: string): value is RetentionTemplate {
  return (retentionTemplates as readonly string[]).includes(value);
}

/** The rule's number (K, N or days), Harbor's default when it is missing or not a non-negative integer. */
export function ruleParameter(rule: RetentionRule): number {
  const value = rule.params[rule.template];
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : defaults[rule.template];
}

/** Validates a policy as Harbor does, throwing BAD_REQUEST with the first problem. */
export function requireValidPolicy(policy: RetentionPolicy): void {
  if (policy.algorithm !== 'or') throw badRequest('algorithm must be "or"');
  if (policy.scope.level !== 'project') throw badRequest('scope.level must be "project"');
  if (policy.rules.length > maxRetentionRules) {
    throw badRequest(`a policy has at most ${maxRetentionRules} rules`);
  }
  const trigger = policy.trigger.kind.toLowerCase();
  if (trigger !== 'schedule' && trigger !== 'manual' && trigger !== '') {
    throw badRequest('trigger.kind must be "Schedule"');
  }
  const cron = policy.trigger.settings.cron;
  if (cron !== undefined && cron !== '' && cron.trim().split(/\s+/).length < 5) {
    throw badRequest('trigger.settings.cron must be a cron expression (6 fields, seconds first)');
  }
  const seen = new Set<string>();
  policy.rules.forEach((rule, i) => {
    const where = `rules[${i}]`;
    if (!isTemplate(rule.template))
      throw badRequest(`${where}: unknown template ${String(rule.template).slice(0, 50)}`);
    if (rule.action !== 'retain') throw badRequest(`${where}: action must be "retain"`);
    if (rule.template !== 'always') {
      const raw = rule.params[rule.template];
      if (raw !== undefined) {
        const n = typeof raw === 'string' ? Number(raw) : raw;
        if (typeof n !== 'number' || !Number.isInteger(n)) {
          throw badRequest(`${where}: ${rule.template} must be an integer`);
        }
        if (n < 0) throw badRequest(`${where}: ${rule.template} is less than zero`);
        if (n > maxima[rule.template]) throw badRequest(`${where}: ${rule.template} is too large`);
      }
    }
    rule.tag_selectors.forEach((s, j) => requireSelector(s, tagDecorations, `${where}.tag_selectors[${j}]`));
    const scopes = rule.scope_selectors.repository;
    if (scopes.length === 0) throw badRequest(`${where}: scope_selectors.repository is required`);
    scopes.forEach((s, j) =>
      requireSelector(s, repositoryDecorations, `${where}.scope_selectors.repository[${j}]`),
    );
    const key = JSON.stringify({ ...rule, id: 0, priority: 0 });
    if (seen.has(key)) throw badRequest(`${where}: the rule is a duplicate of another one`);
    seen.add(key);
  });
}

/** Gives rules without an id the next free ones (1, 2, ...), as Harbor numbers them. */
export function numberRules(rules: RetentionRule[]): RetentionRule[] {
  let next = Math.max(0, ...rules.map((r) => r.id)) + 1;
  return rules.map((rule) => (rule.id > 0 ? rule : { ...rule, id: next++ }));
}
