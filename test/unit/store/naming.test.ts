import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, rmSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { resolveName, insideTree } from '../../../src/store/naming.js';

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('mailbox names', () => {
  it('#ftp/, #public/ and #shared/ map to their directories, case-insensitively, with the strict rules', () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-names-'));
    const ns = { public: join(dir, 'pub'), shared: join(dir, 'shr') };
    mkdirSync(ns.public);
    mkdirSync(ns.shared);
    const ctx = { root: join(dir, 'home'), home: join(dir, 'home'), restrict: false, namespaces: ns };
    expect(resolveName('#public/notes', ctx)).toMatchObject({ path: join(ns.public, 'notes'), namespace: 'public', name: '#public/notes' });
    expect(resolveName('#PUBLIC/a/b', ctx)).toMatchObject({ path: join(ns.public, 'a/b'), name: '#public/a/b' });
    expect(resolveName('#shared/inbox', ctx)).toMatchObject({ path: join(ns.shared, 'INBOX'), name: '#shared/INBOX' });
    expect(resolveName('#driver.mix/#public/x', ctx)).toMatchObject({ driver: 'mix', namespace: 'public' });
    for (const bad of ['#public/../etc', '#public//x', '#public/~root', '#public//etc/passwd', '#public/a/../../x']) expect(() => resolveName(bad, ctx), bad).toThrow(/Invalid mailbox name/);
    expect(() => resolveName('#ftp/x', ctx)).toThrow(/No such namespace/);
    expect(() => resolveName('#news.comp', ctx)).toThrow(/No such namespace/);
  });

  it('a confined user cannot follow a symbolic link out of the tree', () => {
    dir = mkdtempSync(join(tmpdir(), 'uw-names-'));
    const root = join(dir, 'vmail', 'alice');
    mkdirSync(join(root, 'lists'), { recursive: true });
    mkdirSync(join(dir, 'vmail', 'bob'));
    writeFileSync(join(dir, 'vmail', 'bob', 'INBOX'), '');
    symlinkSync(join(dir, 'vmail', 'bob'), join(root, 'bobs'));
    symlinkSync(join(root, 'lists'), join(root, 'alias'));
    const ctx = { root, home: root, restrict: true };
    expect(() => resolveName('bobs/INBOX', ctx)).toThrow(/Invalid mailbox name/);
    expect(() => resolveName('bobs', ctx)).toThrow(/Invalid mailbox name/);
    // A link that stays inside is fine; so is a name that does not exist yet.
    expect(resolveName('alias/x', ctx).path).toBe(join(root, 'alias/x'));
    expect(resolveName('new/deeper/box', ctx).path).toBe(join(root, 'new/deeper/box'));
    // Unconfined users follow links as UW does.
    expect(resolveName('bobs/INBOX', { ...ctx, restrict: false }).path).toBe(join(root, 'bobs/INBOX'));
    expect(insideTree(join(root, 'bobs', 'INBOX'), root)).toBe(false);
  });
});
