/* eventfd ping-pong across fork() and epoll_wait over N eventfds: the C baseline for Sysprog.Bench events. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: eventbench ping|pingpoll|pingpolltimeout ITERATIONS | poll HANDLES ITERATIONS\n"); return 2; }
    uint64_t one = 1, value;
    start_idle_thread_if_asked();
    /* ping: blocking reads, as most C does; pingpoll: non-blocking descriptors read after poll(2), as any C program
       that must also honour a timeout or a cancellation does, and as Sysprog does; pingpolltimeout: the same with a
       timeout of 60 s on the ping side's poll, the baseline for a wait with a timeout. */
    int timed = strcmp(argv[1], "pingpolltimeout") == 0;
    int polled = timed || strcmp(argv[1], "pingpoll") == 0;
    int timeout = timed ? 60000 : -1;
    if (polled || strcmp(argv[1], "ping") == 0) {
        int iterations = atoi(argv[2]);
        int flags = EFD_CLOEXEC | (polled ? EFD_NONBLOCK : 0);
        int ping = eventfd(0, flags), pong = eventfd(0, flags);
        pid_t child = fork();
        if (child == 0) {
            start_idle_thread_if_asked();
            struct pollfd p = { .fd = ping, .events = POLLIN };
            for (int i = 0; i < 2 * iterations; i++) { if (polled) poll(&p, 1, -1); read(ping, &value, 8); write(pong, &one, 8); }
            _exit(0);
        }
        struct pollfd p = { .fd = pong, .events = POLLIN };
        for (int i = 0; i < iterations; i++) { write(ping, &one, 8); if (polled) poll(&p, 1, timeout); read(pong, &value, 8); }
        double start = now_ns();
        for (int i = 0; i < iterations; i++) { write(ping, &one, 8); if (polled) poll(&p, 1, timeout); read(pong, &value, 8); }
        printf("%.0f\n", (now_ns() - start) / iterations);
        waitpid(child, NULL, 0);
        return 0;
    }
    int handles = atoi(argv[2]), iterations = atoi(argv[3]);
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int *fds = malloc(sizeof(int) * handles);
    for (int i = 0; i < handles; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
        epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &ev);
    }
    write(fds[handles / 2], &one, 8);
    struct epoll_event *ready = malloc(sizeof(struct epoll_event) * (handles + 1));
    for (int i = 0; i < iterations; i++) epoll_wait(epoll, ready, handles + 1, -1);
    double start = now_ns();
    for (int i = 0; i < iterations; i++) epoll_wait(epoll, ready, handles + 1, -1);
    printf("%.0f\n", (now_ns() - start) / iterations);
    return 0;
}
