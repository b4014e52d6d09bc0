import { z } from 'zod';
import type { ImmutableRule } from '../../core/lifecycle/immutable/model.js';
import { retentionTemplates, type StoredRetentionPolicy } from '../../core/lifecycle/retention/model.js';
import type { RetentionExecution, RetentionTask } from '../../core/ports.js';

/** Request and response shapes of `/retentions` and `/immutabletagrules`, in Harbor's field names. */

const time = z.string().describe('RFC 3339 date-time');

export const selectorSchema = z.object({
  kind: z.string().max(50).describe('doublestar or regex'),
  decoration: z.string().max(50).describe('matches/excludes (tags), repoMatches/repoExcludes (repositories)'),
  pattern: z.string().max(255).default(''),
  // Harbor sends extras as JSON text; an object is accepted too and kept as text.
  extras: z
    .union([z.string().max(1000), z.record(z.string(), z.unknown())])
    .optional()
    .transform((v) => (v !== undefined && typeof v !== 'string' ? JSON.stringify(v) : v))
    .describe('JSON text, e.g. {"untagged":true}'),
});

const scopeSelectors = z.object({ repository: z.array(selectorSchema).max(10) });

export const retentionRuleSchema = z.object({
  id: z.number().int().min(0).default(0),
  priority: z.number().int().default(0),
  disabled: z.boolean().default(false),
  action: z.literal('retain').default('retain'),
  template: z.enum(retentionTemplates),
  params: z.record(z.string(), z.unknown()).default({}),
  tag_selectors: z.array(selectorSchema).max(10).default([]),
  scope_selectors: scopeSelectors,
});

export const retentionPolicySchema = z.object({
  id: z.number().int().optional().describe('Ignored on write'),
  algorithm: z.literal('or').default('or'),
  rules: z.array(retentionRuleSchema).max(15).default([]),
  trigger: z
    .object({
      kind: z.string().max(50).default('Schedule'),
      settings: z.object({ cron: z.string().max(100).optional() }).default({}),
      references: z.record(z.string(), z.unknown()).optional(),
    })
    .default({ kind: 'Schedule', settings: {} }),
  scope: z.object({ level: z.literal('project'), ref: z.number().int().min(1) }),
});

/** The seed workflow's per-repository body: rules without scope selectors (the URL gives the scope). */
export const repositoryRetentionSchema = z.object({
  rules: z
    .array(retentionRuleSchema.omit({ scope_selectors: true }))
    .min(1)
    .max(15),
});

export const retentionExecutionSchema = z.object({
  id: z.number().int(),
  policy_id: z.number().int(),
  start_time: time,
  end_time: time.optional(),
  status: z.string(),
  trigger: z.string(),
  dry_run: z.boolean(),
});

export const retentionTaskSchema = z.object({
  id: z.number().int(),
  execution_id: z.number().int(),
  repository: z.string(),
  job_id: z.string(),
  status: z.string(),
  status_code: z.number().int(),
  status_revision: z.number().int(),
  start_time: time,
  end_time: time.optional(),
  total: z.number().int(),
  retained: z.number().int(),
});

export const immutableRuleSchema = z.object({
  id: z.number().int().optional(),
  project_id: z.number().int().optional(),
  priority: z.number().int().default(0),
  disabled: z.boolean().default(false),
  action: z.string().max(50).default('immutable'),
  template: z.string().max(50).default('immutable_template'),
  params: z.record(z.string(), z.unknown()).default({}),
  tag_selectors: z.array(selectorSchema).min(1).max(10),
  scope_selectors: scopeSelectors,
});

export const retentionMetadata = {
  templates: [
    ['latestPushedK', 'the most recently pushed # artifacts', 'COUNT'],
    ['latestPulledN', 'the most recently pulled # artifacts', 'COUNT'],
    ['nDaysSinceLastPush', 'pushed within the last # days', 'DAYS'],
    ['nDaysSinceLastPull', 'pulled within the last # days', 'DAYS'],
    ['always', 'always', undefined],
  ].map(([template, text, unit]) => ({
    rule_template: template,
    display_text: text,
    action: 'retain',
    params: unit === undefined ? [] : [{ type: 'int', unit, required: true }],
  })),
  scope_selectors: [
    { display_text: 'Repositories', kind: 'doublestar', decorations: ['repoMatches', 'repoExcludes'] },
    {
      display_text: 'Repositories (regular expression)',
      kind: 'regex',
      decorations: ['repoMatches', 'repoExcludes'],
    },
  ],
  tag_selectors: [
    { display_text: 'Tags', kind: 'doublestar', decorations: ['matches', 'excludes'] },
    { display_text: 'Tags (regular expression)', kind: 'regex', decorations: ['matches', 'excludes'] },
  ],
};

export function retentionPolicyJson(stored: StoredRetentionPolicy): unknown {
  return { id: stored.id, ...stored.policy };
}

export function retentionExecutionJson(e: RetentionExecution): z.infer<typeof retentionExecutionSchema> {
  return {
    id: e.id,
    policy_id: e.policyId,
    start_time: e.startTime.toISOString(),
    ...(e.endTime !== undefined && { end_time: e.endTime.toISOString() }),
    status: e.status,
    trigger: e.trigger,
    dry_run: e.dryRun,
  };
}

export function retentionTaskJson(t: RetentionTask): z.infer<typeof retentionTaskSchema> {
  return {
    id: t.id,
    execution_id: t.executionId,
    repository: t.repository,
    job_id: '',
    status: t.status,
    status_code: 0,
    status_revision: 0,
    start_time: t.startTime.toISOString(),
    ...(t.endTime !== undefined && { end_time: t.endTime.toISOString() }),
    total: t.total,
    retained: t.retained,
  };
}

export function immutableRuleJson(rule: ImmutableRule): unknown {
  const { projectId, ...rest } = rule;
  return { ...rest, project_id: projectId };
}
