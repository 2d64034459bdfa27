import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';

// The shipped fail2ban filter must match the log line the servers write.
describe('docs/fail2ban/uwimap.conf', () => {
  it('matches "Login failed" lines and extracts the host, and nothing else', () => {
    const conf = readFileSync(new URL('../../../docs/fail2ban/uwimap.conf', import.meta.url), 'utf8');
    const re = /^failregex = (.*)$/m.exec(conf)![1].replace('<HOST>', '(?<host>[0-9a-fA-F:.]+)');
    const rx = new RegExp(re);
    const line = 'Nov 23 06:00:00 mail imapd[4242]: Login failed user=fred auth=fred host=[192.0.2.7] reason=wrong user name or password';
    expect(rx.exec(line)?.groups?.host).toBe('192.0.2.7');
    expect(rx.exec('Nov 23 06:00:00 mail ipop3d[1]: Login failed user=x auth=x host=[2001:db8::1]')?.groups?.host).toBe('2001:db8::1');
    expect(rx.test('Nov 23 06:00:00 mail imapd[4242]: Login user=fred host=[192.0.2.7]')).toBe(false);
  });
});
