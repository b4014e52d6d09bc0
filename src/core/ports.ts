import type { Readable, Writable } from 'node:stream';
import type { Member, Project, ProjectMetadata, Robot, RobotPermission, RoleId, User } from './iam/model.js';
import type { Digest } from './oci/digest.js';
import type { ImmutableRule, ImmutableRuleSpec } from './lifecycle/immutable/model.js';
import type { RetentionPolicy, StoredRetentionPolicy } from './lifecycle/retention/model.js';

/**
 * The ports the domain needs from the outside world. Every method is async, even where the embedded
 * implementation is synchronous underneath (SQLite), so that PostgreSQL and S3 fit without changing
 * any caller. Expected outcomes are results, not exceptions.
 */

// ---------------------------------------------------------------- blobs

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** Inclusive byte range, already validated against the blob's size. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobReader {
  /** Total size of the blob (not of the range). */
  size: number;
  /** The bytes as a stream. Reading it (or calling `writeTo`) releases the underlying handle at the end. */
  stream: Readable;
  /**
   * Optional fast path: writes the bytes to `sink`, reusing its read buffers once the sink has flushed
   * them, so a download allocates no memory per chunk. Use either this or `stream`, not both.
   */
  writeTo?(sink: Writable): Promise<void>;
}

export type AppendResult =
  | { ok: true; offset: number }
  | { ok: false; reason: 'unknown-upload' }
  | { ok: false; reason: 'offset-mismatch'; offset: number };

export type CommitResult =
  | { ok: true; size: number }
  | { ok: false; reason: 'unknown-upload' }
  | { ok: false; reason: 'digest-mismatch'; actual: Digest };

/**
 * Immutable content-addressed bytes, plus the bytes of uploads in progress. A blob becomes visible only
 * when `commitUpload` has checked its digest; it is durable once the promise resolves.
 */
export interface BlobStore {
  stat(digest: Digest): Promise<BlobInfo | undefined>;
  /** Opens a blob, or a range of it. Undefined when absent. */
  open(digest: Digest, range?: ByteRange): Promise<BlobReader | undefined>;
  /** Where a client may fetch the blob directly (S3 presigned URL); undefined to stream through Berth. */
  redirectUrl?(digest: Digest): Promise<string | undefined>;
  /** Stores small content whose digest the caller has already computed (manifests). Durable on return. */
  putVerified(digest: Digest, bytes: Buffer): Promise<void>;

  startUpload(): Promise<string>;
  /**
   * Appends `source` to an upload at `offset`, which must equal the bytes already received. If the source
   * fails midway, what arrived may be kept (the offset then says how much); nothing becomes visible.
   */
  appendUpload(id: string, source: Readable, offset: number): Promise<AppendResult>;
  uploadStatus(id: string): Promise<{ offset: number } | undefined>;
  /** Verifies the upload's digest and publishes it as a blob (atomically), then forgets the upload. */
  commitUpload(id: string, expected: Digest): Promise<CommitResult>;
  cancelUpload(id: string): Promise<void>;

