using Xunit;

namespace Sysprog.Tests;

/// <summary>dlopen, dlsym, dlvsym, dladdr, dlinfo, dlclose and dl_iterate_phdr in this process, and calls through the fixed signatures.</summary>
public sealed class SharedLibraryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sysprog-dl-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Cos_FromLibm_IsCalledThroughItsSignature()
    {
        using SharedLibrary libm = SharedLibrary.Open("libm.so.6");
        SharedLibrarySymbol cos = libm.GetSymbol("cos");
        Assert.True(cos.IsFunction);
        Assert.Equal(Math.Cos(0.5), NativeSignature.Parse("double (double)").Invoke(cos, [0.5]));
        Assert.Equal(Math.Pow(2, 10), NativeSignature.Parse("double(double, double)").Invoke(libm.GetSymbol("pow"), [2, 10]));

        Assert.True(File.Exists(libm.Path), libm.Path);
        Assert.NotEqual(0UL, libm.BaseAddress);
        Assert.Equal(libm.Path, cos.LibraryPath);
        LoadedLibrary loaded = Assert.Single(SharedLibrary.Loaded(), l => l.Name == libm.Path);
        Assert.Equal(libm.BaseAddress, loaded.BaseAddress);
        Assert.True(loaded.Contains(cos.Address));
    }

    /// <summary>
    /// The first loader failure of a process keeps dlerror's text: a fresh CLI process fails its first dlopen, of a
    /// bare name the loader searches for (the runtime binding dlerror late, with dlsym, would have cleared it).
    /// </summary>
    [Fact]
    public void TheFirstDlopenFailureOfAProcess_CarriesDlerrorsText()
    {
        Peer.Result result = Peer.Run("dlopen", "libsysprog-no-such-library.so");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("dlopen(\"libsysprog-no-such-library.so\") failed: libsysprog-no-such-library.so: cannot open shared object file", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void GlobalScope_FindsLibcFunctions_AndStringsCrossBothWays()
    {
        SharedLibrarySymbol strlen = SharedLibrary.GetSymbol(SymbolScope.Default, "strlen");
        Assert.Equal(6UL, NativeSignature.Parse("size_t(const char*)").Invoke(strlen, ["héllo"]));
        SharedLibrarySymbol version = SharedLibrary.GetSymbol(SymbolScope.Default, "gnu_get_libc_version");
        Assert.Equal(LibrarySearchOptions.ForThisMachine().GlibcVersion, NativeSignature.Parse("const char*()").Invoke(version, []));
        Assert.Equal(42L, NativeSignature.Parse("long(const char*)").Invoke(SharedLibrary.GetSymbol(SymbolScope.Default, "atol"), ["42"]));
        Assert.Equal(0, NativeSignature.Parse("int(const char*,const char*)").Invoke(SharedLibrary.GetSymbol(SymbolScope.Default, "strcmp"), ["a", "a"]));
        Assert.Equal("No such file or directory", NativeSignature.Parse("const char*(int)").Invoke(SharedLibrary.GetSymbol(SymbolScope.Default, "strerror"), [2]));
    }

    [Fact]
    public void DataSymbols_AndBadArguments_AreRefusedBeforeAnyCall()
    {
        SharedLibrarySymbol environ = SharedLibrary.GetSymbol(SymbolScope.Default, "environ");
        Assert.Equal(ElfSymbolType.Object, environ.Type);
        var notCode = Assert.Throws<InvalidOperationException>(() => NativeSignature.Parse("int(void)").Invoke(environ, []));
        Assert.Contains("not a function", notCode.Message, StringComparison.Ordinal);

        SharedLibrarySymbol strlen = SharedLibrary.GetSymbol(SymbolScope.Default, "strlen");
        NativeSignature signature = NativeSignature.Parse("size_t(const char*)");
        Assert.Throws<ArgumentException>(() => signature.Invoke(strlen, [null]));
        Assert.Throws<ArgumentException>(() => signature.Invoke(strlen, ["a\0b"]));
        Assert.Throws<ArgumentException>(() => signature.Invoke(strlen, []));
        Assert.Throws<ArgumentException>(() => NativeSignature.Parse("double(double)").Invoke(SharedLibrary.GetSymbol(SymbolScope.Default, "cos"), ["half"]));
        var unknown = Assert.Throws<FormatException>(() => NativeSignature.Parse("void*(void*)"));
        Assert.Contains("double(double)", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dlvsym_FindsAnOlderVersion_AndFailuresCarryDlerrorText()
    {
        SharedLibrarySymbol current = SharedLibrary.GetSymbol(SymbolScope.Default, "memcpy");
        SharedLibrarySymbol old = SharedLibrary.GetSymbol(SymbolScope.Default, "memcpy", "GLIBC_2.2.5");
        Assert.Equal("GLIBC_2.2.5", old.Version);
        Assert.NotEqual(current.Address, old.Address);

        var missingFile = Assert.Throws<SharedLibraryException>(() => SharedLibrary.Open("libsysprog-nope.so.9"));
        Assert.Equal("dlopen", missingFile.Call);
        Assert.Contains("cannot open shared object file", missingFile.Message, StringComparison.Ordinal);
        Assert.True(missingFile.IsNotFound);
        using SharedLibrary libm = SharedLibrary.Open("libm.so.6");
        var missingSymbol = Assert.Throws<SharedLibraryException>(() => libm.GetSymbol("sysprog_no_such_symbol"));
        Assert.Contains("undefined symbol: sysprog_no_such_symbol", missingSymbol.Message, StringComparison.Ordinal);
        Assert.Throws<SharedLibraryException>(() => SharedLibrary.GetSymbol(SymbolScope.Default, "memcpy", "GLIBC_0.0"));
        Assert.Throws<ArgumentException>(() => SharedLibrary.Open("lib\0m.so"));
    }

    [Fact]
    public void Dladdr_NamesTheObjectAndNearestSymbol_OrNothing()
    {
        using SharedLibrary libm = SharedLibrary.Open("libm.so.6");
        // An IFUNC (cos) resolves to an implementation that exports no name: take a plain function of libm.
        ElfSymbol plain = ElfFile.Open(libm.Path, ElfSymbolTables.Dynamic).Symbols
            .First(s => s.Type == ElfSymbolType.Function && s.IsDefined && s.Size > 1 && s.Version is not null && s.IsDefaultVersion);
        SharedLibrarySymbol function = libm.GetSymbol(plain.Name);
        Assert.Equal(libm.BaseAddress + plain.Value, function.Address);
        SharedLibrarySymbol inside = SharedLibrary.DescribeAddress(function.Address + 1)!;
        Assert.Equal(libm.Path, inside.LibraryPath);
        Assert.Equal(function.Address, inside.NearestAddress);
        Assert.Equal(1UL, inside.Offset);
        Assert.Equal(ElfSymbolType.Function, inside.Type);
        Assert.Null(SharedLibrary.DescribeAddress(1));
    }

    [SkippableFact]
    public void Close_SaysWhetherTheObjectIsStillLoaded()
    {
        string? path = CPeer.BuildLibrary(_folder, "libsysprog_close.so", "int sysprog_close_value(void) { return 7; }\n");
        Skip.If(path is null, "no C compiler (cc) on PATH: this test builds a library with it");
        Assert.Null(SharedLibrary.OpenIfLoaded(path));
        SharedLibrary first = SharedLibrary.Open(path);
        SharedLibrary second = SharedLibrary.Open(path);
        Assert.Equal(7, NativeSignature.Parse("int(void)").Invoke(first.GetSymbol("sysprog_close_value"), []));
        Assert.True(first.Close());
        Assert.False(second.Close());
        Assert.Null(SharedLibrary.OpenIfLoaded(path));
        Assert.DoesNotContain(SharedLibrary.Loaded(), l => l.Name == path);
        Assert.Throws<ObjectDisposedException>(() => first.GetSymbol("sysprog_close_value"));

        SharedLibrary kept = SharedLibrary.Open(path, SharedLibraryOpenFlags.Now | SharedLibraryOpenFlags.NoDelete);
        Assert.True(kept.Close());
        using SharedLibrary? stillThere = SharedLibrary.OpenIfLoaded(path);
        Assert.NotNull(stillThere);
    }

    /// <summary>
    /// Two libraries defining the same function, and a third that defines it too and calls it: RTLD_LOCAL keeps a
    /// definition out of the global scope, RTLD_GLOBAL puts it there in load order, and RTLD_DEEPBIND makes an
    /// object prefer its own definition over the global one it would otherwise bind to.
    /// </summary>
    [SkippableFact]
    public void LoadingScopes_LocalGlobalOrderAndDeepBind()
    {
        string? first = CPeer.BuildLibrary(_folder, "libsysprog_first.so", "int sysprog_scope_which(void) { return 1; }\n");
        Skip.If(first is null, "no C compiler (cc) on PATH: this test builds libraries with it");
        string second = CPeer.BuildLibrary(_folder, "libsysprog_second.so", "int sysprog_scope_which(void) { return 2; }\n")!;
        const string deep = "int sysprog_scope_which(void) { return 3; }\nint sysprog_scope_call(void) { return sysprog_scope_which(); }\n";
        string deepBound = CPeer.BuildLibrary(_folder, "libsysprog_deep.so", deep)!;
        string shallow = CPeer.BuildLibrary(_folder, "libsysprog_shallow.so", deep)!;
        NativeSignature intVoid = NativeSignature.Parse("int(void)");

        using SharedLibrary local = SharedLibrary.Open(first, SharedLibraryOpenFlags.Now | SharedLibraryOpenFlags.Local);
        Assert.Equal(1, intVoid.Invoke(local.GetSymbol("sysprog_scope_which"), []));
        Assert.Throws<SharedLibraryException>(() => SharedLibrary.GetSymbol(SymbolScope.Default, "sysprog_scope_which"));

        using SharedLibrary global = SharedLibrary.Open(second, SharedLibraryOpenFlags.Now | SharedLibraryOpenFlags.Global);
        Assert.Equal(2, intVoid.Invoke(SharedLibrary.GetSymbol(SymbolScope.Default, "sysprog_scope_which"), []));
        // Promoted to the global scope later, the first library still comes after the second in it.
        using SharedLibrary promoted = SharedLibrary.Open(first, SharedLibraryOpenFlags.Now | SharedLibraryOpenFlags.Global);
        Assert.Equal(2, intVoid.Invoke(SharedLibrary.GetSymbol(SymbolScope.Default, "sysprog_scope_which"), []));

        using SharedLibrary withoutDeepBind = SharedLibrary.Open(shallow, SharedLibraryOpenFlags.Now);
        Assert.Equal(2, intVoid.Invoke(withoutDeepBind.GetSymbol("sysprog_scope_call"), []));
        using SharedLibrary withDeepBind = SharedLibrary.Open(deepBound, SharedLibraryOpenFlags.Now | SharedLibraryOpenFlags.DeepBind);
        Assert.Equal(3, intVoid.Invoke(withDeepBind.GetSymbol("sysprog_scope_call"), []));
    }

    [SkippableFact]
    public void ImmediateBinding_FailsAtOpen_WhereLazyBindingOpens()
    {
        string? lazy = CPeer.BuildLibrary(_folder, "libsysprog_lazy.so",
            "extern int sysprog_missing_function(void);\nint sysprog_use_missing(void) { return sysprog_missing_function(); }\n");
        Skip.If(lazy is null, "no C compiler (cc) on PATH: this test builds a library with it");
        var now = Assert.Throws<SharedLibraryException>(() => SharedLibrary.Open(lazy, SharedLibraryOpenFlags.Now));
        Assert.Contains("undefined symbol: sysprog_missing_function", now.Message, StringComparison.Ordinal);
        using SharedLibrary opened = SharedLibrary.Open(lazy, SharedLibraryOpenFlags.Lazy);
        Assert.True(opened.GetSymbol("sysprog_use_missing").IsFunction);

        // The lazy failure comes at the first call, and the loader ends the process: so it is shown in a child.
        Peer.Result child = Peer.Run("dlopen", lazy, "--lazy", "--call", "sysprog_use_missing", "--signature", "int(void)");
        Assert.Equal(127, child.ExitCode);
        Assert.Contains($"{lazy} loaded at 0x", child.Output, StringComparison.Ordinal);
        Assert.Contains("symbol lookup error", child.Error, StringComparison.Ordinal);
        Assert.Contains("undefined symbol: sysprog_missing_function", child.Error, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SharedLibrary.Open(lazy, SharedLibraryOpenFlags.Lazy | SharedLibraryOpenFlags.Now));
    }
}
