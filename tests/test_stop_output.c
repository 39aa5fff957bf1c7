/* tools/cli/stop_output: rank 0's stdout under mpirun.
 *   - no stop: a pipe read slowly gets every byte, in order (a full pipe is
 *     waited for, nothing dropped);
 *   - a pipe nobody reads: the write waits while no stop is requested, and
 *     returns within a bounded time once one is (from a signal handler, as
 *     train's), having written what fit, in order; a later write returns at
 *     once.
 * Each case runs in a child process (the stop flag is process-wide), and the
 * parent fails a child that has not ended within a deadline, so a write that
 * never returns fails the case instead of hanging the suite. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "tools/cli/stop_output.c" /* tools/ is not in the test library */

enum { TEXT = 300000 }; /* bytes written: several pipes' worth */

static char text[TEXT];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void fill_text(void)
{
    for (int i = 0; i < TEXT; i++) text[i] = (char)('a' + (i * 7 + i / 1000) % 26);
}

/* Runs case_fn(wfd, rfd) in a child; returns its exit status (0: passed), or
 * -1 when it had not ended after `deadline` seconds (it is then killed). */
static int in_child(int (*case_fn)(int, int), double deadline)
{
    int fds[2];
    if (pipe(fds)) return -2;
    pid_t pid = fork();
    if (pid == 0) _exit(case_fn(fds[1], fds[0]));
    close(fds[0]);
    close(fds[1]);
    double t0 = now();
    int status;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now() - t0 > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        usleep(10000);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* A reader thread would do; a child process reading slowly is simpler. */
static int slow_reader_case(int wfd, int rfd)
{
    pid_t reader = fork();
    if (reader == 0) {
        close(wfd);
        static char got[TEXT];
        size_t n = 0;
        ssize_t r;
        while (n < TEXT && (r = read(rfd, got + n, 4096)) > 0) {
            n += (size_t)r;
            usleep(2000); /* slower than the writer: the pipe fills */
        }
        _exit(n == TEXT && memcmp(got, text, TEXT) == 0 ? 0 : 3);
    }
    close(rfd);
    FILE *f = stop_output_open(wfd);
    if (!f) return 4;
    if (fwrite(text, 1, TEXT, f) != TEXT || fflush(f) != 0) return 5;
    fclose(f);
    close(wfd);
    int status;
    waitpid(reader, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 6;
}

static void test_no_stop_loses_nothing(void)
{
    CHECK(in_child(slow_reader_case, 20) == 0);
}

static void on_alarm(int sig)
{
    (void)sig;
    stop_output_stopping();
}

/* Nobody reads: the stop arrives by SIGALRM after 0.5 s. */
static int unread_case(int wfd, int rfd)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    FILE *f = stop_output_open(wfd);
    if (!f) return 4;
    double t0 = now();
    struct itimerval it = {{0, 0}, {0, 500000}};
    setitimer(ITIMER_REAL, &it, NULL);
    fwrite(text, 1, TEXT, f);
    fflush(f);
    double took = now() - t0;
    /* waited for the stop, then at most one wait of STOP_OUTPUT_WAIT_MS more
     * per attempt that found no room before giving up (one), plus slack */
    if (took < 0.45) return 7;
    if (took > 0.5 + 3 * STOP_OUTPUT_WAIT_MS / 1000.0 + 0.3) return 8;
    /* what fit is the text's beginning */
    fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
    static char got[TEXT];
    ssize_t n = read(rfd, got, sizeof got);
    if (n <= 0 || memcmp(got, text, (size_t)n) != 0) return 9;
    /* the pipe is full again: a later write does not wait */
    while (write(wfd, text, 4096) > 0) {}
    t0 = now();
    fwrite(text, 1, 10000, f);
    fflush(f);
    if (now() - t0 > STOP_OUTPUT_WAIT_MS / 2000.0) return 10;
    return 0;
}

static void test_stop_unblocks(void)
{
    int rc = in_child(unread_case, 5);
    if (rc) CHECK_FAILF("child status %d (-1: still writing after 5 s)", rc);
}

int main(void)
{
    fill_text();
    RUN(test_no_stop_loses_nothing);
    RUN(test_stop_unblocks);
    return test_main_end();
}
