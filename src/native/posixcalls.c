/*
 * The POSIX calls every mail session makes (flock, fcntl record locks, mmap
 * of the scan cache, syslog, malloc_trim, the addresses of an inetd socket)
 * as a small Node-API addon. The
 * same calls are made through koffi when this is not built (no C compiler
 * at install time): see src/runtime/posix.ts. Loading koffi's native module
 * costs about 4 ms of every process that locks a mailbox; this one, a few
 * hundred microseconds.
 *
 * Every function takes plain integers and strings and returns an integer:
 * 0 or a result on success, -errno on failure; none keeps a pointer to a
 * JavaScript value. Node-API is ABI-stable: one build serves every Node
 * version from 18 on.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <syslog.h>
#include <unistd.h>

static napi_value int_value(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value type_error(napi_env env, const char *what) {
  napi_throw_type_error(env, NULL, what);
  return NULL;
}

/* Up to `want` integer arguments; false (a TypeError thrown) when one is missing or not a number. */
static int int_args(napi_env env, napi_callback_info info, size_t want, int64_t *out) {
  napi_value argv[6];
  size_t argc = 6;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) return 0;
  for (size_t i = 0; i < want; i++)
    if (napi_get_value_int64(env, argv[i], &out[i]) != napi_ok) return 0;
  return 1;
}

/* flock(fd, op) -> 0 | -errno (EINTR retried). A request without LOCK_NB blocks the thread. */
static napi_value Flock(napi_env env, napi_callback_info info) {
  int64_t a[2];
  if (!int_args(env, info, 2, a)) return type_error(env, "flock(fd, op)");
  int r;
  do r = flock((int)a[0], (int)a[1]);
  while (r != 0 && errno == EINTR);
  return int_value(env, r == 0 ? 0 : -errno);
}

/*
 * fcntlLock(fd, cmd, type) -> 0 | -errno: F_SETLK / F_SETLKW of `type` over
 * the whole file (l_whence SEEK_SET, l_start 0, l_len 0; EINTR retried).
 * With F_GETLK: the PID holding a conflicting lock, or 0 when there is none.
 */
static napi_value FcntlLock(napi_env env, napi_callback_info info) {
  int64_t a[3];
  if (!int_args(env, info, 3, a)) return type_error(env, "fcntlLock(fd, cmd, type)");
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = (short)a[2];
  fl.l_whence = SEEK_SET;
  int r;
  do r = fcntl((int)a[0], (int)a[1], &fl);
  while (r != 0 && errno == EINTR);
  if (r != 0) return int_value(env, -errno);
  if (a[1] == F_GETLK) return int_value(env, fl.l_type == F_UNLCK ? 0 : fl.l_pid);
  return int_value(env, 0);
}

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

/*
 * mapPrivate(fd, size) -> ArrayBuffer | -errno: the file mapped
 * copy-on-write (PROT_READ|PROT_WRITE, MAP_PRIVATE), unmapped when the
 * ArrayBuffer is collected.
 */
static napi_value MapPrivate(napi_env env, napi_callback_info info) {
  int64_t a[2];
  if (!int_args(env, info, 2, a) || a[1] <= 0) return type_error(env, "mapPrivate(fd, size)");
  size_t size = (size_t)a[1];
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, (int)a[0], 0);
  if (p == MAP_FAILED) return int_value(env, -errno);
  napi_value ab;
  if (napi_create_external_arraybuffer(env, p, size, unmap, (void *)(uintptr_t)size, &ab) != napi_ok) {
    munmap(p, size);
    return int_value(env, -ENOMEM);
  }
  return ab;
}

