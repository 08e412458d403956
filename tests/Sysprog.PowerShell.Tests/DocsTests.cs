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

    /// <summary>
    /// Each yaml block of a parameter (one for all its sets, or one per set) says how it takes pipeline input in those
    /// sets ("True (ByValue, ByPropertyName)", either order, or "False"), as its [Parameter] attributes declare.
    /// </summary>
    [Theory]
    [MemberData(nameof(ContractTests.CmdletNames), MemberType = typeof(ContractTests))]
    public void EachParameter_DocumentsThePipelineInputItTakes_InEachSet(string name)
    {
        CmdletInfo cmdlet = CmdletMetadata.All.Single(c => c.Name == name);
        string page = Page(name);
        foreach (ParameterInfo parameter in cmdlet.Parameters)
        {
            string section = Regex.Match(page, $@"### -{parameter.Name}\s*\n(.*?)(?=\n### |\n## )", RegexOptions.Singleline).Groups[1].Value;
            MatchCollection blocks = Regex.Matches(section, "```yaml\n(.*?)```", RegexOptions.Singleline);
            Assert.NotEmpty(blocks);
            foreach (Match block in blocks)
            {
                string sets = Regex.Match(block.Groups[1].Value, @"Parameter Sets: (.*)").Groups[1].Value.Trim();
                string accepted = Regex.Match(block.Groups[1].Value, @"Accept pipeline input: (.*)").Groups[1].Value.Trim();
                foreach (string set in sets == "(All)" ? [ParameterInfo.AllSets] : sets.Split(", "))
                {
                    var expected = new SortedSet<string>(StringComparer.Ordinal);
                    if (parameter.FromPipelineIn.Contains(set) || parameter.FromPipelineIn.Contains(ParameterInfo.AllSets))
                    {
                        expected.Add("ByValue");
                    }
                    if (parameter.FromPipelineByPropertyNameIn.Contains(set) || parameter.FromPipelineByPropertyNameIn.Contains(ParameterInfo.AllSets))
                    {
                        expected.Add("ByPropertyName");
                    }
                    Match documented = Regex.Match(accepted, @"^True \((.*)\)$");
                    var stated = new SortedSet<string>(documented.Success ? documented.Groups[1].Value.Split(", ") : [], StringComparer.Ordinal);
                    Assert.True(expected.Count == 0 ? accepted == "False" : documented.Success && stated.SetEquals(expected),
                        $"{name} -{parameter.Name} in set {set}: documented '{accepted}', declared {(expected.Count == 0 ? "none" : string.Join(", ", expected))}");
                }
            }
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
