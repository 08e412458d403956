#!/usr/bin/env bash
# Issue 34, leg (e): the whole test suite as an unprivileged user. Tests that need root skip and say what they
# lack; none may fail for want of privilege, and none may pass by doing nothing.
#
#   .ci/leg-unprivileged.sh [PWSH]      after `dotnet build Sysprog.sln` (Debug, or SYSPROG_CONFIGURATION)
#
# Runs the xunit assemblies, then (given a pwsh as the argument or in SYSPROG_PWSH) the Pester suite, as the user
# SYSPROG_TEST_USER (default sysprog-unpriv, made with useradd when missing and removed again afterwards). As root
# the privileges are dropped with setpriv (no capabilities, no supplementary groups); run by anyone else it runs as
# that user. The user gets a copy of the built tree in a folder of its own (the tests write TestResults, and the
# module build writes out/), a HOME and a DOTNET_CLI_HOME there. Exits non-zero when either suite failed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
configuration=${SYSPROG_CONFIGURATION:-Debug}
pwsh=${1:-${SYSPROG_PWSH:-}}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ -n "$pwsh" ] && [ ! -x "$pwsh" ]; then
    echo "no pwsh at $pwsh" >&2
    exit 2
fi
for assembly in tests/Sysprog.Tests tests/Sysprog.PowerShell.Tests; do
    if [ ! -f "$assembly/bin/$configuration/net10.0/$(basename "$assembly").dll" ]; then
        echo "no $configuration build of $assembly: run dotnet build Sysprog.sln -c $configuration first" >&2
        exit 2
    fi
done

user=${SYSPROG_TEST_USER:-sysprog-unpriv}
created_user=0
if [ "$(id -u)" = 0 ]; then
    if ! id "$user" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
        created_user=1
    fi
    uid=$(id -u "$user")
    gid=$(id -g "$user")
else
    user=$(id -un)
    uid=$(id -u)
    gid=$(id -g)
fi

# Not named sysprog-*: the tests' fd leak checks take any open path with "sysprog-" in it for one of their objects.
work=$(mktemp -d /tmp/unprivileged-leg.XXXXXX)
cleanup() {
    local status=$?
    # What the user's run left in /dev/shm (a test killed midway): only objects this user owns and the tests name.
    find /dev/shm -maxdepth 1 -user "$uid" \( -name 'sysprog-*' -o -name 'sem.sysprog-*' \) -print -delete 2>/dev/null |
        sed 's/^/removed leftover /' >&2 || true
    if [ -d /dev/mqueue ]; then
        find /dev/mqueue -maxdepth 1 -user "$uid" -name 'sysprog-*' -print -delete 2>/dev/null | sed 's/^/removed leftover /' >&2 || true
    fi
    rm -rf "$work"
    if [ "$created_user" = 1 ]; then
        userdel "$user" 2>/dev/null || echo "could not remove the user $user (a process of it still runs?)" >&2
    fi
    exit "$status"
}
trap cleanup EXIT

# The Pester suite checks the module as users get it: help XML and packages, which build.ps1 -Task Package makes
# (as the caller: it builds, and the user has no NuGet cache to restore from).
if [ -n "$pwsh" ]; then
    echo "== build.ps1 -Task Package -Configuration $configuration (the help and packages the Pester suite checks)"
    "$pwsh" -NoProfile -NonInteractive -File build.ps1 -Task Package -Configuration "$configuration"
fi

# The copy the user owns: the built tree without .git. mktemp -d made $work 0700, so only the user gets in.
tree=$work/tree
mkdir -p "$tree" "$work/home"
tar -C "$repo" --exclude=./.git --exclude='./tests/*/TestResults' -cf - . | tar -C "$tree" -xf -
if [ -n "$pwsh" ]; then
    # build.ps1 imports Pester from the NuGet packages folder, which for the user is the one in its HOME.
    packages=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')
    mkdir -p "$work/home/.nuget/packages"
    cp -a "${packages%/}/pester" "$work/home/.nuget/packages/"
fi
chown -R "$uid:$gid" "$work"

# The PATH folders the user can search. One it cannot (root's own, say) turns a missing program's ENOENT into
# EACCES, as execvp reports it, and that is not what the tests of a missing program are about.
user_path() {
    local folder kept=
    local IFS=:
    for folder in $PATH; do
        if [ -n "$folder" ] && as_user_raw test -d "$folder" -a -x "$folder"; then
            kept=${kept:+$kept:}$folder
        fi
    done
    echo "$kept"
}

as_user_raw() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid="$uid" --regid="$gid" --clear-groups --inh-caps=-all --bounding-set=-all "$@"
    else
        "$@"
    fi
}

path=$(user_path)
as_user() {
    local -a environment=(env -i PATH="$path" HOME="$work/home" DOTNET_CLI_HOME="$work/home" USER="$user" LOGNAME="$user"
        TMPDIR=/tmp LANG="${LANG:-C.UTF-8}" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 CI="${CI:-}"
        SYSPROG_CONFIGURATION="$configuration")
    as_user_raw "${environment[@]}" "$@"
}

echo "== xunit as $user (uid $uid), $configuration"
status=0
# The assemblies themselves, not the solution: nothing is built or restored as the user.
as_user bash -c 'cd "$1" && shift && dotnet test "$@"' _ "$tree" --nologo \
    "tests/Sysprog.Tests/bin/$configuration/net10.0/Sysprog.Tests.dll" \
    "tests/Sysprog.PowerShell.Tests/bin/$configuration/net10.0/Sysprog.PowerShell.Tests.dll" || status=$?

if [ -n "$pwsh" ]; then
    echo "== Pester as $user (uid $uid), $configuration, with $pwsh"
    as_user bash -c 'cd "$1" && "$2" -NoProfile -NonInteractive -File build.ps1 -Task Pester -Configuration "$3"' _ \
        "$tree" "$pwsh" "$configuration" || status=$?
fi
exit "$status"
