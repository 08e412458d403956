using System.Management.Automation;
using System.Reflection;

namespace Sysprog.PowerShell.Tests;

/// <summary>
/// Cmdlet metadata read through CustomAttributeData: PowerShellStandard's attribute constructors are empty stubs, so
/// an instantiated [Cmdlet] or [Parameter] would report nothing.
/// </summary>
internal sealed record CmdletInfo(Type Type, string Verb, string Noun, bool SupportsShouldProcess, string? DefaultParameterSet,
    IReadOnlyList<Type> OutputTypes, IReadOnlyList<ParameterInfo> Parameters)
{
    public string Name => $"{Verb}-{Noun}";

    public IReadOnlyList<string> ParameterSets =>
        Parameters.SelectMany(p => p.Sets).Where(s => s != ParameterInfo.AllSets).Distinct().Order(StringComparer.Ordinal).ToList();
}

/// <summary>
/// One parameter: the sets it is in (<see cref="AllSets"/> for every set), and of those the sets in which it takes
/// pipeline input by value and by property name.
/// </summary>
internal sealed record ParameterInfo(string Name, Type Type, IReadOnlyList<string> Sets, bool Mandatory, int? Position,
    IReadOnlyList<string> FromPipelineIn, IReadOnlyList<string> FromPipelineByPropertyNameIn, bool Wildcards, IReadOnlyList<string> Aliases)
{
    public const string AllSets = "__AllParameterSets";
}

internal static class CmdletMetadata
{
    public static readonly Assembly Assembly = typeof(SysprogCmdlet).Assembly;

    /// <summary>
    /// The checkout these tests were built in: the nearest folder above this assembly that holds Sysprog.sln, so a
    /// copy of the built tree (run by another user, say) reads its own docs and manifest.
    /// </summary>
    public static readonly string RepoRoot = FindRepoRoot();

    private static string FindRepoRoot()
    {
        string assemblyFolder = Path.GetDirectoryName(typeof(CmdletMetadata).Assembly.Location)!;
        for (DirectoryInfo? folder = new(assemblyFolder); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Sysprog.sln")))
            {
                return folder.FullName;
            }
        }
        throw new FileNotFoundException($"No Sysprog.sln in any folder above {assemblyFolder}: these tests run from the tree they were built in.");
    }

    public static IReadOnlyList<CmdletInfo> All { get; } = Assembly.GetTypes()
        .Where(t => t.GetCustomAttributesData().Any(a => a.AttributeType == typeof(CmdletAttribute)))
        .Select(Read)
        .OrderBy(c => c.Name, StringComparer.Ordinal)
        .ToList();

    private static CmdletInfo Read(Type type)
    {
        CustomAttributeData cmdlet = type.GetCustomAttributesData().Single(a => a.AttributeType == typeof(CmdletAttribute));
        var outputs = type.GetCustomAttributesData().Where(a => a.AttributeType == typeof(OutputTypeAttribute))
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : [arg.Value])
            .OfType<Type>()
            .ToList();
        var parameters = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(ReadParameter)
            .OfType<ParameterInfo>()
            .ToList();
        return new CmdletInfo(type, (string)cmdlet.ConstructorArguments[0].Value!, (string)cmdlet.ConstructorArguments[1].Value!,
            Named<bool>(cmdlet, nameof(CmdletAttribute.SupportsShouldProcess)), Named<string>(cmdlet, nameof(CmdletAttribute.DefaultParameterSetName)),
            outputs, parameters);
    }

    private static ParameterInfo? ReadParameter(PropertyInfo property)
    {
        var attributes = property.GetCustomAttributesData().Where(a => a.AttributeType == typeof(ParameterAttribute)).ToList();
        if (attributes.Count == 0)
        {
            return null;
        }
        var sets = attributes.Select(a => Named<string>(a, nameof(ParameterAttribute.ParameterSetName)) ?? ParameterInfo.AllSets).ToList();
        int? position = attributes.Select(a => a.NamedArguments.Where(n => n.MemberName == nameof(ParameterAttribute.Position)).Select(n => (int?)(int)n.TypedValue.Value!).FirstOrDefault()).FirstOrDefault(p => p is not null);
        var aliases = property.GetCustomAttributesData().Where(a => a.AttributeType == typeof(AliasAttribute))
            .SelectMany(a => a.ConstructorArguments)
            .SelectMany(arg => arg.Value is IEnumerable<CustomAttributeTypedArgument> many ? many.Select(m => (string)m.Value!) : [(string)arg.Value!])
            .ToList();
        return new ParameterInfo(property.Name, property.PropertyType, sets,
            attributes.Any(a => Named<bool>(a, nameof(ParameterAttribute.Mandatory))), position,
            SetsWhere(attributes, nameof(ParameterAttribute.ValueFromPipeline)),
            SetsWhere(attributes, nameof(ParameterAttribute.ValueFromPipelineByPropertyName)),
            property.GetCustomAttributesData().Any(a => a.AttributeType == typeof(SupportsWildcardsAttribute)),
            aliases);
    }

    /// <summary>The sets of the [Parameter] attributes that set <paramref name="flag"/>.</summary>
    private static List<string> SetsWhere(List<CustomAttributeData> attributes, string flag) => attributes
        .Where(a => Named<bool>(a, flag))
        .Select(a => Named<string>(a, nameof(ParameterAttribute.ParameterSetName)) ?? ParameterInfo.AllSets)
        .ToList();

    private static T? Named<T>(CustomAttributeData attribute, string name) =>
        attribute.NamedArguments.Where(n => n.MemberName == name).Select(n => (T?)n.TypedValue.Value).FirstOrDefault();
}
