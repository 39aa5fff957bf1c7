/* train: the cliff command line. Reads a solver (prototxt or YAML), resolves
 * its nets, and trains, prints the resolved config, checks the nets (dry run),
 * or times them. This is the only place that decides exit codes (the table is
 * tools/exit_codes.h; a library error's kind picks the row).
 *
 * Under mpirun (`mpirun -np N train SOLVER`) every process is one rank of a
 * data-parallel run (solver/comm.h): rank 0 prints the log and writes the
 * files; the other ranks print nothing but their own errors ("rank R: ...").
 * An error on one rank ends every rank (MPI_Abort with its exit code, called
 * here: nothing below tools/ ends the process) unless every rank reached it
 * together (stats.failed_together: one rank prints it, all exit with its code). */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/config.h"
#include "layers/layer.h"
#include "layers/net/net.h"
#include "layers/text_data.h"
#include "tools/cli/stop_output.h"
#include "tools/report/net_summary.h"
#include "solver/comm.h"
#include "solver/solver.h"
#include "proto/textformat.h"
#include "tools/report/timing.h"
#include "tools/exit_codes.h"
#include "tools/report/test_totals.h"

#define CLIFF_VERSION "0.1.0"
#define CLIFF_STR_(x) #x
#define CLIFF_STR(x) CLIFF_STR_(x)

typedef struct Options {
    const char *solver_path;
    const char *resume;
    const char *weights;
    const char *format; /* NULL: by extension */
    const char **sets;
    size_t nsets;
    const char *log_format;
    const char *sigint_effect, *sighup_effect;
    int print_config, dry_run, list_layers, help, version, time, test;
    int iterations_given;
    long iterations;
} Options;

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: train SOLVER [options]\n"
        "\n"
        "Trains the net of a Caffe-style solver file (prototxt or YAML), logging loss and\n"
        "gradient norms, clipping gradients (clip_gradients), snapshotting to HDF5.\n"
        "Options may come before or after SOLVER.\n"
        "\n"
        "  --snapshot FILE, --resume FILE\n"
        "                      continue from a .solverstate.h5 (or binary .solverstate)\n"
        "                      snapshot, cliff's or Caffe's\n"
        "  --resume auto       continue from the newest complete snapshot of the solver's\n"
        "                      snapshot_prefix (by the iteration stored inside; files\n"
        "                      that do not read back whole are skipped with a warning),\n"
        "                      or start fresh when there is none; one line says which.\n"
        "                      The one command a job script needs, rerun after every\n"
        "                      preemption (a file named auto: --resume ./auto)\n"
        "  --weights FILE[,FILE...]\n"
        "                      initialize from .caffemodel.h5 or binary .caffemodel files\n"
        "                      (layers matched by name; others keep their fillers)\n"
        "  --set FIELD=VALUE   override a solver field before anything runs; FIELD is a\n"
        "                      dotted path: clip_gradients=1, base_lr=0.05,\n"
        "                      net_param.layer[2].inner_product_param.num_output=64;\n"
        "                      VALUE is read like the config file (repeatable)\n"
        "  --config-format text|yaml\n"
        "                      syntax of SOLVER and its net files (default: by extension:\n"
        "                      .prototxt .pt .txt -> text, .yaml .yml -> YAML)\n"
        "  --print-config      print the resolved solver (nets inlined, legacy forms\n"
        "                      upgraded, overrides applied) as prototxt and exit\n"
        "  --dry-run           build the train and test nets, print every layer with its\n"
        "                      shapes, parameter count and memory, and exit\n"
        "  --time              time forward/backward per layer and the solver step\n"
        "                      (Caffe's `caffe time`) instead of training\n"
        "  --test              evaluate --weights on the solver's test nets (Caffe's\n"
        "                      `caffe test`): the mean of every output over N batches\n"
        "                      (--iterations, default test_iter), printed as training\n"
        "                      prints its tests, and with --log-format json one\n"
        "                      test_totals line; no training, no snapshots. A NaN or inf\n"
        "                      output is an error (exit 4)\n"
        "  --iterations N      iterations for --time (default 50), batches per test net\n"
        "                      for --test\n"
        "  --grad-report       at each display: per parameter blob its weight norm,\n"
        "                      gradient norm, share of the global norm and\n"
        "                      update-to-weight ratio, and when clipping fires the three\n"
        "                      blobs holding most of the norm (= --set debug_info=true)\n"
        "  --log-format human|kv|json\n"
        "                      form of the training log lines (default: the solver's\n"
        "                      log_format, human)\n"
        "  --sigint-effect stop|snapshot|none\n"
        "                      on SIGINT/SIGTERM: snapshot and stop (default: snapshot),\n"
        "                      stop without snapshot, or ignore\n"
        "  --sighup-effect snapshot|stop|none\n"
        "                      on SIGHUP: snapshot and continue (default)\n"
        "  --list-layers       print every registered layer type and exit\n"
        "  --help              this text\n"
        "  --version           print the version and exit\n");
    fprintf(out, "\nExit status:\n");
