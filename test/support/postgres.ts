import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

// Needs a reachable PostgreSQL (15 or later, with ICU). When there is none these tests fail, never skip:
// a green run must mean the scale-out store was exercised.
export const adminUrl = process.env.BERTH_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database for one suite. Its default collation is ICU en-US, not C, so that the
 * byte-order assertions prove the schema's `COLLATE "C"` rather than the server's default.
 */
export async function createDatabase(): Promise<TestDatabase> {
  const name = `berth_test_${randomBytes(6).toString('hex')}`; // generated: safe to splice into SQL
  await withAdmin((client) =>
    client.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'`),
  );
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
