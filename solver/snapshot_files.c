/* The snapshots of one snapshot_prefix on disk, for runs nobody watches:
 * retention (snapshot_keep) and --resume auto.
 *
 * A snapshot pair is <prefix>_iter_<N>.caffemodel[.h5] and
 * <prefix>_iter_<N>.solverstate[.h5], both written to a temporary and renamed
 * (snapshot.c), so a name under its final form is always a complete file.
 * Only names of exactly that form are ever deleted here; any other file in
 * the folder (another prefix's, a user's copy, the non-finite guard's last
 * good state <prefix>_iter_<N>.lastgood.*) is never touched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "solver/formats/snapshot.h"
#include "solver_impl.h"

typedef struct SnapFile {
    int iter;   /* N of the name */
    int state;  /* 1: a .solverstate[.h5], 0: a .caffemodel[.h5] */
    int h5;     /* the .h5 form */
    int stored; /* state files for resume: the iteration stored inside, else -1 */
    int lastgood; /* the guard's last good state (CLIFF_LASTGOOD_TAG before the extension) */
    char *path;
} SnapFile;

typedef struct SnapList {
    SnapFile *f;
    int n;
    char *dir; /* the prefix's folder ("." when it has none) */
} SnapList;

/* Parses "<base>_iter_<digits><ext>" for the four snapshot extensions,
 * comparing the base literally. With lastgood, "<base>_iter_<digits>" +
 * CLIFF_LASTGOOD_TAG + <ext> too. Returns 1 and fills *f's
 * iter/state/h5/lastgood. */
static int parse_name(const char *name, const char *base, int lastgood, SnapFile *f)
{
    static const struct { const char *ext; int state, h5; } exts[] = {
        {".caffemodel", 0, 0}, {".caffemodel.h5", 0, 1},
        {".solverstate", 1, 0}, {".solverstate.h5", 1, 1},
    };
    size_t n = strlen(base);
    if (strncmp(name, base, n) || strncmp(name + n, "_iter_", 6)) return 0;
    const char *p = name + n + 6, *digits = p;
    long long v = 0;
    while (*p >= '0' && *p <= '9' && v <= 0x7fffffff) v = v * 10 + (*p++ - '0');
    if (p == digits || v > 0x7fffffff) return 0;
    size_t tag = strlen(CLIFF_LASTGOOD_TAG);
    f->lastgood = lastgood && strncmp(p, CLIFF_LASTGOOD_TAG, tag) == 0;
    if (f->lastgood) p += tag;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcmp(p, exts[i].ext) == 0) {
            f->iter = (int)v;
            f->state = exts[i].state;
            f->h5 = exts[i].h5;
            return 1;
        }
    return 0;
}

static void list_free(SnapList *l)
{
    for (int i = 0; i < l->n; i++) free(l->f[i].path);
    free(l->f);
    free(l->dir);
    memset(l, 0, sizeof *l);
}

/* Every snapshot file of prefix, unordered (with lastgood, the last good
 * state pairs too). -1 only when out of memory (a folder that does not exist
 * yet holds no snapshot). */
static int list_files(const char *prefix, int lastgood, SnapList *l)
{
    memset(l, 0, sizeof *l);
    char *copy = strdup(prefix);
    if (!copy) return -1;
    char *slash = strrchr(copy, '/');
    const char *base = copy;
    if (slash) {
        *slash = 0;
        l->dir = strdup(slash == copy ? "/" : copy);
        base = slash + 1;
    } else {
        l->dir = strdup(".");
    }
    int rc = l->dir ? 0 : -1, cap = 0;
    DIR *d = rc ? NULL : opendir(l->dir);
    for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
        SnapFile f = {0, 0, 0, -1, 0, NULL};
        if (!parse_name(e->d_name, base, lastgood, &f)) continue;
        if (l->n == cap) {
            cap = cap ? 2 * cap : 16;
            SnapFile *g = realloc(l->f, (size_t)cap * sizeof *g);
            if (!g) { rc = -1; break; }
            l->f = g;
        }
        size_t len = strlen(l->dir) + strlen(e->d_name) + 2;
        f.path = malloc(len);
        if (!f.path) { rc = -1; break; }
        snprintf(f.path, len, "%s/%s", l->dir, e->d_name);
        l->f[l->n++] = f;
    }
    if (d) closedir(d);
    free(copy);
    if (rc) list_free(l);
    return rc;
}

