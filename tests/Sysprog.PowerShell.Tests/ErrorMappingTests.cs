using System.Management.Automation;
using Xunit;

namespace Sysprog.PowerShell.Tests;

public class ErrorMappingTests
{
    [Theory]
    [InlineData(Errno.EEXIST, "shm_open", "ShmOpen.EEXIST", ErrorCategory.ResourceExists)]
    [InlineData(Errno.ENOENT, "shm_open", "ShmOpen.ENOENT", ErrorCategory.ObjectNotFound)]
    [InlineData(Errno.EACCES, "open", "Open.EACCES", ErrorCategory.PermissionDenied)]
    [InlineData(Errno.ENOMEM, "mlock", "Mlock.ENOMEM", ErrorCategory.LimitsExceeded)]
    [InlineData(Errno.EINVAL, "mmap", "Mmap.EINVAL", ErrorCategory.InvalidArgument)]
    [InlineData(Errno.ETIMEDOUT, "sem_clockwait", "SemClockwait.ETIMEDOUT", ErrorCategory.OperationTimeout)]
    [InlineData(Errno.EAGAIN, "mq_send", "MqSend.EAGAIN", ErrorCategory.ResourceBusy)]
    [InlineData(Errno.EDQUOT, "ftruncate", "Ftruncate.EDQUOT", ErrorCategory.QuotaExceeded)]
    [InlineData(Errno.EDEADLK, "fcntl", "Fcntl.EDEADLK", ErrorCategory.DeadlockDetected)]
    [InlineData(Errno.ENOSYS, "statx", "Statx.ENOSYS", ErrorCategory.NotImplemented)]
    [InlineData(Errno.ENOTTY, "ioctl", "Ioctl.ENOTTY", ErrorCategory.InvalidArgument)]
    [InlineData(Errno.ESPIPE, "posix_fadvise", "PosixFadvise.ESPIPE", ErrorCategory.InvalidArgument)]
    [InlineData(Errno.ENOTDIR, "posix_spawnp", "PosixSpawnp.ENOTDIR", ErrorCategory.InvalidArgument)]
    [InlineData(Errno.EIO, "msync", "Msync.EIO", ErrorCategory.NotSpecified)]
    public void SyscallFailures_GetAnIdNamingCallAndErrno_AndTheirCategory(Errno errno, string call, string id, ErrorCategory category) =>
        Assert.Equal((id, category), ErrorMapping.Classify(new SysprogException(errno, call, "/x")));

    [Fact]
    public void OtherFailures_MapByKind()
    {
        Assert.Equal(("InvalidArgument", ErrorCategory.InvalidArgument), ErrorMapping.Classify(new ArgumentOutOfRangeException("size")));
        Assert.Equal(("FileNotFound", ErrorCategory.ObjectNotFound), ErrorMapping.Classify(new FileNotFoundException("x")));
        Assert.Equal(("NameNotFound", ErrorCategory.ObjectNotFound), ErrorMapping.Classify(new NameNotFoundException("semaphore", "/x", "")));
        Assert.Equal(("ItemNotFound", ErrorCategory.ObjectNotFound), ErrorMapping.Classify(new ItemNotFoundException("no watch")));
        Assert.Equal(("EndOfStream", ErrorCategory.ReadError), ErrorMapping.Classify(new EndOfStreamException("output ended")));
        Assert.Equal(("AccessDenied", ErrorCategory.PermissionDenied), ErrorMapping.Classify(new UnauthorizedAccessException()));
        Assert.Equal(("ObjectClosed", ErrorCategory.InvalidOperation), ErrorMapping.Classify(new ObjectDisposedException("x")));
        Assert.Equal(("Timeout", ErrorCategory.OperationTimeout), ErrorMapping.Classify(new TimeoutException()));
        Assert.Equal(("InvalidOperation", ErrorCategory.InvalidOperation), ErrorMapping.Classify(new InvalidOperationException()));
        Assert.True(ErrorMapping.IsExpected(new InvalidOperationException()));
        Assert.False(ErrorMapping.IsExpected(new NullReferenceException()));
        Assert.True(ErrorMapping.IsExpected(new SysprogException(Errno.EIO, "read", "/x")));
    }

    /// <summary>
    /// An argument or state error raised inside .NET (LINQ's Single(), a slice out of range) is a bug of Sysprog's: it is
    /// not an expected failure, so it stays terminating, and it gets no named id or category, so a test that checks
    /// ids sees it as what it is. The same kind raised by Sysprog itself keeps its named category.
    /// </summary>
    [Fact]
    public void ExceptionsFromInsideDotNet_AreNeitherExpectedNorNamed()
    {
        Exception fromLinq = Assert.ThrowsAny<InvalidOperationException>(() => Array.Empty<int>().Single());
        Exception fromSlice = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => _ = new byte[2].AsSpan().Slice(1, 5).Length);
        foreach (Exception bug in new[] { fromLinq, fromSlice })
        {
            Assert.False(ErrorMapping.IsExpected(bug));
            Assert.Equal((bug.GetType().FullName!, ErrorCategory.NotSpecified), ErrorMapping.Classify(bug));
        }
        using TimerFd monotonic = TimerFd.Create(TimerClock.Monotonic);
        Exception fromSysprog = Assert.Throws<InvalidOperationException>(() => monotonic.ArmAt(DateTimeOffset.Now.AddHours(1)));
        Assert.True(ErrorMapping.IsExpected(fromSysprog));
        Assert.Equal(("InvalidOperation", ErrorCategory.InvalidOperation), ErrorMapping.Classify(fromSysprog));
        Exception ownArgument = Assert.ThrowsAny<ArgumentException>(() => Timeouts.Validate(TimeSpan.FromTicks(-1)));
        Assert.Equal(("InvalidArgument", ErrorCategory.InvalidArgument), ErrorMapping.Classify(ownArgument));
    }

    [Fact]
    public void UnknownErrnos_StillMakeAValidErrorId() =>
        Assert.Equal("Read.errno_200", ErrorMapping.Classify(new SysprogException((Errno)200, "read", "/x")).ErrorId);
}
