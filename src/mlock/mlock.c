/*
 * mlock - create and remove a mail spool dot-lock on behalf of an
 * unprivileged process, for spool directories that are not mode 1777
 * (e.g. 2775 root:mail). Install setgid mail:
 *
 *     install -o root -g mail -m 2755 build/mlock /usr/libexec/mlock
 *
 * Protocol (compatible with UW c-client's mlock helper):
 *     mlock FD PATH
 *   FD is a descriptor, inherited from the caller, open on the mailbox PATH.
 *   mlock checks that both name the same regular file, then creates
 *   PATH.lock with the NFS-safe hitching-post method (PATH.lock.TIME.PID.HOST,
 *   link(2), link count 2), seizing a lock whose ctime is older than five
 *   minutes. It writes one byte to stdout: '+' locked, '-' could not lock,
 *   '?' usage or impossible request. It then waits for one byte (or EOF) on
 *   stdin, removes the lock if it is still the one it created, and exits.
 *
 * This small program is C rather than TypeScript because the kernel ignores
 * the setgid bit on interpreted scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOCK_TIMEOUT (5 * 60) /* seconds before a lock is stale */
#define TRIES 299             /* one per second */

static void reply(char c)
{
  (void)!write(1, &c, 1);
}

static int make_lock(const char *lock)
{
  char post[PATH_MAX + 128];
  char host[256];
  struct stat sb;
  int fd;
  if (gethostname(host, sizeof host - 1) != 0) strcpy(host, "localhost");
  host[sizeof host - 1] = '\0';
  if (snprintf(post, sizeof post, "%s.%lu.%lu.%s", lock, (unsigned long)time(0), (unsigned long)getpid(), host) >= (int)sizeof post) return -1;
  fd = open(post, O_WRONLY | O_CREAT | O_EXCL, 0664);
  if (fd < 0) return errno == EACCES ? -2 : -1;
  close(fd);
  (void)link(post, lock); /* the link count tells the truth, not link()'s result (NFS) */
  if (stat(post, &sb) == 0 && sb.st_nlink == 2) {
    unlink(post);
    return 0;
  }
  if (errno == EPERM) { /* file system without hard links */
    unlink(post);
    fd = open(lock, O_WRONLY | O_CREAT | O_EXCL, 0664);
    if (fd >= 0) {
      close(fd);
      return 0;
    }
    return errno == EACCES ? -2 : -1;
  }
  unlink(post);
  return -1;
}

int main(int argc, char *argv[])
{
  struct stat fsb, psb, lsb;
  char lock[PATH_MAX];
  char c;
  int fd, i, r;
  ino_t mine = 0;
  openlog("mlock", LOG_PID, LOG_MAIL);
  if (getegid() == getgid()) {
    syslog(LOG_ERR, "mlock must be installed setgid mail");
    reply('?');
    return 1;
  }
  if (argc != 3 || !*argv[1] || strspn(argv[1], "0123456789") != strlen(argv[1]) || argv[2][0] != '/') {
    reply('?');
    return 1;
  }
  fd = atoi(argv[1]);
  if (fstat(fd, &fsb) != 0 || stat(argv[2], &psb) != 0 || !S_ISREG(psb.st_mode) || fsb.st_dev != psb.st_dev || fsb.st_ino != psb.st_ino) {
    syslog(LOG_NOTICE, "mlock: descriptor %s does not match %s", argv[1], argv[2]);
    reply('?');
    return 1;
  }
  if (snprintf(lock, sizeof lock, "%s.lock", argv[2]) >= (int)sizeof lock) {
    reply('?');
    return 1;
  }
  umask(0);
  for (i = 0; i < TRIES; i++) {
    if (lstat(lock, &lsb) == 0) {
      if (S_ISLNK(lsb.st_mode)) {
        syslog(LOG_CRIT, "SECURITY PROBLEM: symbolic link on lock name %s", lock);
        reply('-');
        return 1;
      }
      if (time(0) - lsb.st_ctime >= LOCK_TIMEOUT) {
        syslog(LOG_NOTICE, "Mailbox %s lock overridden", argv[2]);
        unlink(lock);
      }
    }
    r = make_lock(lock);
    if (r == 0) break;
    if (r == -2) { /* permission denied: give up */
      syslog(LOG_NOTICE, "mlock: can't create %s: permission denied", lock);
      reply('-');
      return 1;
    }
    sleep(1);
  }
  if (i == TRIES || lstat(lock, &lsb) != 0) {
    reply('-');
    return 1;
  }
  mine = lsb.st_ino;
  chmod(lock, 0664);
  reply('+');
  /* Hold until the caller writes a byte or goes away. */
  while ((r = read(0, &c, 1)) < 0 && errno == EINTR)
    ;
  if (lstat(lock, &lsb) == 0 && lsb.st_ino == mine) unlink(lock);
  return 0;
}
