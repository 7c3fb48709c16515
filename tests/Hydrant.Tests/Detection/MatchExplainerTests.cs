using System.Text;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;

namespace Hydrant.Tests.Detection;

public sealed class MatchExplainerTests
{
    private const string Rules = """
        title: Download as root
        id: r-download
        name: download
        logsource: {product: test}
        detection:
            selection:
                user: root
                cmd|contains: wget
            filter:
                host: build-server
            condition: selection and not filter
        ---
        title: Many downloads
        id: c-downloads
        correlation:
            type: event_count
            rules: [download]
            group-by: [host]
            timespan: 5m
            condition: {gte: 3}
        """;

    private static RuleSet Load() =>
        new([.. new SigmaCompiler(SigmaOptions.Default).CompileFile(Rules).Select(d => new LoadedDocument(d.Document!, "test"))], []);

    private static ReadOnlyMemory<byte> Event(string host) => Encoding.UTF8.GetBytes(
        $$"""{"id":"e1","timestamp":"2026-11-24T10:00:00.000Z","eventType":"shell","sourceIP":"10.0.0.1","user":"root","cmd":"wget http://x","host":"{{host}}","logsource":{"product":"test"} }""");

    [Fact]
    public void Each_selection_says_whether_it_matched_and_the_events_values_of_its_fields()
    {
        var explained = Assert.Single(MatchExplainer.Explain(Load(), "r-download", Event("web-1")));
        Assert.Equal(("r-download", "Download as root"), (explained.RuleId, explained.Title));
        Assert.Equal(["selection", "filter"], explained.Selections.Select(s => s.Name));
        Assert.True(explained.Selections[0].Matched);
        Assert.Equal(new Dictionary<string, string?> { ["user"] = "root", ["cmd"] = "wget http://x" }, explained.Selections[0].Fields);
        Assert.False(explained.Selections[1].Matched);
        Assert.Equal("web-1", explained.Selections[1].Fields["host"]);
    }

    [Fact]
    public void A_correlation_is_explained_by_the_rules_it_counts_and_an_event_that_does_not_match_has_nothing()
    {
        var explained = Assert.Single(MatchExplainer.Explain(Load(), "c-downloads", Event("web-1")));
        Assert.Equal("r-download", explained.RuleId);
        Assert.Empty(MatchExplainer.Explain(Load(), "c-downloads", Event("build-server")));
        Assert.Empty(MatchExplainer.Explain(Load(), "no-such-rule", Event("web-1")));
    }
}
