using Hydrant.Detection;
using Hydrant.Detection.Sigma;

namespace Hydrant.Tests.Detection;

/// <summary>What <c>rules lint</c> flags, rule by rule: a clean rule, each convention broken, and a rule that does not compile.</summary>
public sealed class SigmaLinterTests
{
    private static readonly SigmaCompiler Compiler = new(SigmaOptions.Default);

    private const string Clean = """
        title: Suspicious Encoded PowerShell
        id: 6b2e8f1c-3d4a-4b5e-a6f7-8c9d0e1f2a63
        status: test
        description: Detects powershell.exe started with an encoded command.
        references:
            - https://example.org/encoded
        author: someone
        date: 2026-12-02
        tags:
            - attack.execution
            - attack.t1059.001
            - attack.stealth
            - car.2016-04-005
            - cve.2021-44228
            - detection.threat-hunting
            - tlp.amber-strict
            - stp.3k
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                Image|endswith: '\powershell.exe'
                CommandLine|contains: ' -enc '
            condition: selection
        falsepositives:
            - Unknown
        level: medium
        """;

    private static IReadOnlyList<LintFinding> Lint(string yaml) => SigmaLinter.Lint(Assert.Single(Compiler.CompileFile(yaml)));

    [Fact]
    public void A_rule_that_keeps_the_conventions_has_no_findings()
    {
        Assert.Empty(Lint(Clean));
        Assert.All(DefaultRules.All().SelectMany(r => Compiler.CompileFile(r.Yaml)), d => Assert.Empty(SigmaLinter.Lint(d)));
    }

    [Theory]
    [InlineData("id: 6b2e8f1c-3d4a-4b5e-a6f7-8c9d0e1f2a63\n", "", "missing-id", "no id")]
    [InlineData("id: 6b2e8f1c-3d4a-4b5e-a6f7-8c9d0e1f2a63", "id: my-rule", "id-not-uuid", "id 'my-rule' is not a lower-case UUID")]
    [InlineData("status: test", "status: production", "status", "status 'production' is not one of")]
    [InlineData("date: 2026-12-02", "date: 2026/12/02", "date", "date '2026/12/02' is not yyyy-mm-dd")]
    [InlineData("    - attack.t1059.001", "    - attack.T1059", "tag", "tag 'attack.T1059' is not an ATT&CK tactic or id")]
    [InlineData("    - attack.execution", "    - attack.hacking", "tag", "tag 'attack.hacking' is not an ATT&CK tactic or id")]
    [InlineData("    - tlp.amber-strict", "    - internal.team-red", "tag", "tag 'internal.team-red' is in none of the namespaces")]
    [InlineData("falsepositives:\n    - Unknown\n", "", "missing-falsepositives", "no falsepositives")]
    [InlineData("    product: windows\n    category: process_creation", "    product: linux\n    category: process_creation", "logsource-not-fed", "no input format gives events of logsource linux/*/process_creation")]
    public void A_broken_convention_is_flagged_as_a_warning_naming_what_is_wrong(string from, string to, string code, string message)
    {
        var finding = Assert.Single(Lint(Clean.Replace(from, to, StringComparison.Ordinal)));
        Assert.Equal((LintFinding.Warning, code), (finding.Severity, finding.Code));
        Assert.Contains(message, finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_that_does_not_compile_is_an_error_with_the_compilers_reason()
    {
        var finding = Assert.Single(Lint(Clean.Replace("Image|endswith", "Image|endswithh", StringComparison.Ordinal)));
        Assert.Equal((LintFinding.Error, "refused"), (finding.Severity, finding.Code));
        Assert.Contains("unsupported modifier 'endswithh'", finding.Message, StringComparison.Ordinal);
    }
}
