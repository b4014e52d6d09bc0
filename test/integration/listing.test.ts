// Tag lists and the catalog: byte order, `n` and `last`, `Link` headers to the next page, and `n=0`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  emptyJson,
  imageManifest,
  pushBlob,
  pushManifest,
} from '../support/oci-client.js';

interface Page {
  items: string[];
  link: string | null;
}

describe('listing', () => {
  let berth: TestBerth;
  const name = 'listing/app';
  const tags = ['v1.0.0', 'latest', 'b', 'a', '_x', 'B1', 'A', '1.0'];
  const sortedTags = [...tags].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1));
  const repositories = ['listing/app', 'alpha', 'zeta/one', 'beta/two', 'beta-three', 'beta'];

  before(async () => {
    berth = await startTestBerth();
    for (const repo of repositories) await pushBlob(berth.base, repo, emptyJson);
    const manifest = imageManifest({});
    for (const tag of tags) await pushManifest(berth.base, name, tag, manifest);
  });
  after(() => berth.dispose());

  const page = async (path: string, key: 'tags' | 'repositories'): Promise<Page> => {
    const res = await call(berth.base, path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('content-type'), 'application/json');
    const body = (await res.json()) as Record<string, unknown>;
    assert.ok(Array.isArray(body[key]), `${key} array in ${JSON.stringify(body)}`);
    return { items: body[key] as string[], link: res.headers.get('link') };
  };

  /** Follows `Link: <...>; rel="next"` from `path` to the end, checking each page's size. */
  const walk = async (path: string, key: 'tags' | 'repositories', n: number): Promise<string[]> => {
    const all: string[] = [];
    let next: string | null = path;
    for (let i = 0; next !== null && i < 50; i++) {
      const current: Page = await page(next, key);
      all.push(...current.items);
      if (current.link === null) {
        next = null;
      } else {
        assert.equal(current.items.length, n, 'a page with a next link is full');
        const match = /^<([^>]+)>; rel="next"$/.exec(current.link);
        assert.ok(match, `Link header ${current.link}`);
        next = match[1]!;
      }
    }
    return all;
  };

  describe('tags', () => {
    it('lists every tag in byte order with the repository name', async () => {
      const res = await call(berth.base, `/v2/${name}/tags/list`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('link'), null);
      assert.deepEqual(await res.json(), { name, tags: sortedTags });
      assert.deepEqual(sortedTags, ['1.0', 'A', 'B1', '_x', 'a', 'b', 'latest', 'v1.0.0']);
    });

    it('n returns exactly n tags and a Link to the next page that keeps n', async () => {
      const first = await page(`/v2/${name}/tags/list?n=3`, 'tags');
      assert.deepEqual(first.items, sortedTags.slice(0, 3));
      assert.equal(first.link, `</v2/${name}/tags/list?n=3&last=B1>; rel="next"`);
    });

    it('following Link pages through every tag once', async () => {
      for (const n of [1, 3, 4, 7])
        assert.deepEqual(await walk(`/v2/${name}/tags/list?n=${n}`, 'tags', n), sortedTags, `n=${n}`);
    });

    it('the last page has no Link, even when it is exactly full', async () => {
      const last = await page(`/v2/${name}/tags/list?n=4&last=_x`, 'tags');
      assert.deepEqual(last.items, sortedTags.slice(4));
      assert.equal(last.link, null);
    });

    it('n=0 is an empty list without Link', async () => {
      const empty = await page(`/v2/${name}/tags/list?n=0`, 'tags');
      assert.deepEqual(empty.items, []);
      assert.equal(empty.link, null);
    });

    it('last is exclusive and works without n', async () => {
      assert.deepEqual((await page(`/v2/${name}/tags/list?last=a`, 'tags')).items, ['b', 'latest', 'v1.0.0']);
      assert.deepEqual((await page(`/v2/${name}/tags/list?last=ab`, 'tags')).items, [
        'b',
        'latest',
        'v1.0.0',
      ]);
      assert.deepEqual((await page(`/v2/${name}/tags/list?last=zzz`, 'tags')).items, []);
      assert.deepEqual((await page(`/v2/${name}/tags/list?last=`, 'tags')).items, sortedTags);
    });

    it('n larger than the list returns everything without Link', async () => {
      const all = await page(`/v2/${name}/tags/list?n=1000`, 'tags');
      assert.deepEqual(all.items, sortedTags);
      assert.equal(all.link, null);
    });

    it('an invalid n is 400 PAGINATION_NUMBER_INVALID', async () => {
      for (const n of ['-1', 'abc', '1.5', '']) {
        await assertOciError(
          await call(berth.base, `/v2/${name}/tags/list?n=${n}`),
          400,
          'PAGINATION_NUMBER_INVALID',
        );
      }
    });

    it('a repository without tags lists an empty array', async () => {
      assert.deepEqual(await (await call(berth.base, '/v2/alpha/tags/list')).json(), {
        name: 'alpha',
        tags: [],
      });
    });

    it('an unknown repository is 404 NAME_UNKNOWN', async () => {
      await assertOciError(await call(berth.base, '/v2/no/such/repo/tags/list'), 404, 'NAME_UNKNOWN');
    });

    it('a deleted tag disappears from the list', async () => {
      const other = 'listing/deleted';
      await pushBlob(berth.base, other, emptyJson);
      await pushManifest(berth.base, other, 'gone', imageManifest({}));
      await pushManifest(berth.base, other, 'kept', imageManifest({}));
      assert.equal((await call(berth.base, `/v2/${other}/manifests/gone`, { method: 'DELETE' })).status, 202);
      assert.deepEqual((await page(`/v2/${other}/tags/list`, 'tags')).items, ['kept']);
    });
  });

  describe('catalog', () => {
    const sortedRepos = () =>
      [...repositories, 'listing/deleted'].sort((x, y) => (Buffer.from(x) < Buffer.from(y) ? -1 : 1));

    it('lists every repository in byte order', async () => {
      const all = await page('/v2/_catalog', 'repositories');
      assert.deepEqual(all.items, sortedRepos());
      assert.equal(all.link, null);
    });

    it('n and Link paginate the catalog', async () => {
      const first = await page('/v2/_catalog?n=2', 'repositories');
      assert.deepEqual(first.items, sortedRepos().slice(0, 2));
      assert.equal(
        first.link,
        `</v2/_catalog?n=2&last=${encodeURIComponent(sortedRepos()[1]!)}>; rel="next"`,
      );
      for (const n of [1, 2, 3])
        assert.deepEqual(await walk(`/v2/_catalog?n=${n}`, 'repositories', n), sortedRepos(), `n=${n}`);
    });

    it('n=0 is empty without Link; last is exclusive', async () => {
      const empty = await page('/v2/_catalog?n=0', 'repositories');
      assert.deepEqual(empty.items, []);
      assert.equal(empty.link, null);
      assert.deepEqual(
        (await page('/v2/_catalog?last=beta/two', 'repositories')).items,
        sortedRepos().filter((r) => r > 'beta/two'),
      );
    });

    it('an invalid n is 400 PAGINATION_NUMBER_INVALID', async () => {
      await assertOciError(await call(berth.base, '/v2/_catalog?n=x'), 400, 'PAGINATION_NUMBER_INVALID');
    });
  });
});