  delete(digest: Digest): Promise<boolean>;
  /** Every stored blob, for garbage collection. */
  list(): AsyncIterable<BlobInfo & { modifiedAt: Date }>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- metadata

export interface Page {
  /** Exclusive lower bound in byte order. */
  last?: string;
  limit: number;
}

export interface ManifestRecord {
  repository: string;
  digest: Digest;
  mediaType: string;
  size: number;
  artifactType?: string;
  subject?: Digest;
  annotations?: Record<string, string>;
  /** Push time. */
  createdAt: Date;
  /** Last pull, when pulls were recorded (see `recordPulls`). */
  pulledAt?: Date;
}

export interface ManifestWrite extends ManifestRecord {
  /** Blobs the manifest references (config, layers); each must be linked to the repository. */
  blobs: Digest[];
  /** Manifests an index references; each must exist in the repository. */
  children: Digest[];
}

export interface UploadSession {
  id: string;
  repository: string;
  startedAt: Date;
}

/** Offset paging for the management API (Harbor's `page`/`page_size`), with the total for `X-Total-Count`. */
export interface OffsetQuery {
  offset: number;
  limit: number;
}

export interface Counted<T> {
  items: T[];
  total: number;
}

export interface RepositorySummary {
  name: string;
  artifactCount: number;
  pullCount: number;
  createdAt: Date;
  /** Latest push of a manifest, else creation. */
  updatedAt: Date;
}

export interface RepositoryStore {
  exists(name: string): Promise<boolean>;
  list(page: Page): Promise<string[]>;
  /** Repositories of a project (names starting `<project>/`), by name; `q` filters by substring. */
  listInProject(project: string, query: OffsetQuery & { q?: string }): Promise<Counted<RepositorySummary>>;
  get(name: string): Promise<RepositorySummary | undefined>;
  /** Removes the repository with its manifests, tags and blob links (bytes go by garbage collection). */
  delete(name: string): Promise<boolean>;
}

export interface BlobLinkStore {
  /** The blob's size if it is linked to (pullable from) the repository. */
  get(repository: string, digest: Digest): Promise<{ size: number } | undefined>;
  /** Links a stored blob to a repository, creating the repository if needed. Idempotent. */
  link(repository: string, digest: Digest, size: number): Promise<void>;
  unlink(repository: string, digest: Digest): Promise<boolean>;
  /** Digests among `digests` that are not linked to the repository. */
  missing(repository: string, digests: Digest[]): Promise<Digest[]>;
  /** Repositories holding the blob, for automatic cross-repository mounts. */
  repositoriesHolding(digest: Digest, limit: number): Promise<string[]>;
}

export interface ManifestStore {
  get(repository: string, digest: Digest): Promise<ManifestRecord | undefined>;
  /** Inserts the manifest row and its references. Idempotent for the same digest. */
  put(manifest: ManifestWrite): Promise<void>;
  delete(repository: string, digest: Digest): Promise<boolean>;
  /** Digests among `digests` that are not manifests of the repository. */
  missing(repository: string, digests: Digest[]): Promise<Digest[]>;
  referrers(repository: string, subject: Digest, artifactType?: string): Promise<ManifestRecord[]>;
  /** Manifests of a repository, newest push first. */
  list(repository: string, query: OffsetQuery): Promise<Counted<ManifestRecord>>;
  /** Manifests an index references (its `manifests` entries). */
  children(repository: string, digest: Digest): Promise<Digest[]>;
  /** Indexes of the repository that reference the manifest. */
  parents(repository: string, digest: Digest): Promise<Digest[]>;
  /** Records pulls in one batch (pull time and count); called off the request path. */
  recordPulls(pulls: { repository: string; digest: Digest; at: Date }[]): Promise<void>;
}

export interface TagStore {
  resolve(repository: string, tag: string): Promise<Digest | undefined>;
  /** Points a tag at a manifest, returning the digest it pointed at before, if any. */
  set(repository: string, tag: string, digest: Digest, at: Date): Promise<Digest | undefined>;
  delete(repository: string, tag: string): Promise<boolean>;
  list(repository: string, page: Page): Promise<string[]>;
  /** Tags pointing at a manifest. */
  listFor(repository: string, digest: Digest): Promise<string[]>;
  deleteFor(repository: string, digest: Digest): Promise<number>;
}

export interface UploadSessionStore {
  /**
   * Relaxed durability (see `TransactionOptions`): a session lost in a crash only makes its client start
   * the upload again, as with Distribution, whose session state is not synced either.
   */
  create(session: UploadSession): Promise<void>;
  get(id: string): Promise<UploadSession | undefined>;
  delete(id: string): Promise<boolean>;
  listStartedBefore(time: Date, limit: number): Promise<UploadSession[]>;
}

// ---------------------------------------------------------------- identity and projects

/** Unique-name conflicts are expected outcomes of create calls, not exceptions. */
export type Created<T> = { ok: true; value: T } | { ok: false; reason: 'conflict' };

export interface NewUser {
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin: boolean;
  passwordHash: string;
}

export interface UserStore {
  create(user: NewUser, at: Date): Promise<Created<User>>;
  get(id: number): Promise<User | undefined>;
  getByName(username: string): Promise<User | undefined>;
  passwordHash(id: number): Promise<string | undefined>;
  /** By username; `q` filters by username substring. */
  list(query: OffsetQuery & { q?: string }): Promise<Counted<User>>;
  update(
    id: number,
    patch: Partial<Pick<NewUser, 'email' | 'realname' | 'comment' | 'sysadmin' | 'passwordHash'>>,
    at: Date,
  ): Promise<User | undefined>;
  /** Also removes the user's memberships. */
  delete(id: number): Promise<boolean>;
}

export interface NewProject {
  name: string;
  ownerId: number;
  public: boolean;
  metadata: ProjectMetadata;
  storageLimit: number;
}

export interface ProjectQuery extends OffsetQuery {
  /** Exact name. */
  name?: string;
  /** Name substring. */
  q?: string;
  public?: boolean;
  /** Only projects that are public or have this user as a member. */
  visibleTo?: number;
}

export interface ProjectStore {
  create(project: NewProject, at: Date): Promise<Created<Project>>;
  get(id: number): Promise<Project | undefined>;
  getByName(name: string): Promise<Project | undefined>;
  /** By name. */
  list(query: ProjectQuery): Promise<Counted<Project>>;
  /** `metadata` keys are merged into the existing ones. */
  update(
    id: number,
    patch: { public?: boolean; metadata?: ProjectMetadata; storageLimit?: number },
    at: Date,
  ): Promise<Project | undefined>;
  /** Also removes the project's members and robots. */
  delete(id: number): Promise<boolean>;
}

export interface MemberStore {
  /** By username; `entityName` filters by username substring. */
  list(projectId: number, query?: { entityName?: string }): Promise<Member[]>;
  get(projectId: number, memberId: number): Promise<Member | undefined>;
  roleOf(projectId: number, userId: number): Promise<RoleId | undefined>;
  add(projectId: number, userId: number, roleId: RoleId): Promise<Created<Member>>;
  update(projectId: number, memberId: number, roleId: RoleId): Promise<boolean>;
  remove(projectId: number, memberId: number): Promise<boolean>;
}

export interface NewRobot {
  /** Full name (`robot$...`). */
  name: string;
  description: string;
  level: 'system' | 'project';
  projectId?: number;
  disabled: boolean;
  duration: number;
  expiresAt?: Date;
  permissions: RobotPermission[];
  secretHash: string;
}

export interface RobotStore {
  create(robot: NewRobot, at: Date): Promise<Created<Robot>>;
  get(id: number): Promise<Robot | undefined>;
  getByName(name: string): Promise<Robot | undefined>;
  secretHash(id: number): Promise<string | undefined>;
  /** By name; `q` filters by name substring. */
  list(
    query: OffsetQuery & { projectId?: number; level?: 'system' | 'project'; q?: string },
  ): Promise<Counted<Robot>>;
  /** `expiresAt: null` clears the expiry. */
  update(
    id: number,
    patch: Partial<Pick<NewRobot, 'description' | 'disabled' | 'duration' | 'permissions' | 'secretHash'>> & {
      expiresAt?: Date | null;
    },
    at: Date,
  ): Promise<Robot | undefined>;
  delete(id: number): Promise<boolean>;
}

/** Small named values shared by every node (signing keys, bootstrap markers). */
export interface SettingStore {
  get(key: string): Promise<string | undefined>;
  /** Stores `value` unless the key exists, and returns what is stored: the first writer wins, on every node. */
  putIfAbsent(key: string, value: string): Promise<string>;
  put(key: string, value: string): Promise<void>;
}

// ---------------------------------------------------------------- retention and tag immutability

export type RetentionStatus = 'Running' | 'Success' | 'Error' | 'Stopped';

export interface RetentionExecution {
  id: number;
  policyId: number;
  status: RetentionStatus;
  /** MANUAL or SCHEDULE. */
  trigger: string;
  dryRun: boolean;
  startTime: Date;
  endTime?: Date;
}

/** One repository's part of an execution, with its log (the artifact table). */
export interface RetentionTask {
  id: number;
  executionId: number;
  repository: string;
  status: RetentionStatus;
  startTime: Date;
  endTime?: Date;
  total: number;
  retained: number;
}

/** An artifact with its tags and their times, as retention reads a repository. */
export interface RetentionArtifact {
  digest: Digest;
  mediaType: string;
  subject?: Digest;
  createdAt: Date;
  pulledAt?: Date;
  tags: { name: string; updatedAt: Date }[];
  /** An index of the repository references it. */
  referenced: boolean;
}

export interface RetentionStore {
  createPolicy(projectId: number, policy: RetentionPolicy, at: Date): Promise<StoredRetentionPolicy>;
  getPolicy(id: number): Promise<StoredRetentionPolicy | undefined>;
  updatePolicy(id: number, policy: RetentionPolicy, at: Date): Promise<boolean>;
  /** Also removes its executions and tasks. */
  deletePolicy(id: number): Promise<boolean>;
  /** Every policy, by id (the scheduler registers their crons). */
  listPolicies(): Promise<StoredRetentionPolicy[]>;
  createExecution(execution: Omit<RetentionExecution, 'id'>): Promise<RetentionExecution>;
  getExecution(id: number): Promise<RetentionExecution | undefined>;
  /** Newest first. */
  listExecutions(policyId: number, query: OffsetQuery): Promise<Counted<RetentionExecution>>;
  /** Sets the status (and end time) unless the execution already ended; false if it had. */
  finishExecution(id: number, status: RetentionStatus, at: Date): Promise<boolean>;
  createTask(task: Omit<RetentionTask, 'id'>): Promise<RetentionTask>;
  updateTask(
    id: number,
    patch: { status: RetentionStatus; endTime?: Date; total: number; retained: number; log: string },
  ): Promise<boolean>;
  getTask(id: number): Promise<RetentionTask | undefined>;
  /** By id. */
  listTasks(executionId: number, query: OffsetQuery): Promise<Counted<RetentionTask>>;
  taskLog(id: number): Promise<string | undefined>;
  /** Every manifest of a repository with its tags and tag times. */
  artifacts(repository: string): Promise<RetentionArtifact[]>;
}

export interface ImmutableRuleStore {
  /** By id. */
  list(projectId: number): Promise<ImmutableRule[]>;
  get(projectId: number, id: number): Promise<ImmutableRule | undefined>;
  create(projectId: number, rule: ImmutableRuleSpec): Promise<ImmutableRule>;
  update(projectId: number, id: number, rule: ImmutableRuleSpec): Promise<boolean>;
  delete(projectId: number, id: number): Promise<boolean>;
}

// ---------------------------------------------------------------- jobs, garbage collection, quotas

export type JobStatus = 'Pending' | 'Running' | 'Success' | 'Error' | 'Stopped' | 'Interrupted';
export type JobTrigger = 'Manual' | 'Schedule';
export type ScheduleType = 'None' | 'Manual' | 'Hourly' | 'Daily' | 'Weekly' | 'Custom';

/** One run of a background job (a history row). */
export interface JobRun {
  id: number;
  kind: string;
  status: JobStatus;
  trigger: JobTrigger;
  parameters: Record<string, unknown>;
  result?: Record<string, unknown>;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  updatedAt: Date;
}

export interface JobSchedule {
  kind: string;
  type: ScheduleType;
  /** Six-field cron (seconds first), Harbor's form; absent for None and Manual. */
  cron?: string;
  parameters: Record<string, unknown>;
  updatedAt: Date;
}

/** The right to run one job kind; held until released (or the process dies). */
export interface JobLease {
  release(): Promise<void>;
}

export interface JobStore {
  createRun(run: {
    kind: string;
    trigger: JobTrigger;
    status: JobStatus;
    parameters: Record<string, unknown>;
    at: Date;
  }): Promise<JobRun>;
  getRun(id: number): Promise<JobRun | undefined>;
  /** Newest first. */
  listRuns(kind: string, query: OffsetQuery): Promise<Counted<JobRun>>;
  /** Sets status, result and times; an ended run (Success, Error, Stopped, Interrupted) is not changed. */
  updateRun(
    id: number,
    patch: { status: JobStatus; result?: Record<string, unknown>; startedAt?: Date; endedAt?: Date },
    at: Date,
  ): Promise<boolean>;
  appendLog(id: number, text: string): Promise<void>;
  log(id: number): Promise<string | undefined>;
  /** Marks every Pending or Running run of the kind Interrupted (call while holding the kind's lease). */
  interruptRuns(kind: string, at: Date): Promise<number>;
  getSchedule(kind: string): Promise<JobSchedule | undefined>;
  putSchedule(schedule: JobSchedule): Promise<void>;
  /** Records that the schedule fired at `fireAt`; true for the one node that records it first. */
  claimFire(kind: string, fireAt: Date): Promise<boolean>;
  /** One run at a time per kind, across every node; undefined while another holds it. */
  tryLock(kind: string): Promise<JobLease | undefined>;
}

export interface UntaggedManifest {
  repository: string;
  digest: Digest;
  size: number;
  subject?: Digest;
  /** The subject is a manifest of the repository. */
  subjectPresent: boolean;
  /** Indexes of the repository that reference it. */
  parents: Digest[];
}

/**
 * Garbage collection's view of the metadata. Writers of blob bytes pin the digest first; GC condemns a
 * digest (a tombstone) only when nothing links, references or pins it, in one short transaction, and a
 * pin is refused while a live tombstone exists. See docs/architecture.md, "Garbage collection".
 */
export interface GcStore {
  /**
   * Pins a digest for `holder`; false while the digest is condemned (a tombstone newer than `liveSince`).
   * Relaxed durability (see `TransactionOptions`): a pin only protects its writer, and a crash ends that
   * writer too; the commit that links what it wrote is durable and carries the pin's commit with it.
   */
  pin(digest: Digest, holder: string, at: Date, liveSince: Date): Promise<boolean>;
  unpin(holder: string): Promise<void>;
  /** Of `digests`, those with no blob link, manifest, manifest reference, or pin newer than `pinnedSince`. */
  unreferenced(digests: Digest[], pinnedSince: Date): Promise<Digest[]>;
  /** Re-checks as `unreferenced` and tombstones the survivors, in one transaction; returns them. */
  condemn(digests: Digest[], pinnedSince: Date, at: Date): Promise<Digest[]>;
  /** Removes tombstones (after the bytes were deleted). */
  release(digests: Digest[]): Promise<void>;
  /** Removes tombstones created before `before` (left by a GC that died); returns how many. */
  clearTombstones(before: Date): Promise<number>;
  /** Removes pins created before `before`. */
  purgePins(before: Date): Promise<number>;
  /** Links older than `before` that no manifest of their repository references (nor is). */
  staleLinks(before: Date, limit: number): Promise<{ repository: string; digest: Digest; size: number }[]>;
  /** Re-checks a stale link and removes it, in one transaction. */
  unlinkStale(repository: string, digest: Digest, before: Date): Promise<boolean>;
  /** Manifests pushed before `before` that no tag points at. */
  untagged(before: Date): Promise<UntaggedManifest[]>;
  /**
   * Deletes the manifest (and its own blob link) if it is still untagged, pushed before `before`, held
   * by no index, and its subject is not a manifest of the repository; in one transaction.
   */
  deleteUntagged(repository: string, digest: Digest, before: Date): Promise<boolean>;
}

export interface QuotaStore {
  /** Bytes of the distinct blobs linked in the project's repositories (`<project>/...`). */
  usage(project: string): Promise<number>;
  /**
   * Rebuilds the usage of every project (or one) from the blob links; returns the projects whose
   * recorded usage was wrong, with both figures.
   */
  recount(project?: string): Promise<{ project: string; recorded: number; actual: number }[]>;
}

export interface MetadataScope {
  repositories: RepositoryStore;
  blobLinks: BlobLinkStore;
  manifests: ManifestStore;
  tags: TagStore;
  uploads: UploadSessionStore;
  users: UserStore;
  projects: ProjectStore;
  members: MemberStore;
  robots: RobotStore;
  settings: SettingStore;
  retention: RetentionStore;
  immutableRules: ImmutableRuleStore;
  jobs: JobStore;
  gc: GcStore;
  quotas: QuotaStore;
}

export interface TransactionOptions {
  /**
   * Default true: the commit is on disk before the promise resolves. False for bookkeeping that a crash
   * makes moot: the commit is visible at once but may be lost in a crash. It is never lost while a later
   * durable commit of the same store survives (commits reach disk in order), and never half applied.
   */
  durable?: boolean;
}

/**
 * The record of truth for everything but bytes. Calls outside a transaction are each atomic;
 * `transaction` runs several as one commit (and rolls back if `fn` throws). Keep blob I/O and every
 * other side effect out of `fn`: a backend may run it again after the database aborted it (a deadlock
 * between two transactions that lock several repositories).
 */
export interface MetadataStore extends MetadataScope {
  transaction<T>(fn: (tx: MetadataScope) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** One-way hashing of passwords and robot secrets with a memory-hard KDF (argon2id in src/auth). */
export interface PasswordHasher {
  hash(secret: string): Promise<string>;
  verify(hash: string, secret: string): Promise<boolean>;
}