/* Index of the file of the other half of f's pair (same N, same form), or -1. */
static int partner(const SnapList *l, const SnapFile *f)
{
    for (int i = 0; i < l->n; i++)
        if (l->f[i].iter == f->iter && l->f[i].h5 == f->h5 && l->f[i].state != f->state &&
            l->f[i].lastgood == f->lastgood)
            return i;
    return -1;
}

static int by_iter_desc(const void *a, const void *b)
{
    const SnapFile *x = a, *y = b;
    if (x->iter != y->iter) return x->iter < y->iter ? 1 : -1;
    return x->state != y->state ? y->state - x->state : y->h5 - x->h5;
}

/* So that every rename before it (the pair just written) is on disk before
 * anything is deleted. */
static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

void cliff_snapshot_retain(CliffSolver *s)
{
    int keep = s->sp->snapshot_keep;
    if (keep <= 0 || !s->prefix[0]) return;
    SnapList l;
    /* the last good state is not listed: never counted, never deleted */
    if (list_files(s->prefix, 0, &l)) return; /* out of memory: keep everything */
    qsort(l.f, (size_t)l.n, sizeof *l.f, by_iter_desc);
    /* Complete pairs up to this iteration, newest first: the newest `keep`
     * stay (the pair just written is the first). Pairs past this iteration
     * belong to another run's timeline (a longer run of the same prefix, a
     * state before a rollback): they are not older, so they stay. The pair
     * this run resumed from stays until a complete pair newer than it exists
     * (one always does when this runs after a snapshot past it; the rule holds
     * whatever the caller). */
    int *doomed = calloc((size_t)l.n + 1, sizeof *doomed);
    if (!doomed) {
        list_free(&l);
        return;
    }
    int have_newer = 0;
    for (int i = 0; i < l.n; i++)
        if (l.f[i].state && partner(&l, &l.f[i]) >= 0 && l.f[i].iter > s->resumed_iter &&
            l.f[i].iter <= s->iter)
            have_newer = 1;
    int kept = 0;
    for (int i = 0; i < l.n; i++) {
        SnapFile *f = &l.f[i];
        int other = f->state ? partner(&l, f) : -1;
        if (other < 0 || f->iter > s->iter) continue; /* orphans: below */
        int resumed = s->resumed_path && strcmp(f->path, s->resumed_path) == 0;
        if (kept < keep) {
            kept++;
            continue;
        }
        if (resumed && !have_newer) continue;
        doomed[i] = doomed[other] = 1;
    }
    /* A model whose state is gone (a run killed between the two deletions of
     * a pair) is deleted when it is older than the oldest pair kept. */
    int oldest_kept = -1;
    for (int i = 0; i < l.n; i++)
        if (l.f[i].state && !doomed[i] && partner(&l, &l.f[i]) >= 0) oldest_kept = l.f[i].iter;
    for (int i = 0; i < l.n; i++)
        if (!l.f[i].state && partner(&l, &l.f[i]) < 0 && oldest_kept >= 0 &&
            l.f[i].iter < oldest_kept)
            doomed[i] = 1;
    sync_dir(l.dir);
    /* State first, then its model: a kill in between leaves a model alone, which
     * no resume picks and the next pass deletes. */
    for (int pass = 1; pass >= 0; pass--)
        for (int i = 0; i < l.n; i++) {
            if (!doomed[i] || l.f[i].state != pass) continue;
            if (unlink(l.f[i].path) == 0)
                cliff_log_event(s->fmt, s->log, s->iter, "snapshot",
                                "removed %s (snapshot_keep %d)", l.f[i].path, keep);
            else if (errno != ENOENT)
                cliff_log_event(s->fmt, s->log, s->iter, "warning", "cannot remove %s: %s",
                                l.f[i].path, strerror(errno));
        }
    free(doomed);
    list_free(&l);
}

