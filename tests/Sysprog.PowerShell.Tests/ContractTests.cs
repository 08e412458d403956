using System.Management.Automation;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.PowerShell.Tests;

public partial class ContractTests
{
    public static TheoryData<string> CmdletNames => new(CmdletMetadata.All.Select(c => c.Name));

    private static CmdletInfo Cmdlet(string name) => CmdletMetadata.All.Single(c => c.Name == name);

    private static readonly HashSet<string> ApprovedVerbs = new[]
        {
            typeof(VerbsCommon), typeof(VerbsData), typeof(VerbsLifecycle), typeof(VerbsDiagnostic), typeof(VerbsCommunications),
            typeof(VerbsSecurity), typeof(VerbsOther),
        }
        .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
        .Where(f => f.IsLiteral)
        .Select(f => (string)f.GetRawConstantValue()!)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// The README's "What works" table names every cmdlet the assembly has and no other. Its cells shorten shared
    /// nouns ("New-, Open-, Close-SharedMemory", "New-/Read-/Close-EventFd") and add notes in parentheses and
    /// backticks, which are left out.
    /// </summary>
    [Fact]
    public void TheReadmeTable_NamesEveryCmdlet_AndNoOther()
    {
        string readme = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "README.md"));
        int start = readme.IndexOf("## What works", StringComparison.Ordinal);
        string table = readme[start..readme.IndexOf("\n### ", start, StringComparison.Ordinal)];
        var named = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string row in table.Split('\n').Where(line => line.StartsWith('|')))
        {
            string cell = Regex.Replace(row.Split('|')[2], "`[^`]*`", "");
            while (Regex.IsMatch(cell, @"\([^()]*\)"))
            {
                cell = Regex.Replace(cell, @"\([^()]*\)", "");
            }
            var verbsAwaitingANoun = new List<string>();
            foreach (Match name in Regex.Matches(cell, @"\b([A-Z][a-z]+)-([A-Z]\w*)?"))
            {
                if (name.Groups[2].Success)
                {
                    named.Add(name.Value);
                    named.UnionWith(verbsAwaitingANoun.Select(verb => $"{verb}-{name.Groups[2].Value}"));
                    verbsAwaitingANoun.Clear();
                }
                else
                {
                    verbsAwaitingANoun.Add(name.Groups[1].Value);
                }
            }
        }

        Assert.Equal(CmdletMetadata.All.Select(c => c.Name).Order(StringComparer.Ordinal), named);
        Assert.Contains("Open", ApprovedVerbs);
        Assert.DoesNotContain("Create", ApprovedVerbs);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdlet_UsesAnApprovedVerb_IsSealed_AndDerivesFromTheBase(string name)
    {
        CmdletInfo cmdlet = Cmdlet(name);
        Assert.Contains(cmdlet.Verb, ApprovedVerbs);
        Assert.True(cmdlet.Type.IsSealed, $"{cmdlet.Type.Name} is not sealed");
        Assert.True(typeof(SysprogCmdlet).IsAssignableFrom(cmdlet.Type));
        Assert.Equal($"{cmdlet.Verb}{cmdlet.Noun}Command", cmdlet.Type.Name);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void EveryCmdlet_DeclaresItsOutputType(string name) => Assert.NotEmpty(Cmdlet(name).OutputTypes);

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void DestructiveVerbs_SupportShouldProcess(string name)
    {
        CmdletInfo cmdlet = Cmdlet(name);
        // New-SharedMemory makes a name every process sees; New-MemoryMap only changes this process, like New-Object.
        if (cmdlet.Verb is "Remove" or "Set" or "Resize" || name == "New-SharedMemory")
        {
            Assert.True(cmdlet.SupportsShouldProcess, $"{name} must support -WhatIf/-Confirm");
        }
    }

    [Theory]
    [InlineData("Write-ProcessMemory")]
    [InlineData("Invoke-SharedLibraryFunction")]
    public void CommandsThatCanEndTheSession_AskFirst_WithConfirmImpactHigh(string name)
    {
        CmdletInfo cmdlet = Cmdlet(name);
        Assert.True(cmdlet.SupportsShouldProcess);
        CustomAttributeData declared = cmdlet.Type.GetCustomAttributesData().Single(a => a.AttributeType == typeof(CmdletAttribute));
        Assert.Equal(ConfirmImpact.High, (ConfirmImpact)(int)declared.NamedArguments.Single(a => a.MemberName == nameof(CmdletAttribute.ConfirmImpact)).TypedValue.Value!);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void ParameterSets_HaveADefault_WhenThereAreSeveral(string name)
    {
        CmdletInfo cmdlet = Cmdlet(name);
        if (cmdlet.ParameterSets.Count > 1)
        {
            Assert.Contains(cmdlet.DefaultParameterSet, cmdlet.ParameterSets);
        }
    }

    [Fact]
    public void EveryEnumOfTheCore_CrossesAJobOrARemoteCallAsItsName()
    {
        string types = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "module", "Sysprog.Types.ps1xml"));
        var byName = Regex.Matches(types, "<Type>(.*?)</Type>", RegexOptions.Singleline)
            .Select(m => m.Groups[1].Value)
            .Where(t => Regex.IsMatch(t, @"<Name>SerializationMethod</Name>\s*<Value>String</Value>"))
            .Select(t => Regex.Match(t, "<Name>([^<]+)</Name>").Groups[1].Value)
            .ToHashSet();
        string[] enums = typeof(SharedMemory).Assembly.GetExportedTypes().Where(t => t.IsEnum).Select(t => t.FullName!).Order(StringComparer.Ordinal).ToArray();
        Assert.NotEmpty(enums);
        string[] missing = enums.Where(e => !byName.Contains(e)).ToArray();
        Assert.True(missing.Length == 0, $"Not serialized as names: {string.Join(", ", missing)}");
    }

    [Fact]
    public void TheManifest_ExportsExactlyTheCmdletsInTheAssembly()
    {
        string manifest = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "Sysprog.psd1"));
        string list = Regex.Match(manifest, @"CmdletsToExport\s*=\s*@\(([^)]*)\)").Groups[1].Value;
        string[] exported = Regex.Matches(list, "'([^']+)'").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(CmdletMetadata.All.Select(c => c.Name).ToArray(), exported);
        Assert.Matches(@"RootModule\s*=\s*'Sysprog\.PowerShell\.dll'", manifest);
        Assert.Matches(@"FunctionsToExport\s*=\s*@\(\)", manifest);
    }

    [Fact]
    public void TheManifest_VersionIsTheAssemblyVersion_AndItsFormatAndTypesFilesExist()
    {
        string manifest = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "Sysprog.psd1"));
        string version = Regex.Match(manifest, @"ModuleVersion\s*=\s*'([^']+)'").Groups[1].Value;
        Assert.Equal(new Version(version), new Version(CmdletMetadata.Assembly.GetName().Version!.ToString(3)));
        foreach (string key in new[] { "FormatsToProcess", "TypesToProcess" })
        {
            var files = Regex.Matches(Regex.Match(manifest, key + @"\s*=\s*@\(([^)]*)\)").Groups[1].Value, "'([^']+)'");
            Assert.NotEmpty(files);
            foreach (Match file in files)
            {
                Assert.True(File.Exists(Path.Combine(CmdletMetadata.RepoRoot, "module", file.Groups[1].Value)), file.Groups[1].Value);
            }
        }
    }

    [Fact]
    public void TheFormatFile_HasATableViewForEveryOutputType_AndItsDeserializedForm()
    {
        string format = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "module", "Sysprog.Format.ps1xml"));
        var selected = Regex.Matches(format, "<ViewSelectedBy>(.*?)</ViewSelectedBy>").Select(m => Regex.Matches(m.Groups[1].Value, "<TypeName>([^<]+)</TypeName>").Select(t => t.Groups[1].Value).ToArray()).ToList();
        // Each view is chosen for its type and for the type as a job or a remote call brings it back.
        foreach (string[] names in selected)
        {
            Assert.Equal(new[] { names[0], "Deserialized." + names[0] }, names);
        }
        var viewed = selected.Select(names => names[0]).ToHashSet();
        foreach (Type output in CmdletMetadata.All.SelectMany(c => c.OutputTypes).Where(t => t.Namespace == "Sysprog").Distinct())
        {
            Assert.Contains(output.FullName!, viewed);
        }
        foreach (string typeName in viewed)
        {
            // The core's types, and the few the module itself defines (what it adds to a core object: a runspace).
            Assert.NotNull(typeof(SharedMemory).Assembly.GetType(typeName) ?? typeof(Sysprog.PowerShell.Commands.GetSysprogHandleCommand).Assembly.GetType(typeName));
        }
    }
}
