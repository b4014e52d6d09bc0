import type { ImmutableRule, ImmutableRuleSpec } from '../../core/lifecycle/immutable/model.js';
import type { RetentionPolicy, StoredRetentionPolicy } from '../../core/lifecycle/retention/model.js';
import type { Digest } from '../../core/oci/digest.js';
import type {
  Counted,
  MetadataScope,
  OffsetQuery,
  RetentionArtifact,
  RetentionExecution,
  RetentionStatus,
  RetentionStore,
  RetentionTask,
} from '../../core/ports.js';
import type { Queryable } from './queries.js';

// bigint ids come back as strings; json columns are parsed by pg.

interface PolicyRow {
  id: string;
  project_id: string;
  body: RetentionPolicy;
  created_at: Date;
  updated_at: Date;
}

interface ExecutionRow {
  id: string;
  policy_id: string;
  status: RetentionStatus;
  trigger: string;
  dry_run: boolean;
  start_time: Date;
  end_time: Date | null;
}

interface TaskRow {
  id: string;
  execution_id: string;
  repository: string;
  status: RetentionStatus;
  start_time: Date;
  end_time: Date | null;
  total: number;
  retained: number;
}

interface RuleRow {
  id: string;
  project_id: string;
  body: ImmutableRuleSpec;
}

const taskColumns = 'id, execution_id, repository, status, start_time, end_time, total, retained';

/**
 * The retention and immutable tag rule sub-stores on one Queryable. Every write is one statement, so it
 * is atomic on the pool as well as inside a transaction; none takes a repository lock.
 */
export class PostgresRetentionQueries {
  constructor(private readonly db: Queryable) {}

