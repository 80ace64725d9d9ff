// Only the files that must touch the VS Code API import it: the bridge, types and state logic stay plain.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { EXT_DIR } from './helpers';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('module boundary', () => {
  it('src/core never imports vscode; only src/extension.ts and src/ui do', () => {
    const src = path.join(EXT_DIR, 'src');
    const importsVscode = (f: string) => /from\s+['"]vscode['"]|require\(\s*['"]vscode['"]\s*\)/.test(fs.readFileSync(f, 'utf8'));
    const core = files(path.join(src, 'core')).filter((f) => f.endsWith('.ts'));
    assert.ok(core.length >= 8);
    assert.deepEqual(core.filter(importsVscode), []);
    const users = files(src).filter((f) => f.endsWith('.ts') && importsVscode(f)).map((f) => path.relative(src, f));
    assert.ok(users.every((f) => f === 'extension.ts' || f.startsWith(`ui${path.sep}`)), users.join(', '));
  });
});