#define CLIFF_EXIT_HELP_(name, code, meaning) fprintf(out, "  %d  %s\n", code, meaning);
    CLIFF_EXIT_TABLE(CLIFF_EXIT_HELP_)
#undef CLIFF_EXIT_HELP_
}

/* The run's processes: rank 0 of 1 unless mpirun started this one. */
static CliffComm comm;
/* A failed rank ends the others (they would wait for it in the next
 * allreduce) unless all of them failed together. */
static int comm_ok_to_finish;
/* The solve ended on a stop request (stats.stopped_early: the same on every
 * rank, agreed through the allreduce), so every rank ends by end_ranks. */
static int stopped_early;

static int usage_error(const char *fmt, const char *arg)
{
    if (comm.rank > 0) return CLIFF_EXIT_USAGE; /* the same arguments everywhere: rank 0 says it */
    fprintf(stderr, "train: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see train --help)\n");
    return CLIFF_EXIT_USAGE;
}

/* Accepts "--opt VALUE" and "--opt=VALUE". */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0) return NULL;
    if (argv[*i][n] == '=') return argv[*i] + n + 1;
    if (argv[*i][n] != 0) return NULL;
    if (*i + 1 >= argc) return "";
    return argv[++*i];
}

static int parse_args(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->iterations = 50;
    /* the user's --set options, then those of --log-format and --time */
    o->sets = calloc((size_t)argc + 1 + 1 + CLIFF_TIME_NOVERRIDES, sizeof *o->sets);
    if (!o->sets) return usage_error("%s", "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) o->help = 1;
        else if (!strcmp(a, "--version")) o->version = 1;
        else if (!strcmp(a, "--print-config")) o->print_config = 1;
        else if (!strcmp(a, "--dry-run")) o->dry_run = 1;
        else if (!strcmp(a, "--list-layers")) o->list_layers = 1;
        else if (!strcmp(a, "--time")) o->time = 1;
        else if (!strcmp(a, "--grad-report")) o->sets[o->nsets++] = "debug_info=true";
        else if (!strcmp(a, "--test")) o->test = 1;
        else if ((v = option_value(argc, argv, &i, "--snapshot")) ||
                 (v = option_value(argc, argv, &i, "--resume"))) {
            if (!*v) return usage_error("%s needs a file", a);
            if (o->resume) return usage_error("%s", "--snapshot/--resume given twice");
            o->resume = v;
        } else if ((v = option_value(argc, argv, &i, "--weights"))) {
            if (!*v) return usage_error("%s needs a file", a);
            if (o->weights)
                return usage_error("%s", "--weights given twice (list several files as "
                                         "--weights A,B)");
            o->weights = v;
        } else if ((v = option_value(argc, argv, &i, "--set"))) {
            if (!strchr(v, '=')) return usage_error("--set needs FIELD=VALUE, got '%s'", v);
            o->sets[o->nsets++] = v;
        } else if ((v = option_value(argc, argv, &i, "--config-format"))) {
            if (strcmp(v, "text") && strcmp(v, "yaml"))
                return usage_error("--config-format must be text or yaml, got '%s'", v);
            o->format = v;
        } else if ((v = option_value(argc, argv, &i, "--iterations"))) {
            char *end;
            errno = 0;
            o->iterations = strtol(v, &end, 10);
            o->iterations_given = 1;
            if (!*v || *end || o->iterations <= 0)
                return usage_error("--iterations needs a positive integer, got '%s'", v);
            if (errno == ERANGE || o->iterations > CLIFF_TIME_MAX_ITERS)
                return usage_error("--iterations must be at most " CLIFF_STR(CLIFF_TIME_MAX_ITERS)
                                   ", got '%s'", v);
        } else if ((v = option_value(argc, argv, &i, "--log-format"))) {
            if (strcmp(v, "human") && strcmp(v, "kv") && strcmp(v, "json"))
                return usage_error("--log-format must be human, kv or json, got '%s'", v);
            o->log_format = v;
        } else if ((v = option_value(argc, argv, &i, "--sigint-effect"))) {
            if (strcmp(v, "stop") && strcmp(v, "snapshot") && strcmp(v, "none"))
                return usage_error("--sigint-effect must be stop, snapshot or none, got '%s'", v);
            o->sigint_effect = v;
        } else if ((v = option_value(argc, argv, &i, "--sighup-effect"))) {
            if (strcmp(v, "stop") && strcmp(v, "snapshot") && strcmp(v, "none"))
                return usage_error("--sighup-effect must be stop, snapshot or none, got '%s'", v);
            o->sighup_effect = v;
        } else if (a[0] == '-' && a[1])
            return usage_error("unknown option '%s'", a);
        else if (o->solver_path)
            return usage_error("more than one solver file given ('%s')", a);
        else
            o->solver_path = a;
    }
    return 0;
}

