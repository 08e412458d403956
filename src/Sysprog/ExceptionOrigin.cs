using System.Diagnostics;
using System.Reflection;

namespace Sysprog;

/// <summary>
/// Tells a failure Sysprog reports on purpose from one that escaped from inside .NET: an argument or state error
/// is a named error only when Sysprog's own validation raised it. The same kinds raised by .NET itself (a span
/// sliced out of range, LINQ's Single() on an empty list, a dictionary missing a key) mean Sysprog called .NET wrongly:
/// a bug, which must reach the user and the tests as what it is, never dressed as a named error.
/// </summary>
public static class ExceptionOrigin
{
    /// <summary>
    /// True for an exception that is a bug of Sysprog's: one only a bug raises (a null dereference, an index out of
    /// range, a bad cast), or an argument, state, format or lookup error raised by .NET rather than by Sysprog's code.
    /// An exception that was made and never thrown is its maker's choice, so not internal.
    /// </summary>
    public static bool IsInternal(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is NullReferenceException or IndexOutOfRangeException or InvalidCastException or DivideByZeroException
            or ArrayTypeMismatchException or AccessViolationException)
        {
            return true;
        }
        if (exception is not (ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException
            or OverflowException or NotSupportedException or NotImplementedException))
        {
            return false;
        }
        return Thrower(exception) is MethodBase thrower && !IsSysprogs(thrower);
    }

    /// <summary>
    /// The method that raised <paramref name="exception"/>: the innermost frame of its stack, past .NET's guard
    /// helpers (ArgumentNullException.ThrowIfNull and its kin), which throw on behalf of their caller and with its
    /// parameter name. Null for an exception never thrown.
    /// </summary>
    internal static MethodBase? Thrower(Exception exception)
    {
        StackFrame[] frames = new StackTrace(exception, fNeedFileInfo: false).GetFrames();
        MethodBase? innermost = null;
        foreach (StackFrame frame in frames)
        {
            if (frame.GetMethod() is not MethodBase method)
            {
                continue;
            }
            innermost ??= method;
            if (!IsGuardHelper(method, exception))
            {
                return method;
            }
        }
        return innermost;
    }

    /// <summary>A .NET guard that throws for its caller: a static Throw… of an exception type, or ObjectDisposedException.ThrowIf's helper.</summary>
    private static bool IsGuardHelper(MethodBase method, Exception exception) =>
        method.DeclaringType is Type type && !IsSysprogs(method) && method.IsStatic && method.Name.StartsWith("Throw", StringComparison.Ordinal)
        && (typeof(Exception).IsAssignableFrom(type)
            || exception is ObjectDisposedException && type.FullName == "System.ThrowHelper" && method.Name == "ThrowObjectDisposedException");

    private static bool IsSysprogs(MethodBase method) =>
        method.DeclaringType?.Assembly.GetName().Name is "Sysprog" or "Sysprog.PowerShell" or "Sysprog.Cli";
}
