/**
 * The POSIX calls Node lacks, through one small FFI bridge (koffi, which ships
 * prebuilt binaries in its npm package). Loaded lazily: a daemon that never
 * locks a file or reads the password database never maps libc through koffi.
 * The calls every session makes — flock, fcntl locks, mmap, syslog,
 * malloc_trim — go through a small addon of our own instead when the build
 * made one (src/native/posixcalls.c; about 0.3 ms to load against koffi's
 * 3–4 ms); koffi makes them where it did not.
 *
 * Node itself covers setuid/setgid/setgroups/initgroups/kill/fstat; this
 * module adds flock(2), fcntl(2) record locks, syslog(3), getpwnam(3)/
 * getpwuid(3) (through NSS, so LDAP/sssd users resolve), getspnam(3) and
 * crypt(3) from libcrypt (yescrypt, sha512-crypt, bcrypt … whatever the
 * system supports).
 */
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Koffi = any;

let koffiMod: Koffi | undefined;
export function koffi(): Koffi {
  if (!koffiMod) koffiMod = nativeKoffi() ?? require('koffi');
  return koffiMod;
}

/**
 * Koffi's prebuilt native module for this platform, loaded directly. Its
 * JavaScript entry point would also load https, zlib and crypto to be able to
 * download binaries — about 10 ms of every process start that locks a
 * mailbox. The native module has the same API; anything unexpected (another
 * layout, a musl system, a version mismatch) falls back to the entry point.
 */
