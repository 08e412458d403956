using Xunit;

namespace Sysprog.Tests;

public class OpenHandlesTests
{
    [Fact]
    public void CloseAll_ClosesWhatIsStillOpen_SoModuleRemovalLeaksNothing()
    {
        var handles = new OpenHandles();
        MemoryMapping first = handles.Track(MemoryMapping.MapAnonymous(4096));
        MemoryMapping second = handles.Track(MemoryMapping.MapAnonymous(4096));
        second.Close();
        Assert.Equal(2, handles.Count);
        handles.CloseAll();
        Assert.True(first.IsClosed);
        Assert.Equal(0, handles.Count);
    }
}
