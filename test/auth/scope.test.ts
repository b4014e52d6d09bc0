import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatScope, formatScopes, parseScope, parseScopes, scopeLimits } from '../../src/auth/scope.js';

describe('token scopes', () => {
  it('parses type:name:actions', () => {
    assert.deepEqual(parseScope('repository:team/app:pull,push'), {
      type: 'repository',
      name: 'team/app',
      actions: ['pull', 'push'],
    });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
  });

  it('splits on the first and last colon, so a name may hold host:port', () => {
    assert.deepEqual(parseScope('repository:localhost:5000/team/app:pull'), {
      type: 'repository',
      name: 'localhost:5000/team/app',
      actions: ['pull'],
    });
  });

  it('drops duplicate and empty actions and keeps a resource class on the type', () => {
    assert.deepEqual(parseScope('repository:a/b:pull,,pull,push,')?.actions, ['pull', 'push']);
    assert.equal(parseScope('repository(plugin):a/b:pull')?.type, 'repository(plugin)');
  });

  it('refuses malformed scopes', () => {
    for (const text of [
      '',
      'repository',
      'repository:a/b',
      ':a/b:pull',
      'repository::pull',
      'repository:a/b:',
      'repository:a/b:,',
      'repository:a b:pull',
      'repository:a/b:pull;push',
      'repository:a/b:PULL',
      'Repository:a/b:pull',
      're"po:a/b:pull',
      'repository:a/b\u0000:pull',
      'repository:a/b:é',
      `repository:a/${'b'.repeat(scopeLimits.scopeChars)}:pull`,
      `repository:a/b:${Array.from({ length: scopeLimits.actions + 1 }, (_, i) => 'x'.repeat(i + 1)).join(',')}`,
    ]) {
      assert.equal(parseScope(text), undefined, JSON.stringify(text.slice(0, 60)));
    }
  });

  it('takes several scopes per value, merges them per resource, and caps their number', () => {
    assert.deepEqual(parseScopes(['repository:a/b:pull  repository:c/d:push', 'bad repository:a/b:push']), [
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'repository', name: 'c/d', actions: ['push'] },
    ]);
    const many = Array.from({ length: scopeLimits.scopes + 10 }, (_, i) => `repository:a/r${i}:pull`);
    assert.equal(parseScopes([many.join(' ')]).length, scopeLimits.scopes);
    assert.deepEqual(parseScopes([`repository:a/b:pull ${'x'.repeat(scopeLimits.valueChars)}`]), []);
  });

  it('formats what it parses', () => {
    const text = 'repository:localhost:5000/a/b:pull,push';
    assert.equal(formatScope(parseScope(text)!), text);
    assert.equal(
      formatScopes(parseScopes(['repository:a/b:pull registry:catalog:*'])),
      'repository:a/b:pull registry:catalog:*',
    );
  });
});
