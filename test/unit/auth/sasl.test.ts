import { describe, it, expect } from 'vitest';
import { plain, login, cramMd5, anonymous, scramSha256, type SaslBackend } from '../../../src/auth/sasl.js';
import { scramSecrets } from '../../../src/auth/users-db.js';
import type { Identity } from '../../../src/auth/types.js';

// SASL exchanges byte for byte against the examples of the RFCs.
const id = (user: string): Identity => ({ user, uid: 1000, gid: 1000, groups: [1000], home: '/home/' + user, restrict: false, virtual: false, module: 'test' });
function backend(over: Partial<SaslBackend> = {}): SaslBackend & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    host: 'postoffice.reston.mci.net',
    login: async (u, p, z) => {
      calls.push(['login', u, p, z]);
      return id(z ?? u);
    },
    secret: async () => undefined,
    scram: async () => undefined,
    anonymous: async (t) => {
      calls.push(['anonymous', t]);
      return id('anonymous');
    },
    ...over,
  };
}

describe('SASL mechanisms against the RFC examples', () => {
  it('PLAIN (RFC 4616 §4): without and with an authorization identity', async () => {
    let b = backend();
    let x = plain(b);
    let s = await x.step(Buffer.from('\0tim\0tanstaaftanstaaf'));
    expect(s.type).toBe('success');
    expect(b.calls).toEqual([['login', 'tim', 'tanstaaftanstaaf', undefined]]);
    b = backend();
    x = plain(b);
    s = await x.step(Buffer.from('Ursel\0Kurt\0xipj3plmq'));
    expect(s).toMatchObject({ type: 'success', identity: { user: 'Ursel' } });
    expect(b.calls).toEqual([['login', 'Kurt', 'xipj3plmq', 'Ursel']]);
    // Empty initial response: the client is asked for it, once.
    x = plain(backend());
    expect(await x.step(null)).toEqual({ type: 'challenge', data: Buffer.alloc(0) });
    expect((await plain(backend()).step(Buffer.from('no-nuls'))).type).toBe('failure');
  });

  it('CRAM-MD5 (RFC 2195 §2): the example challenge and digest', async () => {
    const x = cramMd5(backend({ secret: async (u) => (u === 'tim' ? { secret: 'tanstaaftanstaaf', identity: id('tim') } : undefined) }), '<1896.697170952@postoffice.reston.mci.net>');
    const c = await x.step(null);
    expect(c).toEqual({ type: 'challenge', data: Buffer.from('<1896.697170952@postoffice.reston.mci.net>') });
    expect(Buffer.from('<1896.697170952@postoffice.reston.mci.net>').toString('base64')).toBe('PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+');
    const s = await x.step(Buffer.from('dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw', 'base64'));
    expect(Buffer.from('dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw', 'base64').toString()).toBe('tim b913a602c7eda7a495b4e6e7334d3890');
    expect(s).toMatchObject({ type: 'success', identity: { user: 'tim' } });
    const y = cramMd5(backend({ secret: async () => ({ secret: 'other', identity: id('tim') }) }), '<1896.697170952@postoffice.reston.mci.net>');
    await y.step(null);
    expect((await y.step(Buffer.from('tim b913a602c7eda7a495b4e6e7334d3890'))).type).toBe('failure');
  });

  it('SCRAM-SHA-256 (RFC 7677 §3): every message of the example', async () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const sec = scramSecrets('pencil', salt, 4096);
    const x = scramSha256(backend({ scram: async (u) => (u === 'user' ? { salt, iterations: 4096, storedKey: sec.storedKey, serverKey: sec.serverKey, identity: id('user') } : undefined) }), '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    const first = await x.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(first).toEqual({ type: 'challenge', data: Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096') });
    const fin = await x.step(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    expect(fin).toMatchObject({ type: 'success', identity: { user: 'user' }, data: Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=') });
    // A wrong proof fails.
    const y = scramSha256(backend({ scram: async () => ({ salt, iterations: 4096, storedKey: sec.storedKey, serverKey: sec.serverKey, identity: id('user') }) }), '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    await y.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect((await y.step(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAAZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='))).type).toBe('failure');
  });

  it('ANONYMOUS (RFC 4505 §4): the trace is handed over', async () => {
    const b = backend();
    const s = await anonymous(b).step(Buffer.from('sirhc'));
    expect(s.type).toBe('success');
    expect(b.calls).toEqual([['anonymous', 'sirhc']]);
  });

  it('LOGIN (draft-murchison-sasl-login): "User Name", then "Password"', async () => {
    const b = backend();
    const x = login(b);
    expect(await x.step(null)).toEqual({ type: 'challenge', data: Buffer.from('User Name') });
    expect(await x.step(Buffer.from('tim'))).toEqual({ type: 'challenge', data: Buffer.from('Password') });
    expect((await x.step(Buffer.from('tanstaaftanstaaf'))).type).toBe('success');
    expect(b.calls).toEqual([['login', 'tim', 'tanstaaftanstaaf', undefined]]);
  });
});
