/* The machine's floor for waking a sleeping thread: one thread sleeps in ppoll on a
 * pipe, another writes to it 1-4 ms later (the same delays as the events bench). The
 * sample is from just before the write to the moment ppoll returned. No netlink, no
 * netspec: what the events bench's "wait returned" row cannot go below.
 *   cc -O2 -pthread bench/wake.c -o /tmp/netspec-wake && /tmp/netspec-wake
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 500 };
static int pipe_fds[2];
static struct timespec sent;

static uint64_t ns(struct timespec t) { return t.tv_sec * 1000000000ull + t.tv_nsec; }

static void *writer(void *arg) {
    struct timespec delay = {0, (long)arg};
    nanosleep(&delay, NULL);
    clock_gettime(CLOCK_MONOTONIC, &sent);
    if (write(pipe_fds[1], "x", 1) != 1) abort();
    return NULL;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    static double us[ROUNDS];
    if (pipe(pipe_fds) != 0) return 1;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_t t;
        long delay_ns = (1000 + (i * 7919L) % 3000) * 1000;
        pthread_create(&t, NULL, writer, (void *)delay_ns);
        struct pollfd p = {pipe_fds[0], POLLIN, 0};
        struct timespec woke;
        ppoll(&p, 1, NULL, NULL);
        clock_gettime(CLOCK_MONOTONIC, &woke);
        char c;
        if (read(pipe_fds[0], &c, 1) != 1) return 1;
        pthread_join(t, NULL);
        us[i] = (ns(woke) - ns(sent)) / 1000.0;
    }
    qsort(us, ROUNDS, sizeof us[0], by_value);
    printf("pipe write -> ppoll returned, %d rounds: min %.0f, median %.0f, p90 %.0f, p99 %.0f µs\n",
           ROUNDS, us[0], us[ROUNDS / 2], us[ROUNDS * 9 / 10], us[ROUNDS * 99 / 100]);
    return 0;
}