int cliff_solver_resume_from(CliffSolver *s, const char *state_path, CliffError *err)
{
    if (cliff_solver_restore(s, state_path, err)) return -1;
    free(s->resumed_path);
    s->resumed_path = strdup(state_path);
    s->resumed_iter = s->iter;
    s->last_snapshot_iter = s->iter; /* that state is on disk already */
    return s->resumed_path ? 0 : cliff_error_set(err, "out of memory");
}

int cliff_solver_resume_auto(CliffSolver *s, CliffError *err)
{
    if (!s->prefix[0])
        return cliff_error_set(err, "--resume auto needs a snapshot_prefix (the snapshots it "
                                    "looks for are <snapshot_prefix>_iter_N.solverstate[.h5])");
    SnapList l;
    if (list_files(s->prefix, 1, &l)) return cliff_error_set(err, "out of memory");
    /* The iteration stored inside each state file, not its name or time. */
    for (int i = 0; i < l.n; i++) {
        if (!l.f[i].state || l.f[i].lastgood) continue;
        CliffStateData d;
        CliffError e;
        if (cliff_state_read(l.f[i].path, &d, &e)) {
            cliff_log_event(s->fmt, s->log, -1, "warning", "--resume auto: skipping %s: %s",
                            l.f[i].path, e.msg);
            continue;
        }
        l.f[i].stored = d.iter;
        cliff_state_data_free(&d);
    }
    int tried = 0, best = -1;
    CliffError last;
    for (;;) {
        best = -1;
        for (int i = 0; i < l.n; i++)
            if (l.f[i].state && !l.f[i].lastgood && l.f[i].stored >= 0 &&
                (best < 0 || l.f[i].stored > l.f[best].stored))
                best = i;
        if (best < 0) break;
        tried++;
        if (cliff_solver_resume_from(s, l.f[best].path, &last) == 0) break;
        cliff_log_event(s->fmt, s->log, -1, "warning", "--resume auto: skipping %s: %s",
                        l.f[best].path, last.msg);
        l.f[best].stored = -1;
    }
    /* A last good state is never chosen: the run that saved it diverged after
     * it (the same solver diverges again, bit for bit), and it may belong to a
     * timeline abandoned since. The newest (by its name's N) is named, so that
     * a person who changes what diverged can resume it. */
    int good = -1;
    for (int i = 0; i < l.n; i++)
        if (l.f[i].lastgood && l.f[i].state && partner(&l, &l.f[i]) >= 0 &&
            (good < 0 || l.f[i].iter > l.f[good].iter))
            good = i;
    if (good >= 0)
        cliff_log_event(s->fmt, s->log, -1, "warning",
                        "--resume auto: not resuming %s, the last good state (iteration %d) "
                        "of a run stopped by the non-finite guard: to restart from it after "
                        "changing what diverged, pass --resume %s",
                        l.f[good].path, l.f[good].iter, l.f[good].path);
    int rc = 0;
    if (best < 0 && tried) {
        /* Files that read whole but do not fit this net or solver: starting
         * over would bury them under new snapshots of the same prefix. */
        cliff_error_set(err, "--resume auto: none of the %d readable snapshot(s) of '%s' "
                        "resumes this solver (the last: %s); not starting over them",
                        tried, s->prefix, last.msg);
        rc = -1;
    } else if (best < 0) {
        cliff_log_event(s->fmt, s->log, 0, "resume",
                        "--resume auto: no complete snapshot of %s_iter_*: starting fresh",
                        s->prefix);
    }
    list_free(&l);
    return rc;
}
