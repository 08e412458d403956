using Xunit;

namespace Sysprog.Tests;

public class InputValidationTests
{
    [Theory]
    [InlineData("demo", "/demo")]
    [InlineData("/demo", "/demo")]
    [InlineData("/with space", "/with space")]
    [InlineData("/ünïcode", "/ünïcode")]
    public void Normalize_AcceptsOneComponent_WithOneLeadingSlash(string input, string expected) =>
        Assert.Equal(expected, IpcName.Normalize(input));

    [Theory]
    [InlineData("", "required")]
    [InlineData("/", "names nothing")]
    [InlineData("/a/b", "a '/' after the leading one")]
    [InlineData("//a", "a '/' after the leading one")]
    [InlineData("a\0b", "NUL")]
    [InlineData("/..", "not a usable")]
    public void Normalize_RefusesBadNames_WithTheReason(string input, string reason)
    {
        var e = Assert.Throws<ArgumentException>(() => IpcName.Normalize(input));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalize_RefusesNamesLongerThanNameMax_CountingUtf8Bytes()
    {
        Assert.Equal(256, IpcName.Normalize("/" + new string('a', 255)).Length);
        var e = Assert.Throws<ArgumentException>(() => IpcName.Normalize("/" + new string('é', 128)));
        Assert.Contains("256 bytes", e.Message, StringComparison.Ordinal);
        Assert.Contains("NAME_MAX", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadInput_IsRefusedBeforeAnySyscall_NothingIsCreated()
    {
        string name = TestNames.New();
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemory.Create(name, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemory.Create(name, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemory.Create(name, MemorySize.MaxMappable + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SharedMemory.Create(name, 4096, (UnixFileMode)0x10000));
        Assert.Throws<ArgumentException>(() => SharedMemory.Create("/a/b", 4096));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryMapping.MapAnonymous(4096, (MemoryProtection)8));
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryMapping.MapAnonymous(4096, MemoryProtection.Read, (MappingVisibility)3));
        Assert.Throws<FileNotFoundException>(() => MemoryMapping.MapFile("/no/such/file"));
        TestNames.AssertNoneLeft();
    }

    [Theory]
    [InlineData("600", UnixFileMode.UserRead | UnixFileMode.UserWrite)]
    [InlineData("0640", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData("0o644", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead)]
    public void ParseOctal_ReadsModesAsUsersWriteThem(string text, UnixFileMode expected)
    {
        Assert.Equal(expected, FileModes.ParseOctal(text));
        Assert.Equal(text.TrimStart('0', 'o').PadLeft(3, '0'), FileModes.ToOctal(expected).TrimStart('0').PadLeft(3, '0'));
    }

    [Theory]
    [InlineData("0800")]
    [InlineData("rw")]
    [InlineData("")]
    [InlineData("17777")]
    public void ParseOctal_RefusesWhatIsNotAMode(string text) => Assert.Throws<ArgumentException>(() => FileModes.ParseOctal(text));

    [Fact]
    public void ToSymbolic_ShowsModesAsLsDoes() =>
        Assert.Equal("rw-r-----", FileModes.ToSymbolic(FileModes.ParseOctal("640")));

    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("64KiB", 65536L)]
    [InlineData("1M", 1048576L)]
    [InlineData("2 GiB", 2147483648L)]
    public void ParseByteSize_UnderstandsBinaryUnits(string text, long expected) => Assert.Equal(expected, Units.ParseByteSize(text));

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("2s", 2000)]
    [InlineData("1.5s", 1500)]
    [InlineData("1m", 60000)]
    [InlineData("3", 3000)]
    public void ParseDuration_UnderstandsCommandLineDurations(string text, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), Units.ParseDuration(text));

    [Theory]
    [InlineData("-1s")]
    [InlineData("25h")]
    [InlineData("5 parsecs")]
    [InlineData("soon")]
    public void ParseDuration_RefusesNegativeAbsurdOrUnknown(string text) => Assert.Throws<FormatException>(() => Units.ParseDuration(text));

    [Fact]
    public void FormatDuration_WritesTheShortForm()
    {
        Assert.Equal("500ms", Units.FormatDuration(TimeSpan.FromMilliseconds(500)));
        Assert.Equal("2s", Units.FormatDuration(TimeSpan.FromSeconds(2)));
        Assert.Equal("1m", Units.FormatDuration(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void Complete_OffersExistingNamesWithThePrefixTyped()
    {
        string[] names = ["/jobs", "/job-queue", "/other"];
        Assert.Equal(["/job-queue", "/jobs"], IpcName.Complete(names, "jo"));
        Assert.Equal(["/job-queue", "/jobs", "/other"], IpcName.Complete(names, ""));
    }

    [Fact]
    public void Pattern_UsesWildcards_WithOrWithoutTheSlash()
    {
        Assert.True(IpcName.Pattern("job*").Matches("/jobs"));
        Assert.True(IpcName.Pattern("/j?bs").Matches("/jobs"));
        Assert.False(IpcName.Pattern("other*").Matches("/jobs"));
        Assert.True(IpcName.Pattern(null).Matches("/jobs"));
        Assert.True(IpcName.Pattern("").Matches("/jobs"));
    }

    [Fact]
    public void Pattern_ReadsEscapesAsListingsWriteThem()
    {
        // Listings write the byte 0xff as \xff and a backslash as \\: the pattern is read the same way.
        Assert.True(IpcName.Pattern(@"*\xff*").Matches(@"/a\xffb"));
        Assert.True(IpcName.Pattern(@"/a\\b").Matches(@"/a\\b"));
        Assert.False(IpcName.Pattern(@"/a\\b").Matches("/a/b"));
        ArgumentException refused = Assert.Throws<ArgumentException>(() => IpcName.Pattern(@"job\q*"));
        Assert.Equal("pattern", refused.ParamName);
        Assert.Contains("at character 4", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pattern_OfAnyLength_MeansWhatItsCharactersSay()
    {
        // A name is at most a few hundred characters escaped: a pattern of 100,000 letters matches none, and 100,000
        // stars are one star.
        Assert.False(new NamePattern("/" + new string('a', 100_000)).Matches("/aaa"));
        Assert.True(new NamePattern("/" + new string('*', 100_000)).Matches("/aaa"));
        Assert.True(new NamePattern("/**a**").Matches("/bab"));
        Assert.False(new NamePattern("/?").Matches("/"));
    }
}
