using System.Diagnostics;
using Xunit;

namespace Sysprog.Tests;

/// <summary>A named semaphore made by Sysprog works from C, and the other way round: same names, same sem_t.</summary>
public sealed class SemaphoreInteropTests : IDisposable
{
    private const string PeerSource = """
        #include <fcntl.h>
        #include <semaphore.h>
        #include <stdio.h>
        #include <stdlib.h>
        #include <string.h>

        /* usage: peer create NAME VALUE | peer post NAME | peer wait NAME */
        int main(int argc, char **argv) {
            if (argc < 3) return 2;
            sem_t *s = strcmp(argv[1], "create") == 0
                ? sem_open(argv[2], O_CREAT | O_EXCL, 0600, (unsigned) atoi(argv[3]))
                : sem_open(argv[2], 0);
            if (s == SEM_FAILED) { perror("sem_open"); return 1; }
            if (strcmp(argv[1], "post") == 0 && sem_post(s) != 0) { perror("sem_post"); return 1; }
            if (strcmp(argv[1], "wait") == 0 && sem_wait(s) != 0) { perror("sem_wait"); return 1; }
            int value = -1;
            sem_getvalue(s, &value);
            printf("%d\n", value);
            return sem_close(s) == 0 ? 0 : 1;
        }
        """;

    private static readonly Lazy<string?> CompiledPeer = new(() => CPeer.Compile("sempeer", PeerSource));
    private readonly string _name = TestNames.New();

    public void Dispose()
    {
        TestNames.UnlinkSemaphoreIfPresent(_name);
        TestNames.AssertNoneLeft();
    }

    [SkippableFact]
    public void ASemaphoreMadeBySysprog_IsPostedFromC()
    {
        string peer = RequirePeer();
        using PosixSemaphore semaphore = PosixSemaphore.Create(_name, 0);
        Assert.Equal("1", Run(peer, "post", _name));
        Assert.True(semaphore.Wait(TimeSpan.FromSeconds(5)));
        semaphore.Post();
        Assert.Equal("0", Run(peer, "wait", _name));
    }

    [SkippableFact]
    public void ASemaphoreMadeInC_IsUsedBySysprog()
    {
        string peer = RequirePeer();
        Assert.Equal("3", Run(peer, "create", _name, "3"));
        using PosixSemaphore semaphore = PosixSemaphore.Open(_name);
        Assert.Equal(3, semaphore.Value);
        Assert.True(semaphore.TryWait());
        Assert.Equal(FileModes.OwnerReadWrite, Assert.Single(PosixSemaphore.List(_name)).UnixFileMode);
        Assert.Equal("1", Run(peer, "wait", _name));
        Assert.Equal(1, semaphore.Value);
    }

    private static string RequirePeer()
    {
        string? peer = CompiledPeer.Value;
        Skip.If(peer is null, "no C compiler (cc) on PATH: the C interop tests compile a tiny sem_open peer with it");
        return peer!;
    }

    private static string Run(string peer, params string[] arguments) => CPeer.Run(peer, arguments);
}
