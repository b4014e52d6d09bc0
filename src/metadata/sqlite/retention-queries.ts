import type { Database, Statement } from 'better-sqlite3';
import type { ImmutableRule, ImmutableRuleSpec } from '../../core/lifecycle/immutable/model.js';
import type { RetentionPolicy, StoredRetentionPolicy } from '../../core/lifecycle/retention/model.js';
import type { Digest } from '../../core/oci/digest.js';
import type {
  Counted,
  ImmutableRuleStore,
  MetadataScope,
  OffsetQuery,
  RetentionArtifact,
  RetentionExecution,
  RetentionStatus,
  RetentionStore,
  RetentionTask,
} from '../../core/ports.js';

interface PolicyRow {
  id: number;
  project_id: number;
  body: string;
  created_at: number;
  updated_at: number;
}

interface ExecutionRow {
  id: number;
  policy_id: number;
  status: RetentionStatus;
  trigger: string;
  dry_run: number;
  start_time: number;
  end_time: number | null;
}

interface TaskRow {
  id: number;
  execution_id: number;
  repository: string;
  status: RetentionStatus;
  start_time: number;
  end_time: number | null;
  total: number;
  retained: number;
}

interface ArtifactRow {
  digest: string;
  media_type: string;
  subject: string | null;
  created_at: number;
  pulled_at: number | null;
  referenced: number;
}

const taskColumns = 'id, execution_id, repository, status, start_time, end_time, total, retained';

/** The SQL of the retention and immutable tag rule sub-stores, on one connection (synchronous). */
export class SqliteRetentionQueries {
  private readonly s: Record<string, Statement>;

