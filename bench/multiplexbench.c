/* One wait over N eventfds of which READY are readable (level-triggered, so they stay ready), with poll(2) or with
   epoll_wait(2): the C baseline for Sysprog.Bench multiplex. poll hands the kernel all N pollfds at every call and the
   kernel looks at each; epoll keeps the set in the kernel and looks at what is ready. */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>
#include "bench.h"

int main(int argc, char **argv) {
    if (argc != 5 || (strcmp(argv[1], "poll") && strcmp(argv[1], "epoll"))) {
        fprintf(stderr, "usage: multiplexbench poll|epoll HANDLES READY ITERATIONS\n");
        return 2;
    }
    int handles = atoi(argv[2]), ready = atoi(argv[3]), iterations = atoi(argv[4]);
    start_idle_thread_if_asked();
    struct rlimit limit;
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    int *fds = malloc(sizeof(int) * handles);
    uint64_t one = 1;
    for (int i = 0; i < handles; i++) {
        fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fds[i] < 0) { perror("eventfd"); return 1; }
    }
    /* The ready ones spread over the list, as Sysprog.Bench picks them. */
    for (int r = 0; r < ready; r++) write(fds[(int)((long)r * handles / ready + handles / (2 * ready))], &one, 8);
    double start;
    if (strcmp(argv[1], "poll") == 0) {
        struct pollfd *list = malloc(sizeof(struct pollfd) * handles);
        for (int i = 0; i < handles; i++) { list[i].fd = fds[i]; list[i].events = POLLIN; }
        for (int i = 0; i < iterations; i++) poll(list, handles, -1);
        start = now_ns();
        for (int i = 0; i < iterations; i++) poll(list, handles, -1);
    } else {
        int epoll = epoll_create1(EPOLL_CLOEXEC);
        for (int i = 0; i < handles; i++) {
            struct epoll_event ev = { .events = EPOLLIN, .data.u64 = i };
            epoll_ctl(epoll, EPOLL_CTL_ADD, fds[i], &ev);
        }
        struct epoll_event *events = malloc(sizeof(struct epoll_event) * (ready + 1));
        for (int i = 0; i < iterations; i++) epoll_wait(epoll, events, ready + 1, -1);
        start = now_ns();
        for (int i = 0; i < iterations; i++) epoll_wait(epoll, events, ready + 1, -1);
    }
    printf("%.0f\n", (now_ns() - start) / iterations);
    return 0;
}
