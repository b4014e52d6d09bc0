import { before } from 'node:test';

/**
 * Runs a suite's `setup` once, from a `before` hook, and returns what each test awaits first. A failed
 * setup (a client that is not installed, a PostgreSQL or S3 server that is not there) thus fails every
 * test with its message, where a throwing `before` hook would only mark the tests cancelled.
 */
export function sharedSetup(setup: () => Promise<void>): () => Promise<void> {
  let started: Promise<void> | undefined;
  before(() => {
    started = setup();
    started.catch(() => undefined); // reported by every test that awaits it
  });
  return () => started ?? Promise.reject(new Error('the suite setup did not run'));
}
