using Xunit;

namespace Sysprog.Tests;

/// <summary>
/// ExceptionOrigin tells Sysprog's own refusals from exceptions that escaped from inside .NET: the bad-input tables
/// and the cmdlets' error mapping rely on it to never count a bug as a named error.
/// </summary>
public class ExceptionOriginTests
{
    private static Exception Caught(Action action) => Assert.ThrowsAny<Exception>(action);

    [Fact]
    public void ExceptionsRaisedInsideDotNet_AreInternal()
    {
        int[] empty = [];
        Assert.True(ExceptionOrigin.IsInternal(Caught(() => empty.Single())));
        Assert.True(ExceptionOrigin.IsInternal(Caught(() => _ = empty.AsSpan().Slice(1, 2).Length)));
        Assert.True(ExceptionOrigin.IsInternal(Caught(() => _ = empty[Environment.ProcessorCount + 1])));
        Assert.True(ExceptionOrigin.IsInternal(Caught(() => _ = new Dictionary<string, int>()["missing"])));
        Assert.True(ExceptionOrigin.IsInternal(Caught(() => _ = new string('x', -Environment.ProcessorCount))));
        Assert.True(ExceptionOrigin.IsInternal(Caught(() => _ = Path.GetFullPath("a\0b"))));
    }

    [Fact]
    public void SysprogsOwnRefusals_AreNot_EvenThroughDotNetsGuardHelpers()
    {
        // Sysprog's own throw (Timeouts' helper), ArgumentNullException.ThrowIfNull, ObjectDisposedException.ThrowIf,
        // and a SysprogException for a failed call.
        Assert.False(ExceptionOrigin.IsInternal(Caught(() => Timeouts.Validate(TimeSpan.FromTicks(-1)))));
        Assert.False(ExceptionOrigin.IsInternal(Caught(() => SharedCounter.Increment(null!, 0, 1, atomic: true))));
        Inotify closed = Inotify.Create();
        closed.Dispose();
        Assert.IsType<ObjectDisposedException>(Caught(() => closed.FindWatch("/tmp")));
        Assert.False(ExceptionOrigin.IsInternal(Caught(() => closed.FindWatch("/tmp"))));
        Assert.False(ExceptionOrigin.IsInternal(Caught(() => SharedMemory.Open($"/sysprog-origin-none-{Guid.NewGuid():N}"))));
    }

    [Fact]
    public void AnExceptionMadeButNeverThrown_IsItsMakersChoice_ButANullDereferenceNeverIs()
    {
        Assert.False(ExceptionOrigin.IsInternal(new InvalidOperationException("the object is in the wrong state")));
        Assert.True(ExceptionOrigin.IsInternal(new NullReferenceException()));
    }
}
