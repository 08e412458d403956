/* POSIX message queue round trip and throughput: the C baseline for Sysprog.Bench mq (same protocols and arguments). */
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static mqd_t create(const char *name, long size) {
    struct mq_attr attr = { .mq_maxmsg = 10, .mq_msgsize = size };
    mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (q == (mqd_t) -1) { perror("mq_open"); exit(1); }
    return q;
}

static mqd_t open_when_there(const char *name) {
    for (int attempt = 0; attempt < 500; attempt++) {
        mqd_t q = mq_open(name, O_RDWR);
        if (q != (mqd_t) -1) return q;
        usleep(10000);
    }
    perror("mq_open");
    exit(1);
}

static ssize_t receive(mqd_t q, char *buffer, long size, int within_a_minute) {
    if (!within_a_minute) return mq_receive(q, buffer, size, NULL);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    return mq_timedreceive(q, buffer, size, NULL, &deadline);
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: mqbench rtt-ping|rtt-pingtimeout|rtt-pong|tput-send|tput-receive|local /qA /qB SIZE ITERATIONS\n"); return 2; }
    const char *mode = argv[1], *a = argv[2], *b = argv[3];
    long size = atol(argv[4]);
    int iterations = atoi(argv[5]);
    char *message = calloc(1, size), *buffer = malloc(size);
    start_idle_thread_if_asked();
    /* rtt-ping: mq_receive; rtt-pingtimeout: mq_timedreceive until 60 s from now (CLOCK_REALTIME, the only clock it
       takes), read before each receive as a program honouring a timeout does, the baseline for a wait with a timeout. */
    int timed = strcmp(mode, "rtt-pingtimeout") == 0;
    if (timed || strcmp(mode, "rtt-ping") == 0) {
        mqd_t qa = create(a, size), qb = create(b, size);
        mq_receive(qb, buffer, size, NULL);
        for (int i = 0; i < iterations; i++) { mq_send(qa, message, size, 0); receive(qb, buffer, size, timed); }
        double start = now_ns();
        for (int i = 0; i < iterations; i++) { mq_send(qa, message, size, 0); receive(qb, buffer, size, timed); }
        printf("%.0f\n", (now_ns() - start) / iterations);
        mq_unlink(a);
        mq_unlink(b);
    } else if (strcmp(mode, "rtt-pong") == 0) {
        mqd_t qa = open_when_there(a), qb = open_when_there(b);
        mq_send(qb, message, size, 0);
        for (int i = 0; i < 2 * iterations; i++) {
            ssize_t n = mq_receive(qa, buffer, size, NULL);
            mq_send(qb, buffer, n, 0);
        }
    } else if (strcmp(mode, "local") == 0) { /* send+receive in one process, for the per-call table (pwsh-calls.ps1) */
        mqd_t qa = create(a, size);
        for (int i = 0; i < iterations; i++) { mq_send(qa, message, size, 0); mq_receive(qa, buffer, size, NULL); }
        double start = now_ns();
        for (int i = 0; i < iterations; i++) { mq_send(qa, message, size, 0); mq_receive(qa, buffer, size, NULL); }
        printf("%.1f\n", (now_ns() - start) / iterations);
        mq_unlink(a);
    } else if (strcmp(mode, "tput-receive") == 0) {
        mqd_t qa = create(a, size);
        for (int i = 0; i < iterations; i++) mq_receive(qa, buffer, size, NULL);
        double start = now_ns();
        for (int i = 0; i < iterations; i++) mq_receive(qa, buffer, size, NULL);
        printf("%.0f\n", iterations / ((now_ns() - start) / 1e9));
        mq_unlink(a);
    } else {
        mqd_t qa = open_when_there(a);
        for (int i = 0; i < 2 * iterations; i++) mq_send(qa, message, size, 0);
    }
    return 0;
}
