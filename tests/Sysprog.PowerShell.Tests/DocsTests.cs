using System.Text.RegularExpressions;
using Xunit;

namespace Sysprog.PowerShell.Tests;

/// <summary>docs/ is platyPS 0.14 markdown: one page per cmdlet that documents every parameter and parameter set.</summary>
public class DocsTests
{
    private static readonly string[] CommonSections =
        ["## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "## PARAMETERS", "### CommonParameters", "## INPUTS", "## OUTPUTS", "## NOTES", "## RELATED LINKS"];

    private static string Page(string cmdletName)
    {
        string path = Path.Combine(CmdletMetadata.RepoRoot, "docs", cmdletName + ".md");
        Assert.True(File.Exists(path), $"docs/{cmdletName}.md is missing");
        return File.ReadAllText(path);
    }

    [Theory]
    [MemberData(nameof(ContractTests.CmdletNames), MemberType = typeof(ContractTests))]
    public void EveryCmdlet_HasAPlatyPsPage_WithEverySection(string name)
    {
        string page = Page(name);
        Assert.StartsWith("---\nexternal help file: Sysprog.PowerShell.dll-Help.xml\nModule Name: Sysprog\n", page.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("schema: 2.0.0", page, StringComparison.Ordinal);
        Assert.Contains($"\n# {name}\n", page.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        int last = -1;
        foreach (string section in CommonSections)
        {
            int at = page.IndexOf("\n" + section + "\n", StringComparison.Ordinal);
            Assert.True(at > last, $"{name}: '{section}' missing or out of order");
            last = at;
        }
        Assert.Matches(@"### Example 1[^\n]*\n+```powershell\n", page);
    }

    [Theory]
    [MemberData(nameof(ContractTests.CmdletNames), MemberType = typeof(ContractTests))]
    public void EveryParameter_IsDocumented_AndNoDocumentedParameterIsStale(string name)
    {
        CmdletInfo cmdlet = CmdletMetadata.All.Single(c => c.Name == name);
        string page = Page(name);
        var expected = cmdlet.Parameters.Select(p => p.Name).ToList();
        if (cmdlet.SupportsShouldProcess)
        {
            expected.AddRange(["Confirm", "WhatIf"]);
        }
        var documented = Regex.Matches(page, @"^### -(\w+)\s*$", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(expected.Order(StringComparer.Ordinal), documented.Order(StringComparer.Ordinal));
        foreach (ParameterInfo parameter in cmdlet.Parameters)
        {
            string block = Regex.Match(page, $@"### -{parameter.Name}\s*\n(.*?)```yaml\n(.*?)```", RegexOptions.Singleline).Groups[2].Value;
            Assert.Contains($"Required: {parameter.Mandatory}", block, StringComparison.Ordinal);
            Assert.Contains($"Accept wildcard characters: {parameter.Wildcards}", block, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(ContractTests.CmdletNames), MemberType = typeof(ContractTests))]
    public void TheSyntax_ShowsEveryParameterSet(string name)
    {
        CmdletInfo cmdlet = CmdletMetadata.All.Single(c => c.Name == name);
        string syntax = Regex.Match(Page(name), "## SYNTAX\n(.*?)\n## DESCRIPTION", RegexOptions.Singleline).Groups[1].Value;
        if (cmdlet.ParameterSets.Count <= 1)
        {
            Assert.Contains($"```\n{name}", syntax, StringComparison.Ordinal);
            return;
        }
        foreach (string set in cmdlet.ParameterSets)
        {
            string heading = set == cmdlet.DefaultParameterSet ? $"### {set} (Default)" : $"### {set}";
            Assert.Contains(heading + "\n```\n" + name, syntax, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheModulePage_AndAboutTopic_Exist_AndListEveryCmdlet()
    {
        string modulePage = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "docs", "Sysprog.md"));
        foreach (CmdletInfo cmdlet in CmdletMetadata.All)
        {
            Assert.Contains($"### [{cmdlet.Name}]({cmdlet.Name}.md)", modulePage, StringComparison.Ordinal);
        }
        string about = File.ReadAllText(Path.Combine(CmdletMetadata.RepoRoot, "docs", "about_Sysprog.md"));
        Assert.StartsWith("# about_Sysprog\n\n## SHORT DESCRIPTION\n", about.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\n## LONG DESCRIPTION\n", about.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