function nativeKoffi(): Koffi | undefined {
  try {
    const pkgPath = require.resolve('koffi/package.json');
    const pkg = require(pkgPath) as { version: string };
    const mod = require(`${pkgPath.slice(0, -'package.json'.length)}build/koffi/${process.platform}_${process.arch}/koffi.node`) as Koffi;
    return mod && mod.version === pkg.version && typeof mod.load === 'function' && typeof mod.struct === 'function' ? mod : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The calls every session makes, as build/posixcalls.node exports them and
 * as koffiCalls() makes them where it was not built: each returns 0 or a
 * result, or -errno (EINTR retried). The exported functions below classify
 * the results once, whichever way they came.
 */
interface Calls {
  flock(fd: number, op: number): number;
  /** F_SETLK / F_SETLKW of `type` over the whole file; with F_GETLK the PID holding a conflicting lock, or 0. */
  fcntlLock(fd: number, cmd: number, type: number): number;
  /** The file mapped copy-on-write, unmapped once the ArrayBuffer is collected. */
  mapPrivate(fd: number, size: number): ArrayBuffer | number;
  openlog(ident: string, option: number, facility: number): number;
  syslog(priority: number, message: string): number;
  mallocTrim(): number;
  strerror(errno: number): string;
  /** [peer address, peer port, local address, local port] of an IP socket, [] for another socket, or -errno (the addon only). */
  socketNames?(fd: number): [string, number, string, number] | [] | number;
}
let addonMod: Calls | null | undefined;
/** The addon, when it was built (and not turned off by useAddon(false)). */
function addon(): Calls | undefined {
  if (addonMod === undefined) {
    addonMod = null;
    try {
      const m = { exports: {} as Calls };
      process.dlopen(m, fileURLToPath(new URL('../../build/posixcalls.node', import.meta.url)));
      if (typeof m.exports.flock === 'function' && typeof m.exports.mapPrivate === 'function') addonMod = m.exports;
    } catch {
      /* not built here: koffi */
    }
  }
  return addonMod ?? undefined;
}
/** The calls: the addon's, else koffi's (which loads koffi; throws where there is no FFI). */
function calls(): Calls {
  return addon() ?? koffiCalls();
}
/** Which way the calls go; `useAddon(false)` sends them through koffi (tests of both ways). */
export function posixBackend(): 'addon' | 'koffi' {
  return addon() ? 'addon' : 'koffi';
}
export function useAddon(on: boolean): void {
  addonMod = on ? undefined : null;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = any;
interface Libc {
  flock: Fn;
  fcntl: Fn;
  fcntlSet: Fn;
  openlog: Fn;
  syslog: Fn;
  closelog: Fn;
  getpwnam: Fn;
  getpwuid: Fn;
  getspnam: Fn;
  strerror: Fn;
  getppid: Fn;
  mallocTrim: Fn;
  mmap: Fn;
  munmap: Fn;
  passwdType: Fn;
  spwdType: Fn;
  flockType: Fn;
}
let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const k = koffi();
  const lib = k.load('libc.so.6');
  const passwdType = k.struct('passwd', {
    pw_name: 'const char *',
    pw_passwd: 'const char *',
    pw_uid: 'uint32_t',
    pw_gid: 'uint32_t',
    pw_gecos: 'const char *',
    pw_dir: 'const char *',
    pw_shell: 'const char *',
  });
  const spwdType = k.struct('spwd', {
    sp_namp: 'const char *',
    sp_pwdp: 'const char *',
    sp_lstchg: 'long',
    sp_min: 'long',
    sp_max: 'long',
    sp_warn: 'long',
    sp_inact: 'long',
    sp_expire: 'long',
    sp_flag: 'unsigned long',
  });
  // struct flock on x86_64/aarch64 Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
  const flockType = k.struct('flock_s', {
    l_type: 'short',
    l_whence: 'short',
    l_start: 'int64_t',
    l_len: 'int64_t',
    l_pid: 'int32_t',
  });
  libc = {
    flock: lib.func('int flock(int fd, int operation)'),
    fcntl: lib.func('int fcntl(int fd, int cmd, _Inout_ flock_s *lock)'),
    // F_SETLK/F_SETLKW only read the struct: passed as bytes made once
    // (marshalling an object in and out cost 3.5 µs a call, this 1.4 µs).
    fcntlSet: lib.func('int fcntl(int fd, int cmd, void *lock)'),
    openlog: lib.func('void openlog(const char *ident, int option, int facility)'),
    syslog: lib.func('void syslog(int priority, const char *format, const char *msg)'),
    closelog: lib.func('void closelog(void)'),
    getpwnam: lib.func('passwd *getpwnam(const char *name)'),
    getpwuid: lib.func('passwd *getpwuid(uint32_t uid)'),
    getspnam: lib.func('spwd *getspnam(const char *name)'),
    strerror: lib.func('const char *strerror(int errnum)'),
    getppid: lib.func('int getppid(void)'),
    mallocTrim: lib.func('int malloc_trim(size_t pad)'),
    mmap: lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
    munmap: lib.func('int munmap(void *addr, size_t length)'),
    passwdType,
    spwdType,
    flockType,
  };
  return libc;
}

let koffiCallsMod: Calls | undefined;
/** The Calls through koffi, with the addon's conventions. */
function koffiCalls(): Calls {
  if (koffiCallsMod) return koffiCallsMod;
  const l = loadLibc();
  const k = koffi();
  /** `call` again while it fails with EINTR; 0, or -errno. */
  const retrying = (call: () => number): number => {
    for (;;) {
      if (call() === 0) return 0;
      const e = lastErrno();
      if (e !== EINTR) return -e;
    }
  };
  let ident: Buffer | undefined; // openlog keeps the pointer: keep the memory alive
  koffiCallsMod = {
    flock: (fd, op) => retrying(() => l.flock(fd, op) as number),
    fcntlLock: (fd, cmd, type) => {
      if (cmd !== F_GETLK) return retrying(() => l.fcntlSet(fd, cmd, lockBytes(type)) as number);
      const lk = { l_type: type, l_whence: 0, l_start: 0, l_len: 0, l_pid: 0 };
      if ((l.fcntl(fd, F_GETLK, lk) as number) !== 0) return -lastErrno();
      return lk.l_type === F_UNLCK ? 0 : lk.l_pid;
    },
    mapPrivate: (fd, size) => {
      const PROT_READ_WRITE = 0x3;
      const MAP_PRIVATE = 0x02;
      const p = l.mmap(null, size, PROT_READ_WRITE, MAP_PRIVATE, fd, 0);
      if (p === null || k.address(p) === 0xffffffffffffffffn) return -lastErrno(); // MAP_FAILED
      let ab: ArrayBuffer;
      try {
        ab = k.view(p, size) as ArrayBuffer;
      } catch {
        l.munmap(p, size);
        return -12; // ENOMEM: this runtime allows no external buffers
      }
      unmapper.register(ab, { p, size });
      return ab;
    },
    openlog: (name, option, facility) => {
      ident = Buffer.from(name + '\0');
      l.openlog(ident, option, facility);
      return 0;
    },
    syslog: (priority, message) => {
      l.syslog(priority, '%s', message);
      return 0;
    },
    mallocTrim: () => l.mallocTrim(0) as number,
    strerror: (errno) => String(l.strerror(errno)),
  };
  return koffiCallsMod;
}
const unmapper = new FinalizationRegistry<{ p: unknown; size: number }>(({ p, size }) => {
  try {
    loadLibc().munmap(p, size);
  } catch {
    /* the mapping stays until exit */
  }
});

/**
 * Give the C heap's free pages back to the system (glibc malloc_trim(3)).
 * ArrayBuffers and Buffers live there: after a large mailbox was scanned the
 * freed space would otherwise stay part of the process. False when it
 * cannot be done here (no glibc, no FFI).
 */
export function mallocTrim(): boolean {
  try {
    calls().mallocTrim();
    return true;
  } catch {
    return false;
  }
}

/**
 * The bytes of an open file, mapped copy-on-write (mmap(2), MAP_PRIVATE):
 * nothing is copied or read ahead; pages come from the page cache as they
 * are touched, shared with every other process mapping the same file,
 * until this process writes one (then that page is its own). Unmapped once
 * the ArrayBuffer has been collected. Undefined when it cannot be done
 * here (no FFI, an empty file, mmap failing): read the file instead. The
 * file must not be truncated while mapped (touching a page beyond its end
 * is SIGBUS): map only files that are replaced by rename, never shortened.
 */
export function mapFile(fd: number, size: number): ArrayBuffer | undefined {
  if (!(size > 0)) return undefined;
  try {
    const r = calls().mapPrivate(fd, size);
    return typeof r === 'number' ? undefined : r;
  } catch {
    return undefined;
  }
}

/** An Error carrying errno, like Node's own system errors. */
export class PosixError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(`${syscall}: ${errnoText(errno)}`);
    this.name = 'PosixError';
  }
  get code(): string {
    return ERRNO_NAMES[this.errno] ?? `E${this.errno}`;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  9: 'EBADF',
  11: 'EAGAIN',
  13: 'EACCES',
  17: 'EEXIST',
  22: 'EINVAL',
  28: 'ENOSPC',
  35: 'EDEADLK',
  37: 'ENOLCK',
};
export const EAGAIN = 11;
export const EWOULDBLOCK = 11;
export const EINTR = 4;
export const EACCES = 13;

/**
 * Both ends of the IP socket on `fd` (getpeername/getsockname, addresses as
 * Node reports them), read without Node's net module, so that a daemon
 * started by inetd can greet before loading it. null: not an IP socket (or
 * not connected); undefined: cannot tell here (no addon; use net.Socket).
 */
export function socketNames(fd: number): { remoteAddress: string; remotePort: number; localAddress: string; localPort: number } | null | undefined {
  const a = addon();
  if (!a?.socketNames) return undefined;
  const r = a.socketNames(fd);
  if (typeof r === 'number' || r.length === 0) return null;
  return { remoteAddress: r[0], remotePort: r[1], localAddress: r[2], localPort: r[3] };
}

export function errnoText(errno: number): string {
  try {
    return calls().strerror(errno);
  } catch {
    return `errno ${errno}`;
  }
}

function lastErrno(): number {
  return koffi().errno() as number;
}

// ---------------------------------------------------------------- flock(2)

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/**
 * flock(2) without blocking the event loop: LOCK_NB requests return false when
 * the lock is busy; blocking requests run on koffi's worker thread.
 */
export function flockSync(fd: number, op: number): boolean {
  const r = calls().flock(fd, op);
  if (r === 0) return true;
  if (-r === EAGAIN && op & LOCK_NB) return false;
  throw new PosixError('flock', -r);
}

/** Blocking flock(2) on a worker thread, so the event loop keeps running. */
export function flock(fd: number, op: number): Promise<boolean> {
  if (op & LOCK_NB || op === LOCK_UN) return Promise.resolve(flockSync(fd, op));
  // Try without blocking first: the common case costs no thread hop (and no koffi).
  try {
    if (flockSync(fd, op | LOCK_NB)) return Promise.resolve(true);
  } catch (e) {
    return Promise.reject(e);
  }
  const l = loadLibc();
  return new Promise((resolve, reject) => {
    l.flock.async(fd, op, (err: Error | null, r: number) => {
      if (err) return reject(err);
      if (r === 0) return resolve(true);
      // errno of a worker-thread call is not reliably visible here; retry synchronously to classify.
      try {
        resolve(flockSync(fd, op | LOCK_NB));
      } catch (e) {
        reject(e);
      }
    });
  });
}

// ------------------------------------------------------- fcntl(2) locks

const F_GETLK = 5;
const F_SETLK = 6;
const F_SETLKW = 7;
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

/**
 * POSIX record lock over the whole file (what Postfix, procmail and mutt use
 * on Linux). Returns false when `wait` is false and the lock is held elsewhere.
 */
export function fcntlLockSync(fd: number, type: number, wait = false): boolean {
  const r = calls().fcntlLock(fd, wait ? F_SETLKW : F_SETLK, type);
  if (r === 0) return true;
  if (!wait && (-r === EAGAIN || -r === EACCES)) return false;
  throw new PosixError('fcntl', -r);
}

/** A struct flock for the whole file (l_whence SEEK_SET, l_start 0, l_len 0) with l_type `type`, made once per type. */
const lockStructs = new Map<number, Buffer>();
function lockBytes(type: number): Buffer {
  let b = lockStructs.get(type);
  if (!b) {
    const k = koffi();
    const t = loadLibc().flockType;
    b = Buffer.alloc(k.sizeof(t) as number);
    const at = k.offsetof(t, 'l_type') as number;
    if (endianness() === 'LE') b.writeInt16LE(type, at);
    else b.writeInt16BE(type, at);
    lockStructs.set(type, b);
  }
  return b;
}

/** PID holding a conflicting POSIX lock, or 0 when the lock could be taken. */
export function fcntlLockHolder(fd: number, type: number): number {
  const r = calls().fcntlLock(fd, F_GETLK, type);
  if (r < 0) throw new PosixError('fcntl', -r);
  return r;
}

// ------------------------------------------------------------- syslog(3)

export const LOG_PID = 0x01;
export const LOG_NDELAY = 0x08;
export const LOG_MAIL = 2 << 3;
export const LOG_AUTH = 4 << 3;
export const LOG_AUTHPRIV = 10 << 3;
export const LOG_LOCAL0 = 16 << 3;
export const LOG_EMERG = 0;
export const LOG_ALERT = 1;
export const LOG_CRIT = 2;
export const LOG_ERR = 3;
export const LOG_WARNING = 4;
export const LOG_NOTICE = 5;
export const LOG_INFO = 6;
export const LOG_DEBUG = 7;

export const SYSLOG_FACILITIES: Record<string, number> = {
  mail: LOG_MAIL,
  auth: LOG_AUTH,
  authpriv: LOG_AUTHPRIV,
  daemon: 3 << 3,
  user: 1 << 3,
  local0: 16 << 3,
  local1: 17 << 3,
  local2: 18 << 3,
  local3: 19 << 3,
  local4: 20 << 3,
  local5: 21 << 3,
  local6: 22 << 3,
  local7: 23 << 3,
};

export function openlog(ident: string, option: number, facility: number): void {
  calls().openlog(ident, option, facility);
}
export function syslog(priority: number, message: string): void {
  calls().syslog(priority, message);
}

// --------------------------------------------------- password database

export interface Passwd {
  name: string;
  passwd: string;
  uid: number;
  gid: number;
  gecos: string;
  dir: string;
  shell: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function decodePasswd(p: any): Passwd | undefined {
  if (!p) return undefined;
  const k = koffi();
  const s = k.decode(p, loadLibc().passwdType);
  return {
    name: s.pw_name ?? '',
    passwd: s.pw_passwd ?? '',
    uid: s.pw_uid,
    gid: s.pw_gid,
    gecos: s.pw_gecos ?? '',
    dir: s.pw_dir ?? '',
    shell: s.pw_shell ?? '',
  };
}

/** getpwnam(3) through NSS (files, LDAP, sssd … as nsswitch.conf says). */
export function getpwnam(name: string): Passwd | undefined {
  return decodePasswd(loadLibc().getpwnam(name));
}
export function getpwuid(uid: number): Passwd | undefined {
  return decodePasswd(loadLibc().getpwuid(uid));
}

export interface Shadow {
  name: string;
  passwd: string;
  lastChange: number; // days since epoch, -1 unknown
  min: number;
  max: number;
  warn: number;
  inactive: number;
  expire: number;
}
/** getspnam(3); needs root (or group shadow). undefined when not found or not permitted. */
export function getspnam(name: string): Shadow | undefined {
  const l = loadLibc();
  const p = l.getspnam(name);
  if (!p) return undefined;
  const s = koffi().decode(p, l.spwdType);
  return {
    name: s.sp_namp ?? '',
    passwd: s.sp_pwdp ?? '',
    lastChange: Number(s.sp_lstchg),
    min: Number(s.sp_min),
    max: Number(s.sp_max),
    warn: Number(s.sp_warn),
    inactive: Number(s.sp_inact),
    expire: Number(s.sp_expire),
  };
}

// --------------------------------------------------------------- crypt(3)

let cryptFn: Fn | undefined;
/**
 * crypt(3) from the system's libcrypt (libxcrypt on Debian): every hash
 * method the system supports. Returns null when the setting is invalid
 * (libxcrypt returns "*0"/"*1" or NULL then).
 */
export function crypt(password: string, setting: string): string | null {
  if (!cryptFn) {
    const lib = koffi().load('libcrypt.so.1');
    cryptFn = lib.func('const char *crypt(const char *phrase, const char *setting)');
  }
  const r = cryptFn(password, setting) as string | null;
  if (!r || r.startsWith('*')) return null;
  return r;
}

export function getppid(): number {
  return loadLibc().getppid() as number;
}