static int list_layers(void)
{
    printf("%zu layer types:\n", cliff_layer_count());
    for (size_t i = 0; i < cliff_layer_count(); i++) {
        const CliffLayerOps *ops = cliff_layer_at(i);
        printf("  %-26s%s%s\n", ops->type, ops->is_loss ? " (loss)" : "",
               ops->backward ? "" : " (no gradient)");
    }
    return 0;
}

/* Signals only set flags in the solver; it acts on them between iterations. */
static CliffSolver *signal_solver;
static int sigint_action = CLIFF_REQUEST_SNAPSHOT_STOP, sighup_action = CLIFF_REQUEST_SNAPSHOT;

static void on_signal(int sig)
{
    if (!signal_solver) return;
    int action = sig == SIGHUP ? sighup_action : sigint_action;
    /* under mpirun: rank 0's output must not hold the stop up (stop_output.h) */
    if (action & CLIFF_REQUEST_STOP) stop_output_stopping();
    cliff_solver_request(signal_solver, action);
}

static int effect_action(const char *effect, int dflt)
{
    if (!effect) return dflt;
    if (!strcmp(effect, "stop")) return CLIFF_REQUEST_STOP;
    if (!strcmp(effect, "snapshot")) return dflt == CLIFF_REQUEST_SNAPSHOT_STOP
                                                ? CLIFF_REQUEST_SNAPSHOT_STOP
                                                : CLIFF_REQUEST_SNAPSHOT;
    return CLIFF_REQUEST_NONE;
}

