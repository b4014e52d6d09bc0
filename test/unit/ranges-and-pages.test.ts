import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/core/errors.js';
import { fetchPage, readPage } from '../../src/core/content/pagination.js';
import { readContentRange, readRange, uploadRangeHeader } from '../../src/http/oci/ranges.js';

describe('Range requests on a 2048-byte blob', () => {
  const cases: [string | undefined, ReturnType<typeof readRange>][] = [
    [undefined, { kind: 'whole' }],
    ['bytes=500-1499', { kind: 'partial', range: { start: 500, end: 1499 } }],
    ['bytes=-500', { kind: 'partial', range: { start: 1548, end: 2047 } }],
    ['bytes=500-', { kind: 'partial', range: { start: 500, end: 2047 } }],
    ['bytes=2000-5000', { kind: 'partial', range: { start: 2000, end: 2047 } }],
    ['bytes=-5000', { kind: 'partial', range: { start: 0, end: 2047 } }],
    ['bytes=500-0', { kind: 'unsatisfiable' }],
    ['bytes=5000-10000', { kind: 'unsatisfiable' }],
    ['bytes=2048-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=0-1,5-6', { kind: 'whole' }],
    ['items=0-1', { kind: 'whole' }],
  ];
  for (const [header, expected] of cases) {
    it(`${header ?? '(none)'}`, () => assert.deepEqual(readRange(header, 2048), expected));
  }
});

describe('upload ranges', () => {
  it('reads Content-Range in the spec form and tolerates a unit', () => {
    assert.deepEqual(readContentRange('0-999'), { start: 0, end: 999 });
    assert.deepEqual(readContentRange('bytes 10-19/100'), { start: 10, end: 19 });
    assert.equal(readContentRange(undefined), undefined);
    assert.equal(readContentRange('9-3'), null);
    assert.equal(readContentRange('x'), null);
  });
  it('writes Range as bare 0-N and 0-0 when empty', () => {
    assert.equal(uploadRangeHeader(0), '0-0');
    assert.equal(uploadRangeHeader(1000), '0-999');
  });
});

describe('pagination', () => {
  const items = ['a', 'b', 'c', 'd', 'e'];
  const query = (page: { last?: string; limit: number }) =>
    Promise.resolve(items.filter((i) => page.last === undefined || i > page.last).slice(0, page.limit));

  it('returns exactly n items and the cursor of the next page', async () => {
    assert.deepEqual(await fetchPage(readPage({ n: '2' }), query), { items: ['a', 'b'], next: 'b' });
    assert.deepEqual(await fetchPage(readPage({ n: '2', last: 'b' }), query), {
      items: ['c', 'd'],
      next: 'd',
    });
    assert.deepEqual(await fetchPage(readPage({ n: '2', last: 'd' }), query), { items: ['e'] });
  });
  it('n=0 is empty with no next page; last works without n', async () => {
    assert.deepEqual(await fetchPage(readPage({ n: '0' }), query), { items: [] });
    assert.deepEqual(await fetchPage(readPage({ last: 'c' }), query), { items: ['d', 'e'] });
  });
  it('rejects a malformed n', () => {
    for (const n of ['-1', 'x', '1.5', '']) {
      assert.throws(
        () => readPage({ n }),
        (e: unknown) => e instanceof RegistryError && e.code === 'PAGINATION_NUMBER_INVALID',
      );
    }
  });
});