  async createPolicy(projectId: number, policy: RetentionPolicy, at: Date): Promise<StoredRetentionPolicy> {
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO retention_policies (project_id, body, created_at, updated_at) VALUES ($1, $2, $3, $3)
       RETURNING id`,
      [projectId, JSON.stringify(policy), at],
    );
    return { id: Number(rows[0]!.id), projectId, policy, createdAt: at, updatedAt: at };
  }

  async getPolicy(id: number): Promise<StoredRetentionPolicy | undefined> {
    const { rows } = await this.db.query<PolicyRow>('SELECT * FROM retention_policies WHERE id = $1', [id]);
    return rows[0] && policyOf(rows[0]);
  }

  async updatePolicy(id: number, policy: RetentionPolicy, at: Date): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE retention_policies SET body = $1, updated_at = $2 WHERE id = $3',
      [JSON.stringify(policy), at, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async deletePolicy(id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM retention_policies WHERE id = $1', [id]);
    return (result.rowCount ?? 0) > 0;
  }

  async listPolicies(): Promise<StoredRetentionPolicy[]> {
    const { rows } = await this.db.query<PolicyRow>('SELECT * FROM retention_policies ORDER BY id');
    return rows.map(policyOf);
  }

  async createExecution(e: Omit<RetentionExecution, 'id'>): Promise<RetentionExecution> {
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO retention_executions (policy_id, status, trigger, dry_run, start_time, end_time)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [e.policyId, e.status, e.trigger, e.dryRun, e.startTime, e.endTime ?? null],
    );
    return { ...e, id: Number(rows[0]!.id) };
  }

  async getExecution(id: number): Promise<RetentionExecution | undefined> {
    const { rows } = await this.db.query<ExecutionRow>('SELECT * FROM retention_executions WHERE id = $1', [
      id,
    ]);
    return rows[0] && executionOf(rows[0]);
  }

  async listExecutions(policyId: number, query: OffsetQuery): Promise<Counted<RetentionExecution>> {
    const { rows } = await this.db.query<ExecutionRow>(
      'SELECT * FROM retention_executions WHERE policy_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3',
      [policyId, query.limit, query.offset],
    );
    const count = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM retention_executions WHERE policy_id = $1',
      [policyId],
    );
    return { items: rows.map(executionOf), total: Number(count.rows[0]!.n) };
  }

  async finishExecution(id: number, status: RetentionStatus, at: Date): Promise<boolean> {
    const result = await this.db.query(
      "UPDATE retention_executions SET status = $1, end_time = $2 WHERE id = $3 AND status = 'Running'",
      [status, at, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async createTask(t: Omit<RetentionTask, 'id'>): Promise<RetentionTask> {
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO retention_tasks (execution_id, repository, status, start_time, end_time, total, retained)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [t.executionId, t.repository, t.status, t.startTime, t.endTime ?? null, t.total, t.retained],
    );
    return { ...t, id: Number(rows[0]!.id) };
  }

  async updateTask(id: number, p: Parameters<RetentionStore['updateTask']>[1]): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE retention_tasks SET status = $1, end_time = $2, total = $3, retained = $4, log = $5 WHERE id = $6',
      [p.status, p.endTime ?? null, p.total, p.retained, p.log, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async getTask(id: number): Promise<RetentionTask | undefined> {
    const { rows } = await this.db.query<TaskRow>(
      `SELECT ${taskColumns} FROM retention_tasks WHERE id = $1`,
      [id],
    );
    return rows[0] && taskOf(rows[0]);
  }

  async listTasks(executionId: number, query: OffsetQuery): Promise<Counted<RetentionTask>> {
    const { rows } = await this.db.query<TaskRow>(
      `SELECT ${taskColumns} FROM retention_tasks WHERE execution_id = $1 ORDER BY id LIMIT $2 OFFSET $3`,
      [executionId, query.limit, query.offset],
    );
    const count = await this.db.query<{ n: string }>(
      'SELECT count(*) AS n FROM retention_tasks WHERE execution_id = $1',
      [executionId],
    );
    return { items: rows.map(taskOf), total: Number(count.rows[0]!.n) };
  }

  async taskLog(id: number): Promise<string | undefined> {
    const { rows } = await this.db.query<{ log: string }>('SELECT log FROM retention_tasks WHERE id = $1', [
      id,
    ]);
    return rows[0]?.log;
  }

  async artifacts(repository: string): Promise<RetentionArtifact[]> {
    const tagRows = await this.db.query<{ manifest_digest: string; name: string; updated_at: Date }>(
      `SELECT t.manifest_digest, t.name, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
       WHERE r.name = $1 ORDER BY t.name`,
      [repository],
    );
    const tags = new Map<string, { name: string; updatedAt: Date }[]>();
    for (const row of tagRows.rows) {
      const list = tags.get(row.manifest_digest) ?? [];
      list.push({ name: row.name, updatedAt: row.updated_at });
      tags.set(row.manifest_digest, list);
    }
    const { rows } = await this.db.query<{
      digest: string;
      media_type: string;
      subject: string | null;
      created_at: Date;
      pulled_at: Date | null;
      referenced: boolean;
    }>(
      `SELECT m.digest, m.media_type, m.subject, m.created_at, m.pulled_at,
         EXISTS (SELECT 1 FROM manifest_references mr WHERE mr.repository_id = m.repository_id
           AND mr.child_digest = m.digest AND mr.kind = 'manifest') AS referenced
       FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = $1
       ORDER BY m.created_at DESC, m.digest`,
      [repository],
    );
    return rows.map((row) => ({
      digest: row.digest as Digest,
      mediaType: row.media_type,
      ...(row.subject !== null && { subject: row.subject as Digest }),
      createdAt: row.created_at,
      ...(row.pulled_at !== null && { pulledAt: row.pulled_at }),
      tags: tags.get(row.digest) ?? [],
      referenced: row.referenced,
    }));
  }

  async ruleList(projectId: number): Promise<ImmutableRule[]> {
    const { rows } = await this.db.query<RuleRow>(
      'SELECT id, project_id, body FROM immutable_rules WHERE project_id = $1 ORDER BY id',
      [projectId],
    );
    return rows.map(ruleOf);
  }

  async ruleGet(projectId: number, id: number): Promise<ImmutableRule | undefined> {
    const { rows } = await this.db.query<RuleRow>(
      'SELECT id, project_id, body FROM immutable_rules WHERE project_id = $1 AND id = $2',
      [projectId, id],
    );
    return rows[0] && ruleOf(rows[0]);
  }

  async ruleCreate(projectId: number, rule: ImmutableRuleSpec): Promise<ImmutableRule> {
    const { rows } = await this.db.query<{ id: string }>(
      'INSERT INTO immutable_rules (project_id, body) VALUES ($1, $2) RETURNING id',
      [projectId, JSON.stringify(rule)],
    );
    return { ...rule, id: Number(rows[0]!.id), projectId };
  }

  async ruleUpdate(projectId: number, id: number, rule: ImmutableRuleSpec): Promise<boolean> {
    const result = await this.db.query(
      'UPDATE immutable_rules SET body = $1 WHERE project_id = $2 AND id = $3',
      [JSON.stringify(rule), projectId, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async ruleDelete(projectId: number, id: number): Promise<boolean> {
    const result = await this.db.query('DELETE FROM immutable_rules WHERE project_id = $1 AND id = $2', [
      projectId,
      id,
    ]);
    return (result.rowCount ?? 0) > 0;
  }
}

function policyOf(row: PolicyRow): StoredRetentionPolicy {
  return {
    id: Number(row.id),
    projectId: Number(row.project_id),
    policy: row.body,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function executionOf(row: ExecutionRow): RetentionExecution {
  return {
    id: Number(row.id),
    policyId: Number(row.policy_id),
    status: row.status,
    trigger: row.trigger,
    dryRun: row.dry_run,
    startTime: row.start_time,
    ...(row.end_time !== null && { endTime: row.end_time }),
  };
}

function taskOf(row: TaskRow): RetentionTask {
  return {
    id: Number(row.id),
    executionId: Number(row.execution_id),
    repository: row.repository,
    status: row.status,
    startTime: row.start_time,
    ...(row.end_time !== null && { endTime: row.end_time }),
    total: row.total,
    retained: row.retained,
  };
}

function ruleOf(row: RuleRow): ImmutableRule {
  return { ...row.body, id: Number(row.id), projectId: Number(row.project_id) };
}

/** The two sub-stores over one Queryable. */
export function lifecycleScope(
  q: PostgresRetentionQueries,
): Pick<MetadataScope, 'retention' | 'immutableRules'> {
  return {
    retention: {
      createPolicy: q.createPolicy.bind(q),
      getPolicy: q.getPolicy.bind(q),
      updatePolicy: q.updatePolicy.bind(q),
      deletePolicy: q.deletePolicy.bind(q),
      listPolicies: q.listPolicies.bind(q),
      createExecution: q.createExecution.bind(q),
      getExecution: q.getExecution.bind(q),
      listExecutions: q.listExecutions.bind(q),
      finishExecution: q.finishExecution.bind(q),
      createTask: q.createTask.bind(q),
      updateTask: q.updateTask.bind(q),
      getTask: q.getTask.bind(q),
      listTasks: q.listTasks.bind(q),
      taskLog: q.taskLog.bind(q),
      artifacts: q.artifacts.bind(q),
    },
    immutableRules: {
      list: q.ruleList.bind(q),
      get: q.ruleGet.bind(q),
      create: q.ruleCreate.bind(q),
      update: q.ruleUpdate.bind(q),
      delete: q.ruleDelete.bind(q),
    },
  };
}
