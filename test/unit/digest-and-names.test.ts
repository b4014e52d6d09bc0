import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/core/errors.js';
import { parseDigest, requireDigest } from '../../src/core/oci/digest.js';
import { isRepositoryName, isTag, parseReference } from '../../src/core/oci/names.js';

const hex64 = 'a'.repeat(64);

describe('digests', () => {
  it('accepts sha256 and sha512 in lower-case hex of the right length', () => {
    assert.equal(parseDigest(`sha256:${hex64}`).ok, true);
    assert.equal(parseDigest(`sha512:${'0'.repeat(128)}`).ok, true);
  });

  for (const bad of [
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}`,
    `sha256:${'a'.repeat(65)}`,
    `sha256:${'g'.repeat(64)}`,
    `md5:${'a'.repeat(32)}`,
    'sha256:baddigeststring',
    `sha256:../${'a'.repeat(61)}`,
    '',
    'sha256',
    `:${hex64}`,
  ]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 24))}`, () => {
      const parsed = parseDigest(bad);
      assert.equal(parsed.ok, false);
      assert.throws(
        () => requireDigest(bad),
        (e: unknown) => e instanceof RegistryError && e.code === 'DIGEST_INVALID',
      );
    });
  }
});

describe('repository names', () => {
  for (const good of [
    'a',
    'library/alpine',
    'a/b/c/d',
    'my-app',
    'my__app',
    'my.app',
    'a--b',
    'x1/y_2.z-3',
  ]) {
    it(`accepts ${good}`, () => assert.equal(isRepositoryName(good), true));
  }
  for (const bad of [
    '',
    'A',
    'Library/alpine',
    '../etc',
    'a/../b',
    '%2e%2e',
    'a//b',
    '/a',
    'a/',
    '-a',
    'a-',
    'a___b',
    'a..b',
    'a b',
    'a'.repeat(256),
  ]) {
    it(`rejects ${JSON.stringify(bad.slice(0, 30))}`, () => assert.equal(isRepositoryName(bad), false));
  }
  it('accepts a 255-character name and no longer', () => {
    assert.equal(isRepositoryName('a'.repeat(255)), true);
    assert.equal(isRepositoryName(`${'a'.repeat(127)}/${'b'.repeat(128)}`), false);
  });
});

describe('tags and references', () => {
  it('follows the tag grammar', () => {
    assert.equal(isTag('latest'), true);
    assert.equal(isTag('_v1.0-RC'), true);
    assert.equal(isTag('a'.repeat(128)), true);
    assert.equal(isTag('a'.repeat(129)), false);
    assert.equal(isTag('.hidden'), false);
    assert.equal(isTag('-x'), false);
    assert.equal(isTag('a+b'), false);
  });

  it('reads a digest reference and a tag reference', () => {
    assert.deepEqual(parseReference(`sha256:${hex64}`), { kind: 'digest', digest: `sha256:${hex64}` });
    assert.deepEqual(parseReference('v1'), { kind: 'tag', tag: 'v1' });
  });

  it('treats anything with a colon as a digest and rejects a malformed one as DIGEST_INVALID', () => {
    assert.throws(
      () => parseReference('sha256:baddigeststring'),
      (e: unknown) => e instanceof RegistryError && e.code === 'DIGEST_INVALID',
    );
    assert.throws(
      () => parseReference('bad tag'),
      (e: unknown) => e instanceof RegistryError && e.code === 'TAG_INVALID',
    );
  });
});
