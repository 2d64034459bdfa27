/**
 * SASL mechanisms, protocol-neutral (the protocols do base64 and
 * continuations): PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195, UW's
 * challenge), ANONYMOUS (RFC 4505), SCRAM-SHA-256 (RFC 5802/7677).
 */
import { nodeCrypto } from '../runtime/lazy.js';
import { hostname } from 'node:os';
import type { Identity, SaslExchange, SaslStep, ScramCredentials } from './types.js';

export interface SaslBackend {
  login(user: string, password: string, authzid?: string): Promise<Identity>;
  secret(user: string): Promise<{ secret: string; identity: Identity } | undefined>;
  scram(user: string): Promise<ScramCredentials | undefined>;
  anonymous(trace: string): Promise<Identity>;
  host: string;
}

const fail = (reason = 'Authentication failed'): SaslStep => ({ type: 'failure', reason });

export function plain(b: SaslBackend): SaslExchange {
  let asked = false;
  return {
    mechanism: 'PLAIN',
    clientFirst: true,
    async step(r) {
      if (r === null) {
        if (asked) return fail();
        asked = true;
        return { type: 'challenge', data: Buffer.alloc(0) };
      }
      const parts = r.toString('utf8').split('\0');
      if (parts.length !== 3) return fail('Malformed PLAIN response');
      const [authz, authc, pass] = parts;
      try {
        return { type: 'success', identity: await b.login(authc, pass, authz || undefined) };
      } catch (e) {
        return fail((e as Error).message);
      }
    },
  };
}

export function login(b: SaslBackend): SaslExchange {
  let user: string | undefined;
  let stage = 0;
  return {
    mechanism: 'LOGIN',
    clientFirst: true,
    async step(r) {
      if (stage === 0) {
        stage = 1;
        if (r === null || r.length === 0) return { type: 'challenge', data: Buffer.from('User Name') };
        user = r.toString('utf8');
        stage = 2;
        return { type: 'challenge', data: Buffer.from('Password') };
      }
      if (stage === 1) {
        user = r?.toString('utf8') ?? '';
        stage = 2;
        return { type: 'challenge', data: Buffer.from('Password') };
      }
      try {
        return { type: 'success', identity: await b.login(user ?? '', r?.toString('utf8') ?? '') };
      } catch (e) {
        return fail((e as Error).message);
      }
    },
  };
}

/** CRAM-MD5 with UW's challenge `<pid.time@host>`; `challenge` is injectable for tests against RFC 2195. */
export function cramMd5(b: SaslBackend, challenge = `<${process.pid}.${Math.floor(Date.now() / 1000)}@${b.host || hostname()}>`): SaslExchange {
  let sent = false;
  return {
    mechanism: 'CRAM-MD5',
    clientFirst: false,
    async step(r) {
      if (!sent) {
        sent = true;
        return { type: 'challenge', data: Buffer.from(challenge) };
      }
      const text = r?.toString('utf8') ?? '';
      const sp = text.lastIndexOf(' ');
      if (sp <= 0) return fail();
      const user = text.slice(0, sp);
      const digest = text.slice(sp + 1).toLowerCase();
      const s = await b.secret(user.split('*')[0]);
      if (!s) return fail();
      const want = nodeCrypto().createHmac('md5', s.secret).update(challenge).digest('hex');
      if (want.length !== digest.length || !nodeCrypto().timingSafeEqual(Buffer.from(want), Buffer.from(digest))) return fail();
      return { type: 'success', identity: s.identity };
    },
  };
}

export function anonymous(b: SaslBackend): SaslExchange {
  let asked = false;
  return {
    mechanism: 'ANONYMOUS',
    clientFirst: true,
    async step(r) {
      if (r === null && !asked) {
        asked = true;
        return { type: 'challenge', data: Buffer.alloc(0) };
      }
      try {
        return { type: 'success', identity: await b.anonymous(r?.toString('utf8') ?? '') };
      } catch (e) {
        return fail((e as Error).message);
      }
    },
  };
}

function xor(a: Buffer, b: Buffer): Buffer {
  const o = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) o[i] = a[i] ^ b[i];
  return o;
}

/** SCRAM-SHA-256 server side. `nonce` is injectable for byte-exact tests against RFC 7677. */
export function scramSha256(b: SaslBackend, nonce = nodeCrypto().randomBytes(18).toString('base64')): SaslExchange {
  let stage = 0;
  let creds: ScramCredentials | undefined;
  let clientFirstBare = '';
  let serverFirst = '';
  let combined = '';
  let gs2 = '';
  return {
    mechanism: 'SCRAM-SHA-256',
    clientFirst: true,
    async step(r) {
      if (stage === 0) {
        if (r === null) {
          stage = 0;
          return { type: 'challenge', data: Buffer.alloc(0) };
        }
        const text = r.toString('utf8');
        const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/.exec(text);
        if (!m || m[1].startsWith('p=')) return fail('Channel binding is not supported');
        gs2 = `${m[1]},${m[2]},`;
        clientFirstBare = m[3];
        const attrs = Object.fromEntries(clientFirstBare.split(',').map((kv) => [kv[0], kv.slice(2)]));
        const user = (attrs.n ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
        if (!attrs.r || !user) return fail('Malformed SCRAM message');
        creds = await b.scram(user);
        combined = attrs.r + nonce;
        // Unknown users get a plausible challenge too, and fail at the proof.
        const salt = creds?.salt ?? nodeCrypto().createHash('sha256').update(user).digest().subarray(0, 16);
        serverFirst = `r=${combined},s=${salt.toString('base64')},i=${creds?.iterations ?? 4096}`;
        stage = 1;
        return { type: 'challenge', data: Buffer.from(serverFirst) };
      }
      if (stage === 1) {
        stage = 2;
        const text = r?.toString('utf8') ?? '';
        const pIdx = text.lastIndexOf(',p=');
        if (pIdx < 0) return fail();
        const withoutProof = text.slice(0, pIdx);
        const attrs = Object.fromEntries(withoutProof.split(',').map((kv) => [kv[0], kv.slice(2)]));
        if (attrs.r !== combined || attrs.c !== Buffer.from(gs2).toString('base64') || !creds) return fail();
        const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
        const proof = Buffer.from(text.slice(pIdx + 3), 'base64');
        const clientSignature = nodeCrypto().createHmac('sha256', creds.storedKey).update(authMessage).digest();
        if (proof.length !== clientSignature.length) return fail();
        const clientKey = xor(proof, clientSignature);
        const stored = nodeCrypto().createHash('sha256').update(clientKey).digest();
        if (!nodeCrypto().timingSafeEqual(stored, creds.storedKey)) return fail();
        const serverSignature = nodeCrypto().createHmac('sha256', creds.serverKey).update(authMessage).digest();
        return { type: 'success', identity: creds.identity, data: Buffer.from(`v=${serverSignature.toString('base64')}`) };
      }
      return fail();
    },
  };
}
