/* What the C baselines share: the clock they time with, and their optional idle thread. A .NET process always runs several threads, and for every system call on a
   descriptor the kernel takes and drops a reference on the open file when the process's descriptor table is shared
   by more than one thread (fdget in fs/file.c), a step a single-threaded C program skips. With
   SYSPROG_BENCH_IDLE_THREAD=1 a baseline starts one thread that only sleeps, so C can also be measured on the footing
   every .NET program stands on. Call it in each process, after fork too (fork copies only the calling thread). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static void *sleep_forever(void *unused) {
    (void)unused;
    for (;;) pause();
    return NULL;
}

static void start_idle_thread_if_asked(void) {
    const char *asked = getenv("SYSPROG_BENCH_IDLE_THREAD");
    pthread_t thread;
    if (asked && asked[0] == '1' && pthread_create(&thread, NULL, sleep_forever, NULL) != 0) abort();
}
