// The inventory bench's objects and holders.
//   ipcholder create PREFIX COUNT         creates PREFIX-0 .. PREFIX-(COUNT-1), 4 KiB each, mode 0600
//   ipcholder hold PREFIX FIRST COUNT     holds FIRST .. FIRST+COUNT-1 open, maps every other one, says "ready", waits
//   ipcholder remove PREFIX COUNT         unlinks them
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: ipcholder create|hold|remove PREFIX ...\n"); return 2; }
    char name[256];
    if (argv[1][0] == 'c' || argv[1][0] == 'r') {
        int count = atoi(argv[3]);
        for (int i = 0; i < count; i++) {
            snprintf(name, sizeof name, "%s-%d", argv[2], i);
            if (argv[1][0] == 'r') { shm_unlink(name); continue; }
            int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
            if (fd < 0 || ftruncate(fd, 4096) != 0) { perror(name); return 1; }
            close(fd);
        }
        return 0;
    }
    int first = atoi(argv[3]), count = atoi(argv[4]);
    for (int i = first; i < first + count; i++) {
        snprintf(name, sizeof name, "%s-%d", argv[2], i);
        int fd = shm_open(name, O_RDWR, 0);
        if (fd < 0) { perror(name); return 1; }
        if (i % 2 == 0 && mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED) { perror("mmap"); return 1; }
    }
    puts("ready");
    fflush(stdout);
    pause();
    return 0;
}
