/* Semaphore ping-pong between two processes: the C baseline for Sysprog.Bench (same protocol, same arguments). */
#define _GNU_SOURCE /* sem_clockwait */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static int wait_until_a_minute_from_now(sem_t *semaphore) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 60;
    return sem_clockwait(semaphore, CLOCK_MONOTONIC, &deadline);
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: pingpong ping|pingtimeout|pong|local /semA /semB ITERATIONS\n"); return 2; }
    int iterations = atoi(argv[4]);
    start_idle_thread_if_asked();
    if (strcmp(argv[1], "local") == 0) { /* post+wait in one process, for the per-call table (pwsh-calls.ps1) */
        sem_t *a = sem_open(argv[2], O_CREAT | O_EXCL, 0600, 0);
        if (a == SEM_FAILED) { perror("sem_open"); return 1; }
        for (int i = 0; i < iterations; i++) { sem_post(a); sem_wait(a); }
        double start = now_ns();
        for (int i = 0; i < iterations; i++) { sem_post(a); sem_wait(a); }
        printf("%.1f\n", (now_ns() - start) / iterations);
        sem_unlink(argv[2]);
        return 0;
    }
    /* ping: sem_wait; pingtimeout: sem_clockwait until 60 s from now on the monotonic clock, read before each wait as a
       program honouring a timeout does, the baseline for a wait with a timeout. */
    int timed = strcmp(argv[1], "pingtimeout") == 0;
    if (timed || strcmp(argv[1], "ping") == 0) {
        sem_t *a = sem_open(argv[2], O_CREAT | O_EXCL, 0600, 0), *b = sem_open(argv[3], O_CREAT | O_EXCL, 0600, 0);
        if (a == SEM_FAILED || b == SEM_FAILED) { perror("sem_open"); return 1; }
        sem_wait(b);
        for (int i = 0; i < iterations; i++) { sem_post(a); timed ? wait_until_a_minute_from_now(b) : sem_wait(b); } /* warm-up, as in Sysprog.Bench */
        double start = now_ns();
        for (int i = 0; i < iterations; i++) { sem_post(a); timed ? wait_until_a_minute_from_now(b) : sem_wait(b); }
        printf("%.0f\n", (now_ns() - start) / iterations);
        sem_unlink(argv[2]);
        sem_unlink(argv[3]);
        return 0;
    }
    sem_t *a = SEM_FAILED, *b = SEM_FAILED;
    for (int attempt = 0; attempt < 500 && (a == SEM_FAILED || b == SEM_FAILED); attempt++) {
        a = sem_open(argv[2], 0);
        b = sem_open(argv[3], 0);
        if (a == SEM_FAILED || b == SEM_FAILED) usleep(10000);
    }
    if (a == SEM_FAILED || b == SEM_FAILED) { perror("pong: sem_open"); return 1; }
    sem_post(b);
    for (int i = 0; i < 2 * iterations; i++) { sem_wait(a); sem_post(b); }
    return 0;
}
