/**
 * `.helmignore` rules with Helm's exact semantics (pkg/ignore/rules.go): one glob per line, `#` comments,
 * `!` negation, a trailing `/` matches folders only, a leading `/` anchors at the chart root, a pattern
 * with a `/` matches the whole path and one without matches the base name; `**` is refused. Rules are
 * tried in order and the first match decides. Helm always adds `templates/.?*` (hidden template files).
 */
interface Pattern {
  negate: boolean;
  mustDir: boolean;
  match: (path: string) => boolean;
}

export class IgnoreRules {
  private readonly patterns: Pattern[] = [];

  /** Parses the text of a `.helmignore` file; throws on a rule Helm would refuse. */
  static parse(text: string): IgnoreRules {
    const rules = new IgnoreRules();
    for (const line of text.split(/\r?\n/)) rules.add(line);
    return rules;
  }

  /** Helm's default rule, added after the file's rules. */
  addDefaults(): this {
    this.add('templates/.?*');
    return this;
  }

  add(line: string): void {
    let rule = line.trim();
    if (rule === '' || rule.startsWith('#')) return;
    if (rule.includes('**'))
      throw new Error(`.helmignore: double-star (**) syntax is not supported: ${rule}`);
    globToRegExp(rule); // refuses a malformed pattern, as Helm does
    const pattern: Pattern = { negate: false, mustDir: false, match: () => false };
    if (rule.startsWith('!')) {
      pattern.negate = true;
      rule = rule.slice(1);
    }
    if (rule.endsWith('/')) {
      pattern.mustDir = true;
      rule = rule.slice(0, -1);
    }
    if (rule.startsWith('/')) {
      const anchored = globToRegExp(rule.slice(1));
      pattern.match = (path) => anchored.test(path);
    } else if (rule.includes('/')) {
      const structural = globToRegExp(rule);
      pattern.match = (path) => structural.test(path);
    } else {
      const base = globToRegExp(rule);
      pattern.match = (path) => base.test(path.slice(path.lastIndexOf('/') + 1));
    }
    this.patterns.push(pattern);
  }

  /** Whether `path` (relative, `/`-separated) is ignored. Helm's quirk kept: a negated rule that does not match ignores. */
  ignores(path: string, isDir: boolean): boolean {
    if (path === '' || path === '.' || path === './') return false;
    for (const pattern of this.patterns) {
      if (pattern.negate) {
        if (pattern.mustDir && !isDir) return true;
        if (!pattern.match(path)) return true;
        continue;
      }
      if (pattern.mustDir && !isDir) continue;
      if (pattern.match(path)) return true;
    }
    return false;
  }
}

/** Go's `filepath.Match` as a regular expression: `*`, `?`, `[...]` (with `^` negation) and `\` escapes, never crossing `/`. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      i += 1;
      if (i >= glob.length) throw new Error(`.helmignore: syntax error in pattern ${glob}`);
      out += escapeChar(glob[i]!);
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new Error(`.helmignore: syntax error in pattern ${glob}`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      if (body === '') throw new Error(`.helmignore: syntax error in pattern ${glob}`);
      out += `[${negated ? '^/' : ''}${body.replace(/[\]\\^]/g, (m) => `\\${m}`)}]`;
      i = end;
    } else out += escapeChar(c);
  }
  return new RegExp(`^${out}$`, 's');
}

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
