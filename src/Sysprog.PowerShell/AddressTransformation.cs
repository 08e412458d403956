using System.Globalization;
using System.Management.Automation;

namespace Sysprog.PowerShell;

/// <summary>
/// Lets an address parameter take what scripts hold addresses in: an IntPtr (a mapping's Address), a ulong (a
/// ProcessMapping's Start), a non-negative integer, or hex text ("0x7f12a000", as /proc and C programs print them).
/// </summary>
public sealed class AddressTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        return value switch
        {
            IntPtr pointer => (ulong)(long)pointer,
            ulong address => address,
            long number when number >= 0 => (ulong)number,
            int number when number >= 0 => (ulong)number,
            string text when text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                && ulong.TryParse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong hex) => hex,
            _ => value,
        };
    }
}
