import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { loadConfig, applyConfigText, Config, ConfigError, ALL_KEYS } from '../../../src/config/index.js';
import { configurationMarkdown } from '../../../src/config/doc.js';

describe('configuration', () => {
  it('has defaults for a vanilla UNIX host', () => {
    const c = new Config();
    expect(c.str('spool-directory')).toBe('/var/mail');
    expect(c.int('login-timeout')).toBe(180);
    expect(c.int('imap-idle-timeout')).toBe(1800);
    expect(c.int('pop-idle-timeout')).toBe(600);
    expect(c.int('mailbox-protection')).toBe(0o600);
    expect(c.str('plaintext')).toBe('tls-only');
  });
  it('parses the file format and flags, typed', () => {
    const c = new Config();
    applyConfigText(c, '# comment\nlogin-timeout = 2m\nhide-dot-files no\nlisten-imap = 127.0.0.1:1143, [::1]:1143\nmailbox-protection = 0640\n\n', 'test.conf');
    expect(c.int('login-timeout')).toBe(120);
    expect(c.bool('hide-dot-files')).toBe(false);
    expect(c.list('listen-imap')).toEqual(['127.0.0.1:1143', '[::1]:1143']);
    expect(c.int('mailbox-protection')).toBe(0o640);
    const f = loadConfig({ file: '/dev/null', overrides: [['hostname', 'mail.example.org']] });
    expect(f.str('hostname')).toBe('mail.example.org');
  });
  it('names the key and the place on errors', () => {
    expect(() => applyConfigText(new Config(), 'no-such-thing = 1\n', 'x.conf')).toThrow(/x.conf:1: unknown configuration key "no-such-thing"/);
    expect(() => applyConfigText(new Config(), '\nlogin-timeout = soon\n', 'x.conf')).toThrow(ConfigError);
    expect(() => applyConfigText(new Config(), 'plaintext = sometimes\n', 'x.conf')).toThrow(/bad value for plaintext: "sometimes" \(expected one of tls-only, always, never\)/);
    expect(() => applyConfigText(new Config(), 'login-timeout = 1\n', 'x.conf')).toThrow(/must be at least 10/);
    expect(() => loadConfig({ file: '/nonexistent/file.conf' })).toThrow(/cannot read configuration file/);
  });
  it('docs/configuration.md is generated from the registry and up to date', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toBe(configurationMarkdown());
    for (const k of ALL_KEYS) expect(doc).toContain(`\`${k.key}\``);
  });
});
