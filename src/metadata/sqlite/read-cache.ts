/**
 * Caches results of expensive reads (a whole tag list of a large repository) until the next committed
 * write. The embedded store has exactly one writer, this process, so counting commits is an exact
 * invalidation: an entry is served only while no transaction has committed since it was read. The count
 * moves after each COMMIT, so a result read before a commit can never be kept under the new count.
 */
export class ReadCache<T> {
  private generation = 0;
  private readonly entries = new Map<string, { generation: number; value: T }>();

  constructor(private readonly maxEntries = 256) {}

  /** Call after every committed (or attempted) write transaction. */
  invalidate(): void {
    this.generation += 1;
    if (this.entries.size > 0) this.entries.clear();
  }

  async get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.generation === this.generation) return hit.value;
    const generation = this.generation;
    const value = await load();
    if (generation === this.generation) {
      if (this.entries.size >= this.maxEntries) this.entries.clear();
      this.entries.set(key, { generation, value });
    }
    return value;
  }
}