  constructor(db: Database) {
    const prepare = (sql: string) => db.prepare(sql);
    this.s = {
      policyInsert: prepare(
        'INSERT INTO retention_policies (project_id, body, created_at, updated_at) VALUES (?, ?, ?, ?)',
      ),
      policyGet: prepare('SELECT * FROM retention_policies WHERE id = ?'),
      policyUpdate: prepare('UPDATE retention_policies SET body = ?, updated_at = ? WHERE id = ?'),
      policyDelete: prepare('DELETE FROM retention_policies WHERE id = ?'),
      policyList: prepare('SELECT * FROM retention_policies ORDER BY id'),
      executionInsert: prepare(
        `INSERT INTO retention_executions (policy_id, status, trigger, dry_run, start_time, end_time)
         VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      executionGet: prepare('SELECT * FROM retention_executions WHERE id = ?'),
      executionList: prepare(
        'SELECT * FROM retention_executions WHERE policy_id = ? ORDER BY id DESC LIMIT ? OFFSET ?',
      ),
      executionCount: prepare('SELECT count(*) FROM retention_executions WHERE policy_id = ?'),
      executionFinish: prepare(
        "UPDATE retention_executions SET status = ?, end_time = ? WHERE id = ? AND status = 'Running'",
      ),
      taskInsert: prepare(
        `INSERT INTO retention_tasks (execution_id, repository, status, start_time, end_time, total, retained)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      taskUpdate: prepare(
        'UPDATE retention_tasks SET status = ?, end_time = ?, total = ?, retained = ?, log = ? WHERE id = ?',
      ),
      taskGet: prepare(`SELECT ${taskColumns} FROM retention_tasks WHERE id = ?`),
      taskList: prepare(
        `SELECT ${taskColumns} FROM retention_tasks WHERE execution_id = ? ORDER BY id LIMIT ? OFFSET ?`,
      ),
      taskCount: prepare('SELECT count(*) FROM retention_tasks WHERE execution_id = ?'),
      taskLog: prepare('SELECT log FROM retention_tasks WHERE id = ?'),
      artifacts: prepare(
        `SELECT m.digest, m.media_type, m.subject, m.created_at, m.pulled_at,
           EXISTS (SELECT 1 FROM manifest_references mr WHERE mr.repository_id = m.repository_id
             AND mr.child_digest = m.digest AND mr.kind = 'manifest') AS referenced
         FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.name = ?
         ORDER BY m.created_at DESC, m.digest`,
      ),
      artifactTags: prepare(
        `SELECT t.manifest_digest, t.name, t.updated_at FROM tags t JOIN repositories r ON r.id = t.repository_id
         WHERE r.name = ? ORDER BY t.name`,
      ),
      ruleList: prepare('SELECT id, project_id, body FROM immutable_rules WHERE project_id = ? ORDER BY id'),
      ruleGet: prepare('SELECT id, project_id, body FROM immutable_rules WHERE project_id = ? AND id = ?'),
      ruleInsert: prepare('INSERT INTO immutable_rules (project_id, body) VALUES (?, ?)'),
      ruleUpdate: prepare('UPDATE immutable_rules SET body = ? WHERE project_id = ? AND id = ?'),
      ruleDelete: prepare('DELETE FROM immutable_rules WHERE project_id = ? AND id = ?'),
    };
  }

  createPolicy(projectId: number, policy: RetentionPolicy, at: Date): StoredRetentionPolicy {
    const info = this.s.policyInsert!.run(projectId, JSON.stringify(policy), at.getTime(), at.getTime());
    return { id: Number(info.lastInsertRowid), projectId, policy, createdAt: at, updatedAt: at };
  }

  getPolicy(id: number): StoredRetentionPolicy | undefined {
    const row = this.s.policyGet!.get(id) as PolicyRow | undefined;
    return row && policyOf(row);
  }

  updatePolicy(id: number, policy: RetentionPolicy, at: Date): boolean {
    return this.s.policyUpdate!.run(JSON.stringify(policy), at.getTime(), id).changes > 0;
  }

  deletePolicy(id: number): boolean {
    return this.s.policyDelete!.run(id).changes > 0;
  }

  listPolicies(): StoredRetentionPolicy[] {
    return (this.s.policyList!.all() as PolicyRow[]).map(policyOf);
  }

  createExecution(e: Omit<RetentionExecution, 'id'>): RetentionExecution {
    const info = this.s.executionInsert!.run(
      e.policyId,
      e.status,
      e.trigger,
      e.dryRun ? 1 : 0,
      e.startTime.getTime(),
      e.endTime?.getTime() ?? null,
    );
    return { ...e, id: Number(info.lastInsertRowid) };
  }

  getExecution(id: number): RetentionExecution | undefined {
    const row = this.s.executionGet!.get(id) as ExecutionRow | undefined;
    return row && executionOf(row);
  }

  listExecutions(policyId: number, query: OffsetQuery): Counted<RetentionExecution> {
    const rows = this.s.executionList!.all(policyId, query.limit, query.offset) as ExecutionRow[];
    const total = this.s.executionCount!.pluck().get(policyId) as number;
    return { items: rows.map(executionOf), total };
  }

  finishExecution(id: number, status: RetentionStatus, at: Date): boolean {
    return this.s.executionFinish!.run(status, at.getTime(), id).changes > 0;
  }

  createTask(t: Omit<RetentionTask, 'id'>): RetentionTask {
    const info = this.s.taskInsert!.run(
      t.executionId,
      t.repository,
      t.status,
      t.startTime.getTime(),
      t.endTime?.getTime() ?? null,
      t.total,
      t.retained,
    );
    return { ...t, id: Number(info.lastInsertRowid) };
  }

  updateTask(id: number, p: Parameters<RetentionStore['updateTask']>[1]): boolean {
    return (
      this.s.taskUpdate!.run(p.status, p.endTime?.getTime() ?? null, p.total, p.retained, p.log, id).changes >
      0
    );
  }

  getTask(id: number): RetentionTask | undefined {
    const row = this.s.taskGet!.get(id) as TaskRow | undefined;
    return row && taskOf(row);
  }

  listTasks(executionId: number, query: OffsetQuery): Counted<RetentionTask> {
    const rows = this.s.taskList!.all(executionId, query.limit, query.offset) as TaskRow[];
    const total = this.s.taskCount!.pluck().get(executionId) as number;
    return { items: rows.map(taskOf), total };
  }

  taskLog(id: number): string | undefined {
    return this.s.taskLog!.pluck().get(id) as string | undefined;
  }

  artifacts(repository: string): RetentionArtifact[] {
    const tags = new Map<string, { name: string; updatedAt: Date }[]>();
    const tagRows = this.s.artifactTags!.all(repository) as {
      manifest_digest: string;
      name: string;
      updated_at: number;
    }[];
    for (const row of tagRows) {
      const list = tags.get(row.manifest_digest) ?? [];
      list.push({ name: row.name, updatedAt: new Date(row.updated_at) });
      tags.set(row.manifest_digest, list);
    }
    return (this.s.artifacts!.all(repository) as ArtifactRow[]).map((row) => ({
      digest: row.digest as Digest,
      mediaType: row.media_type,
      ...(row.subject !== null && { subject: row.subject as Digest }),
      createdAt: new Date(row.created_at),
      ...(row.pulled_at !== null && { pulledAt: new Date(row.pulled_at) }),
      tags: tags.get(row.digest) ?? [],
      referenced: row.referenced === 1,
    }));
  }

  ruleList(projectId: number): ImmutableRule[] {
    return (this.s.ruleList!.all(projectId) as RuleRow[]).map(ruleOf);
  }

  ruleGet(projectId: number, id: number): ImmutableRule | undefined {
    const row = this.s.ruleGet!.get(projectId, id) as RuleRow | undefined;
    return row && ruleOf(row);
  }

  ruleCreate(projectId: number, rule: ImmutableRuleSpec): ImmutableRule {
    const info = this.s.ruleInsert!.run(projectId, JSON.stringify(rule));
    return { ...rule, id: Number(info.lastInsertRowid), projectId };
  }

  ruleUpdate(projectId: number, id: number, rule: ImmutableRuleSpec): boolean {
    return this.s.ruleUpdate!.run(JSON.stringify(rule), projectId, id).changes > 0;
  }

  ruleDelete(projectId: number, id: number): boolean {
    return this.s.ruleDelete!.run(projectId, id).changes > 0;
  }
}

interface RuleRow {
  id: number;
  project_id: number;
  body: string;
}

function policyOf(row: PolicyRow): StoredRetentionPolicy {
  return {
    id: row.id,
    projectId: row.project_id,
    policy: JSON.parse(row.body) as RetentionPolicy,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}

function executionOf(row: ExecutionRow): RetentionExecution {
  return {
    id: row.id,
    policyId: row.policy_id,
    status: row.status,
    trigger: row.trigger,
    dryRun: row.dry_run === 1,
    startTime: new Date(row.start_time),
    ...(row.end_time !== null && { endTime: new Date(row.end_time) }),
  };
}

function taskOf(row: TaskRow): RetentionTask {
  return {
    id: row.id,
    executionId: row.execution_id,
    repository: row.repository,
    status: row.status,
    startTime: new Date(row.start_time),
    ...(row.end_time !== null && { endTime: new Date(row.end_time) }),
    total: row.total,
    retained: row.retained,
  };
}

function ruleOf(row: RuleRow): ImmutableRule {
  return { ...(JSON.parse(row.body) as ImmutableRuleSpec), id: row.id, projectId: row.project_id };
}

type Lifecycle = Pick<MetadataScope, 'retention' | 'immutableRules'>;

/** The async sub-stores over one connection's queries. */
export function lifecycleScope(q: SqliteRetentionQueries): Lifecycle {
  const lift =
    <A extends unknown[], R>(fn: (...args: A) => R) =>
    (...args: A): Promise<R> =>
      new Promise<R>((resolve) => resolve(fn(...args)));
  const retention: RetentionStore = {
    createPolicy: lift(q.createPolicy.bind(q)),
    getPolicy: lift(q.getPolicy.bind(q)),
    updatePolicy: lift(q.updatePolicy.bind(q)),
    deletePolicy: lift(q.deletePolicy.bind(q)),
    listPolicies: lift(q.listPolicies.bind(q)),
    createExecution: lift(q.createExecution.bind(q)),
    getExecution: lift(q.getExecution.bind(q)),
    listExecutions: lift(q.listExecutions.bind(q)),
    finishExecution: lift(q.finishExecution.bind(q)),
    createTask: lift(q.createTask.bind(q)),
    updateTask: lift(q.updateTask.bind(q)),
    getTask: lift(q.getTask.bind(q)),
    listTasks: lift(q.listTasks.bind(q)),
    taskLog: lift(q.taskLog.bind(q)),
    artifacts: lift(q.artifacts.bind(q)),
  };
  const immutableRules: ImmutableRuleStore = {
    list: lift(q.ruleList.bind(q)),
    get: lift(q.ruleGet.bind(q)),
    create: lift(q.ruleCreate.bind(q)),
    update: lift(q.ruleUpdate.bind(q)),
    delete: lift(q.ruleDelete.bind(q)),
  };
  return { retention, immutableRules };
}

/** Reads on the reader connection; each write as its own transaction on the writer. */
export function lifecycleStores(
  reads: Lifecycle,
  inTx: <R>(fn: (tx: MetadataScope) => Promise<R>) => Promise<R>,
): Lifecycle {
  const r = reads.retention;
  return {
    retention: {
      ...r,
      createPolicy: (p, policy, at) => inTx((tx) => tx.retention.createPolicy(p, policy, at)),
      updatePolicy: (id, policy, at) => inTx((tx) => tx.retention.updatePolicy(id, policy, at)),
      deletePolicy: (id) => inTx((tx) => tx.retention.deletePolicy(id)),
      createExecution: (e) => inTx((tx) => tx.retention.createExecution(e)),
      finishExecution: (id, s, at) => inTx((tx) => tx.retention.finishExecution(id, s, at)),
      createTask: (t) => inTx((tx) => tx.retention.createTask(t)),
      updateTask: (id, p) => inTx((tx) => tx.retention.updateTask(id, p)),
    },
    immutableRules: {
      ...reads.immutableRules,
      create: (p, rule) => inTx((tx) => tx.immutableRules.create(p, rule)),
      update: (p, id, rule) => inTx((tx) => tx.immutableRules.update(p, id, rule)),
      delete: (p, id) => inTx((tx) => tx.immutableRules.delete(p, id)),
    },
  };
}
