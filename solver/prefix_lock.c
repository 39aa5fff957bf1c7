/* One run per snapshot_prefix: an advisory lock (flock) on <prefix>.lock,
 * held for the solver's lifetime, so that two runs started on one prefix (a
 * requeued job whose first copy still runs, a command pasted twice) cannot
 * interleave snapshots, retention and --resume auto over each other's files.
 *
 * The file holds the holder's pid, for the second run's message. It stays
 * after the run: the lock, not the file, is what counts, and the kernel drops
 * it when the holder exits however it exits (SIGKILL included), so a stale
 * file never blocks a rerun. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "solver_impl.h"

/* mkdir -p of the folder part of path; 0, or -1 with errno set. */
static int make_parent_dirs(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    *slash = 0;
    int rc = 0;
    for (char *c = path + 1; *c && !rc; c++) {
        if (*c != '/') continue;
        *c = 0;
        if (mkdir(path, 0777) && errno != EEXIST) rc = -1;
        *c = '/';
    }
    if (!rc && mkdir(path, 0777) && errno != EEXIST) rc = -1;
    *slash = '/';
    return rc;
}

int cliff_solver_lock_prefix(CliffSolver *s, CliffError *err)
{
    if (!s->prefix[0] || s->lock_fd >= 0 || !cliff_dist_lead(s)) return 0;
    size_t n = strlen(s->prefix) + sizeof ".lock";
    char *path = malloc(n);
    if (!path) return cliff_error_set(err, "out of memory");
    snprintf(path, n, "%s.lock", s->prefix);
    int fd = -1;
    if (make_parent_dirs(path) || (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666)) < 0) {
        cliff_error_set(err, "cannot create the snapshot_prefix lock '%s': %s", path,
                        strerror(errno));
        free(path);
        return cliff_error_mark(err, CLIFF_ERR_IO);
    }
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int e = errno;
        char holder[32] = "";
        ssize_t got = pread(fd, holder, sizeof holder - 1, 0);
        holder[got > 0 ? got : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        if (e == EWOULDBLOCK)
            cliff_error_set(err, "snapshot_prefix '%s' is in use by another run (pid %s holds "
                            "'%s'): two runs on one prefix would interleave their snapshots; "
                            "give this run another snapshot_prefix, or wait for that one",
                            s->prefix, holder[0] ? holder : "unknown", path);
        else
            cliff_error_set(err, "cannot lock '%s': %s", path, strerror(e));
        close(fd);
        free(path);
        return e == EWOULDBLOCK ? -1 : cliff_error_mark(err, CLIFF_ERR_IO);
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    /* the pid is for messages only: a failed write leaves the lock in force */
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) != len) (void)0;
    s->lock_fd = fd;
    free(path);
    return 0;
}

void cliff_solver_unlock_prefix(CliffSolver *s)
{
    if (s->lock_fd < 0) return;
    close(s->lock_fd); /* closing the only descriptor drops the flock */
    s->lock_fd = -1;
}