static void install_signals(CliffSolver *s, const Options *o)
{
    signal_solver = s;
    sigint_action = effect_action(o->sigint_effect, CLIFF_REQUEST_SNAPSHOT_STOP);
    sighup_action = effect_action(o->sighup_effect, CLIFF_REQUEST_SNAPSHOT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* Writes the vocabulary of each TextData layer of the train net next to the
 * snapshots, where a sampler finds it to turn ids back into text:
 * <snapshot_prefix>.vocab, or <snapshot_prefix>.<layer>.vocab when the net
 * has several TextData layers. Nothing without a snapshot_prefix. */
static int save_vocabularies(CliffSolver *s, const char *prefix)
{
    const CliffNet *net = cliff_solver_train_net(s);
    int count = 0;
    for (int i = 0; i < net->nlayers; i++) count += !!cliff_text_data_vocab(&net->layers[i].layer);
    if (!prefix || !prefix[0] || !count) return 0;
    for (int i = 0; i < net->nlayers; i++) {
        const CliffLayer *l = &net->layers[i].layer;
        const CliffTextVocab *v = cliff_text_data_vocab(l);
        if (!v) continue;
        char *path = NULL;
        CliffError err;
        if ((count == 1 ? asprintf(&path, "%s.vocab", prefix)
                        : asprintf(&path, "%s.%s.vocab", prefix, l->name)) < 0) {
            fprintf(stderr, "error: out of memory\n");
            return CLIFF_EXIT_CONFIG;
        }
        int rc = cliff_text_vocab_save(v, path, &err);
        if (rc) fprintf(stderr, "error: layer '%s': %s\n", l->name, err.msg);
        free(path);
        if (rc) return CLIFF_EXIT_IO;
    }
    return 0;
}

/* Setup (config, nets, weights, resume) fails the same way on every rank as
 * a rule, so its errors wait for setup_agree, which prints one: rank 0's, or
 * else the failing ranks' own. Later errors print at once. */
static int setup_done;
static char setup_msg[CLIFF_ERROR_MAX + 64];

/* Writes text to stderr, "rank R: " first when there are several ranks, in
 * one write: mpirun forwards each write of a rank as it comes, so a prefix
 * written apart can land in another rank's line. */
static void rank_print(const char *text)
{
    char line[CLIFF_ERROR_MAX + 128];
    if (comm.size > 1) snprintf(line, sizeof line, "rank %d: %s", comm.rank, text);
    else snprintf(line, sizeof line, "%s", text);
    fputs(line, stderr);
}

/* Prints an error of this rank ("rank R: " first when there are several). */
static void rank_error(const char *fmt, const char *msg)
{
    if (comm.size > 1 && !setup_done) {
        snprintf(setup_msg, sizeof setup_msg, fmt, msg);
        return;
    }
    char text[CLIFF_ERROR_MAX + 64];
    snprintf(text, sizeof text, fmt, msg);
    rank_print(text);
}

/* Every rank calls it once, when its setup has succeeded or failed. Returns 0
 * when every rank is ready; else 1, and every rank knows it (no abort). */
static int setup_agree(int failed)
{
    setup_done = 1;
    if (comm.size == 1) return failed;
    double v[2] = {failed, comm.rank == 0 && failed};
    CliffError err;
    if (cliff_comm_sum_doubles(&comm, v, 2, &err)) {
        fprintf(stderr, "rank %d: error: %s\n", comm.rank, err.msg);
        return 1;
    }
    if (failed && comm.rank == 0) fputs(setup_msg, stderr);
    else if (failed && v[1] == 0) rank_print(setup_msg);
    if (v[0] > 0) comm_ok_to_finish = 1;
    return v[0] > 0;
}

/* --test: one test pass over the given weights; non-finite means are an error. */
static int test_only(const Options *o, CliffSolver *s, const Cliff__SolverParameter *sp)
{
    CliffError err;
    CliffTestTotals t;
    if (cliff_solver_num_test_nets(s) == 0) {
        fprintf(stderr, "error: --test: the solver has no test net (give test_iter with "
                        "net/net_param, or test_net/test_net_param)\n");
        return CLIFF_EXIT_CONFIG;
    }
    if (cliff_solver_test_pass(s, o->iterations_given ? (int)o->iterations : 0, &t, &err)) {
        fflush(stdout);
        fprintf(stderr, "error: %s\n", err.msg);
        return cliff_exit_code(&err);
    }
    if (sp->log_format && strcmp(sp->log_format, "json") == 0)
        cliff_test_totals_json(stdout, o->weights, &t);
    int rc = CLIFF_EXIT_OK;
    for (int i = 0; i < t.n; i++)
        if (!isfinite(t.means[i].mean)) {
            fflush(stdout);
            fprintf(stderr, "error: --test: test net #%d output #%d '%s' is %g over %d "
                            "batches\n", t.means[i].net, t.means[i].index, t.means[i].name,
                    t.means[i].mean, t.iters[t.means[i].net]);
            rc = CLIFF_EXIT_NONFINITE;
            break;
        }
    cliff_test_totals_free(&t);
    return rc;
}

static int run(const Options *o, Cliff__SolverParameter *sp, CliffSrcMap *map)
{
    CliffError err;
    int rc = CLIFF_EXIT_CONFIG;
    CliffSolver *s = cliff_solver_create(sp, map, comm.rank == 0 ? stdout : NULL, &err);
    if (!s) {
        rank_error("%s\n", err.msg);
        return cliff_exit_code(&err);
    }
    if (cliff_solver_set_comm(s, &comm, &err)) {
        rank_error("error: %s\n", err.msg);
        goto done;
    }
    if (o->dry_run) {
        CliffNetMemory mem = {0};
        cliff_net_summary(stdout, cliff_solver_train_net(s), "train", &mem);
        for (int i = 0; i < cliff_solver_num_test_nets(s); i++) {
            char title[32];
            snprintf(title, sizeof title, "test net #%d", i);
            cliff_net_summary(stdout, cliff_solver_test_net(s, i), title, &mem);
        }
        /* The solver's own memory: the history, twice (the step writes the next
         * history apart and swaps it in only when every value is finite). */
        int nhist = 0;
        (void)cliff_solver_history(s, &nhist);
        const double hist = 4.0 * nhist * (double)cliff_solver_train_net(s)->param_count;
        printf("solver: history %.1f MiB (%d slab%s of the parameters' size), held twice: "
               "%.1f MiB\n",
               hist / 1048576.0, nhist, nhist == 1 ? "" : "s", 2.0 * hist / 1048576.0);
        cliff_memory_bound(stdout, &mem, cliff_solver_train_net(s)->param_count, nhist,
                           cliff_solver_recovery_slots(s));
        rc = 0;
        goto done;
    }
    const int resume_auto = o->resume && strcmp(o->resume, "auto") == 0;
    /* Training writes under snapshot_prefix: one run at a time (--test and
     * --time write nothing there, and may run beside a training run). */
    if (!o->test && !o->time && cliff_solver_lock_prefix(s, &err)) {
        rank_error("error: %s\n", err.msg);
        rc = cliff_exit_code(&err);
        goto done;
    }
    if ((o->weights && cliff_solver_load_weights(s, o->weights, &err)) ||
        (resume_auto && cliff_solver_resume_auto(s, &err)) ||
        (o->resume && !resume_auto && cliff_solver_resume_from(s, o->resume, &err))) {
        rank_error("error: %s\n", err.msg);
        rc = cliff_exit_code(&err);
        goto done;
    }
    if (setup_agree(0)) goto done;
    if (o->test) {
        rc = test_only(o, s, sp);
        goto done;
    }
    if (o->time) {
        rc = cliff_time_solver(s, (int)o->iterations, stdout, &err) ? cliff_exit_code(&err) : 0;
        if (rc) rank_error("error: %s\n", err.msg);
        goto done;
    }
    if (comm.rank == 0 && (rc = save_vocabularies(s, sp->snapshot_prefix))) goto done;
    install_signals(s, o);
    if (cliff_solver_solve(s, &err)) {
        fflush(stdout);
        /* an error every rank reached together is one rank's to print: rank
         * 0's, or for bad data the rank that met it */
        const CliffSolverStats *st = cliff_solver_stats(s);
        int together = st->failed_together;
        if (!together || comm.rank == st->report_rank) rank_error("error: %s\n", err.msg);
        if (together) comm_ok_to_finish = 1;
        rc = cliff_exit_code(&err);
        goto done;
    }
    stopped_early = cliff_solver_stats(s)->stopped_early;
    if (comm.size > 1) {
        /* rank 0's time in the gradient allreduce (waits for slower ranks included) */
        const CliffNet *net = cliff_solver_train_net(s);
        printf("allreduce: %d ranks, %lld calls of %zu floats (%.2f MB), %.3f ms per call\n",
               comm.size, comm.sum_calls, net->param_count, 4e-6 * (double)net->param_count,
               comm.sum_calls ? 1e3 * comm.sum_seconds / (double)comm.sum_calls : 0.0);
    }
    rc = CLIFF_EXIT_OK;
done:
    signal_solver = NULL;
    cliff_solver_free(s);
    return rc;
}

/* The end of a multi-rank run that a SIGINT/SIGTERM stopped. OpenMPI's
 * mpirun (4.x) answers SIGINT/SIGTERM by sending the ranks SIGCONT, SIGTERM T
 * seconds later and SIGKILL T seconds after that (T: odls_base_sigkill_timeout,
 * 1 by default), blocked in between, so MPI_Finalize, which waits on mpirun,
 * would sit until the SIGKILL. The ranks first wait for each other (a barrier
 * through shared memory, which needs no mpirun: rank 0 reaches it once its
 * snapshot is whole on disk), then give MPI_Finalize FINALIZE_GRACE seconds
 * and exit without it. When mpirun is not killing the job (the ranks alone
 * were signalled), MPI_Finalize returns at once and mpirun exits 0. */
enum { FINALIZE_GRACE = 1 };
static volatile sig_atomic_t grace_rc;

static void on_grace_over(int sig)
{
    (void)sig;
    _exit(grace_rc);
}

static void end_ranks(int rc)
{
    fflush(stdout);
    fflush(stderr);
    CliffError err;
    if (cliff_comm_barrier(&comm, &err))
        fprintf(stderr, "rank %d: error: %s\n", comm.rank, err.msg);
    grace_rc = rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_grace_over;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(FINALIZE_GRACE);
    cliff_comm_finalize(&comm);
    alarm(0);
}

/* Loads the solver with every override and prints it, or runs it; *sp is
 * the caller's to free. */
static int load_and_run(Options *o, CliffSrcMap *map, Cliff__SolverParameter **sp)
{
    /* Options that are config fields become overrides like --set, so that
     * --print-config shows them and the config code checks them. */
    char derived[1 + CLIFF_TIME_NOVERRIDES][64];
    size_t nderived = 0;
    if (o->log_format)
        snprintf(derived[nderived++], sizeof derived[0], "log_format=%s", o->log_format);
    if (o->time) nderived += cliff_time_overrides((int)o->iterations, derived + nderived);
    for (size_t i = 0; i < nderived; i++) o->sets[o->nsets++] = derived[i];
    CliffError err;
    if (cliff_solver_load(o->solver_path, o->format, o->sets, o->nsets, sp, map, &err)) {
        rank_error("%s\n", err.msg);
        return cliff_exit_code(&err);
    }
    if (o->print_config) return cliff_text_write(stdout, &(*sp)->base) ? CLIFF_EXIT_IO : 0;
    return run(o, *sp, map);
}

int main(int argc, char **argv)
{
    Options o;
    CliffSrcMap map;
    Cliff__SolverParameter *sp = NULL;
    CliffError cerr;
    if (cliff_comm_init(&comm, &argc, &argv, &cerr)) {
        fprintf(stderr, "train: error: %s\n", cerr.msg);
        return CLIFF_EXIT_CONFIG;
    }
    /* only rank 0 speaks on stdout (config, dry run, log), through a stream
     * that a stop cannot block (stop_output.h; glibc lets stdout be set) */
    if (comm.rank > 0 && !freopen("/dev/null", "w", stdout)) return CLIFF_EXIT_IO;
    FILE *out = comm.rank == 0 && comm.size > 1 ? stop_output_open(STDOUT_FILENO) : NULL;
    if (out) { /* else (fcntl refused) the plain stdout */
        fflush(stdout);
        stdout = out;
    }
    cliff_srcmap_init(&map);
    int rc = parse_args(argc, argv, &o);
    if (rc) goto done;
    if (o.help) usage(stdout);
    else if (o.version) printf("cliff train %s\n", CLIFF_VERSION);
    else if (o.list_layers) rc = list_layers();
    else if (!o.solver_path) rc = usage_error("%s", "missing SOLVER file");
    else if (o.resume && o.weights)
        rc = usage_error("%s", "give either --snapshot/--resume or --weights, not both");
    else if (o.test && !o.weights)
        rc = usage_error("%s", "--test needs --weights FILE (the model to evaluate)");
    else if (o.test && o.time)
        rc = usage_error("%s", "give either --test or --time, not both");
    else rc = load_and_run(&o, &map, &sp);
done:
    if (!setup_done && setup_agree(rc != 0) && !rc) rc = CLIFF_EXIT_CONFIG;
    if (sp) protobuf_c_message_free_unpacked(&sp->base, NULL);
    cliff_srcmap_free(&map);
    free(o.sets);
    fflush(stdout);
    if (rc && comm.size > 1 && !comm_ok_to_finish) {
        /* Only the MPI communicator has several ranks. MPI_Abort: OpenMPI
         * kills the other ranks and mpirun exits with rc. */
        MPI_Abort(MPI_COMM_WORLD, rc);
        exit(rc); /* an abort that returned: this rank ends at least */
    }
    /* a stop, or an error every rank met together: the ranks wait for each
     * other (so the one that prints has printed before any exits) */
    if (comm.size > 1 && (stopped_early || rc)) end_ranks(rc);
    else cliff_comm_finalize(&comm);
    return rc;
}
