#!/usr/bin/env bash
# The soak: CYCLES create/use/close cycles of every kind of Sysprog object in one process (shared memory and its
# mappings, anonymous and file mappings, named and in-memory semaphores, message queues and their watcher, eventfd
# and pidfd_getfd copies, timerfd, signalfd, poll sets, inotify watches, programs on a pty, pipes, FIFOs, sockets passing
# descriptors, socket files, /proc/PID/maps reads, ELF reads and dlopen, child processes, page-cache residency and
# the program break, file locks), then a check that /proc/self/fd,
# Sysprog's entries in /proc/self/maps, /dev/shm and /dev/mqueue are exactly as before. Exits 1 and lists what
# stayed behind otherwise. CI runs a short version (.ci/run: 2000 cycles).
# usage: bench/soak.sh [CYCLES=100000]
set -euo pipefail
cd "$(dirname "$0")"
cycles=${1:-100000}
mkdir -p out
dotnet build Sysprog.Bench -c Release -o out/dotnet --nologo -v quiet | { grep -E "error|warn" || true; }
dotnet out/dotnet/Sysprog.Bench.dll soak "$cycles"
