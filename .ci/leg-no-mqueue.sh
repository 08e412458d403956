#!/usr/bin/env bash
# The CI leg without the mqueue filesystem (issue 34): runs a command, by default the xunit suite, where /dev/mqueue
# is not mounted, as in most containers. It runs in a private mount namespace, so the machine's own mounts are never
# changed, and a fresh IPC namespace, so the queues it sees and makes are its own. Needs root (unshare -m -i).
# Exits with the command's status. Usage: .ci/leg-no-mqueue.sh [command [argument...]]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -eq 0 ]; then
    set -- dotnet test Sysprog.sln --nologo --no-build
fi
# Inside: unmount every mqueue mount on /dev/mqueue (there may be more than one, stacked), then check none is left,
# so a run that believes it has no mqueue filesystem really has none.
exec unshare --mount --ipc --propagation private -- bash -c '
    while grep -q " /dev/mqueue mqueue " /proc/self/mounts; do
        umount /dev/mqueue || { echo "leg-no-mqueue: cannot unmount /dev/mqueue in the private namespace" >&2; exit 1; }
    done
    echo "leg-no-mqueue: /dev/mqueue not mounted (private mount and IPC namespaces): $*" >&2
    exec "$@"
' leg-no-mqueue "$@"