/* A string argument copied into a new C string (free it), or NULL. */
static char *string_arg(napi_env env, napi_value v) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (!s) return NULL;
  if (napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

static char *syslog_ident; /* openlog keeps the pointer: it lives until the next openlog */

/* openlog(ident, option, facility) -> 0 */
static napi_value Openlog(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  size_t argc = 3;
  int32_t option, facility;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[1], &option) != napi_ok || napi_get_value_int32(env, argv[2], &facility) != napi_ok)
    return type_error(env, "openlog(ident, option, facility)");
  char *ident = string_arg(env, argv[0]);
  if (!ident) return type_error(env, "openlog(ident, option, facility)");
  openlog(ident, option, facility);
  free(syslog_ident);
  syslog_ident = ident;
  return int_value(env, 0);
}

/* syslog(priority, message) -> 0: the message is a "%s" argument, never a format. */
static napi_value Syslog(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  size_t argc = 2;
  int32_t prio;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &prio) != napi_ok)
    return type_error(env, "syslog(priority, message)");
  char *msg = string_arg(env, argv[1]);
  if (!msg) return type_error(env, "syslog(priority, message)");
  syslog(prio, "%s", msg);
  free(msg);
  return int_value(env, 0);
}

/* mallocTrim() -> what malloc_trim(0) returned (1 when memory was given back). */
static napi_value MallocTrim(napi_env env, napi_callback_info info) {
  (void)info;
  return int_value(env, malloc_trim(0));
}

/* strerror(errno) -> text */
static napi_value Strerror(napi_env env, napi_callback_info info) {
  int64_t a[1];
  if (!int_args(env, info, 1, a)) return type_error(env, "strerror(errno)");
  char buf[256];
  const char *t = strerror_r((int)a[0], buf, sizeof buf); /* GNU strerror_r */
  napi_value out;
  napi_create_string_utf8(env, t, NAPI_AUTO_LENGTH, &out);
  return out;
}

/* One end of a TCP socket as address text and port; 0 = not an IP socket, -errno on failure. */
static int name_of(int fd, int peer, char *addr, size_t len, int *port) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl) : getsockname(fd, (struct sockaddr *)&ss, &sl)) != 0) return -errno;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    if (!inet_ntop(AF_INET, &a->sin_addr, addr, len)) return -errno;
    *port = ntohs(a->sin_port);
    return 1;
  }
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    if (!inet_ntop(AF_INET6, &a->sin6_addr, addr, len)) return -errno;
    *port = ntohs(a->sin6_port);
    return 1;
  }
  return 0;
}

/*
 * socketNames(fd) -> [peer address, peer port, local address, local port]
 * of an IPv4/IPv6 socket (inet_ntop forms, as Node reports them), [] for
 * another kind of socket, -errno when fd is not a connected socket.
 */
static napi_value SocketNames(napi_env env, napi_callback_info info) {
  int64_t a[1];
  if (!int_args(env, info, 1, a)) return type_error(env, "socketNames(fd)");
  char peer[INET6_ADDRSTRLEN], local[INET6_ADDRSTRLEN];
  int pport = 0, lport = 0;
  int r = name_of((int)a[0], 1, peer, sizeof peer, &pport);
  if (r < 0) return int_value(env, r);
  napi_value out;
  napi_create_array(env, &out);
  if (r == 0) return out;
  r = name_of((int)a[0], 0, local, sizeof local, &lport);
  if (r < 0) return int_value(env, r);
  napi_value v;
  napi_create_string_utf8(env, peer, NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, 0, v);
  napi_set_element(env, out, 1, int_value(env, pport));
  napi_create_string_utf8(env, r == 1 ? local : "", NAPI_AUTO_LENGTH, &v);
  napi_set_element(env, out, 2, v);
  napi_set_element(env, out, 3, int_value(env, r == 1 ? lport : 0));
  return out;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {
      {"flock", Flock}, {"fcntlLock", FcntlLock}, {"mapPrivate", MapPrivate}, {"openlog", Openlog},
      {"syslog", Syslog}, {"mallocTrim", MallocTrim}, {"strerror", Strerror}, {"socketNames", SocketNames},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}
