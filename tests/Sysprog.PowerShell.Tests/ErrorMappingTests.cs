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

    [Fact]
    public void UnknownErrnos_StillMakeAValidErrorId() =>
        Assert.Equal("Read.errno_200", ErrorMapping.Classify(new SysprogException((Errno)200, "read", "/x")).ErrorId);
}
