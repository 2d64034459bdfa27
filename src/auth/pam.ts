/**
 * The `pam` module: real PAM through libpam (koffi), as UW's checkpw_pam —
 * service "imap" or "pop" (configurable), pam_authenticate, then
 * pam_acct_mgmt, then pam_setcred; the remote host is given as PAM_RHOST.
 * The password is handed to PAM's conversation function in memory that PAM
 * itself frees, and never leaves the process.
 *
 * A user PAM accepts must also exist for NSS (getpwnam): that is where the
 * uid, gid, groups and home come from. A user NSS does not know is left to
 * the next module.
 */
import type { AuthContext, CheckResult, CheckpwModule, Identity } from './types.js';
import type { Config } from '../config/index.js';
import * as posix from '../runtime/posix.js';
import { groupsOf } from './modules.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type K = any;

const PAM_SUCCESS = 0;
const PAM_PROMPT_ECHO_OFF = 1;
const PAM_PROMPT_ECHO_ON = 2;
const PAM_CONV_ERR = 19;
const PAM_RHOST = 4;
const PAM_TTY = 3;
const PAM_ESTABLISH_CRED = 0x2;
const PAM_SILENT = 0x8000;

interface Pam {
  k: K;
  start: K;
  authenticate: K;
  acctMgmt: K;
  setcred: K;
  end: K;
  setItem: K;
  strerror: K;
  calloc: K;
  strdup: K;
  convProto: K;
  convStruct: K;
  message: K;
}
let pam: Pam | undefined;

function load(): Pam {
  if (pam) return pam;
  const k = posix.koffi();
  const lib = k.load('libpam.so.0');
  const libc = k.load('libc.so.6');
  const message = k.struct('uwimap_pam_message', { msg_style: 'int', msg: 'const char *' });
  const convProto = k.proto('int uwimap_pam_conv_fn(int num_msg, void *msg, void *resp, void *appdata)');
  const convStruct = k.struct('uwimap_pam_conv', { conv: k.pointer(convProto), appdata_ptr: 'void *' });
  pam = {
    k,
    start: lib.func('int pam_start(const char *service, const char *user, const uwimap_pam_conv *conv, _Out_ void **pamh)'),
    authenticate: lib.func('int pam_authenticate(void *pamh, int flags)'),
    acctMgmt: lib.func('int pam_acct_mgmt(void *pamh, int flags)'),
    setcred: lib.func('int pam_setcred(void *pamh, int flags)'),
    end: lib.func('int pam_end(void *pamh, int status)'),
    setItem: lib.func('int pam_set_item(void *pamh, int item_type, const char *item)'),
    strerror: lib.func('const char *pam_strerror(void *pamh, int errnum)'),
    calloc: libc.func('void *calloc(size_t nmemb, size_t size)'),
    strdup: libc.func('void *strdup(const char *s)'),
    convProto,
    convStruct,
    message,
  };
  return pam;
}

/** Whether libpam can be loaded here. */
export function pamAvailable(): boolean {
  try {
    load();
    return true;
  } catch {
    return false;
  }
}

/** One PAM transaction: authenticate, account management, credentials. */
export function pamCheck(service: string, user: string, password: string, rhost?: string): { ok: true } | { ok: false; reason: string } {
  const p = load();
  const k = p.k;
  const RESP = 16; // struct pam_response { char *resp; int resp_retcode; } on LP64
  const conv = (num: number, msgv: unknown, respv: unknown): number => {
    try {
      if (num <= 0 || num > 32) return PAM_CONV_ERR;
      const ptrs = k.decode(msgv, 'void *', num) as unknown[];
      const arr = p.calloc(num, RESP);
      if (!arr) return PAM_CONV_ERR;
      for (let i = 0; i < num; i++) {
        const m = k.decode(ptrs[i], p.message) as { msg_style: number; msg: string };
        let answer: string | undefined;
        if (m.msg_style === PAM_PROMPT_ECHO_OFF) answer = password;
        else if (m.msg_style === PAM_PROMPT_ECHO_ON) answer = user;
        if (answer !== undefined) k.encode(arr, i * RESP, 'void *', p.strdup(answer));
      }
      k.encode(respv, 'void *', arr);
      return PAM_SUCCESS;
    } catch {
      return PAM_CONV_ERR;
    }
  };
  const cb = k.register(conv, k.pointer(p.convProto));
  const handle = [null];
  let status = -1;
  try {
    status = p.start(service, user, { conv: cb, appdata_ptr: null }, handle);
    if (status !== PAM_SUCCESS) return { ok: false, reason: `pam_start: ${status}` };
    const h = handle[0];
    if (rhost) p.setItem(h, PAM_RHOST, rhost);
    p.setItem(h, PAM_TTY, service);
    status = p.authenticate(h, PAM_SILENT);
    if (status === PAM_SUCCESS) status = p.acctMgmt(h, PAM_SILENT);
    if (status === PAM_SUCCESS) p.setcred(h, PAM_ESTABLISH_CRED | PAM_SILENT);
    const reason = status === PAM_SUCCESS ? '' : `${p.strerror(h, status)}`;
    p.end(h, status);
    return status === PAM_SUCCESS ? { ok: true } : { ok: false, reason: `PAM: ${reason}` };
  } finally {
    k.unregister(cb);
  }
}

export class PamModule implements CheckpwModule {
  readonly name = 'pam';
  constructor(private readonly cfg: Config) {
    load(); // fail at configuration time, not at the first login
  }
  private identity(user: string): Identity | undefined {
    const pw = posix.getpwnam(user);
    if (!pw) return undefined;
    return { user: pw.name, uid: pw.uid, gid: pw.gid, groups: groupsOf(pw.name, pw.gid), home: pw.dir, restrict: this.cfg.bool('restrict-system-users'), virtual: false, module: this.name };
  }
  async lookup(user: string): Promise<Identity | undefined> {
    return this.identity(user);
  }
  async checkPassword(user: string, password: string, ctx: AuthContext): Promise<CheckResult> {
    const id = this.identity(user);
    if (!id) return { status: 'unknown' };
    const service = ctx.service === 'pop' ? this.cfg.str('pam-service-pop') : this.cfg.str('pam-service-imap');
    const r = pamCheck(service, id.user, password, ctx.remoteAddress);
    return r.ok ? { status: 'ok', identity: id } : { status: 'fail', reason: r.reason };
  }
}
