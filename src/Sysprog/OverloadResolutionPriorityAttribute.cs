#if !NET9_0_OR_GREATER
namespace System.Runtime.CompilerServices;

/// <summary>
/// The C# 13 compiler's tie-breaker between overloads, declared here for net8.0 (the compiler matches it by name).
/// Sysprog gives the span overloads priority, so a C# byte[] argument binds to them and not to the byte[] overloads
/// that exist for PowerShell, which cannot pass spans.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Constructor | AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
internal sealed class OverloadResolutionPriorityAttribute(int priority) : Attribute
{
    public int Priority { get; } = priority;
}
#endif
