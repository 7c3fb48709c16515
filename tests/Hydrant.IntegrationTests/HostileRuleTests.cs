using System.Net;
using System.Text;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Hydrant.IntegrationTests;

/// <summary>
/// Hostile rules through every door (the API, a rules folder, a rule an earlier build stored,
/// `rules check`): each is refused with its reason, and the server keeps serving.
/// </summary>
public sealed class HostileRuleTests
{
    private static string Detection(string condition, string extra = "") => $"""
        title: Hostile
        id: 0f0f0f0f-1111-4222-8333-444444444444
        logsource:
            product: test
        detection:
            selection:
                tool: x
        {extra}
            condition: '{condition}'
        level: high
        """;

    private static string AliasBomb()
    {
        var bomb = new StringBuilder("title: Bomb\nlogsource:\n    product: test\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 12; i++)
        {
            bomb.Append(System.Globalization.CultureInfo.InvariantCulture, $"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]\n");
        }
        return bomb.Append("detection:\n    selection: *a11\n    condition: selection\n").ToString();
    }

    /// <summary>Each hostile rule and what its refusal says.</summary>
    public static TheoryData<string, string, string> Hostile => new()
    {
        { "deep condition", Detection(new string('(', 10_000) + "selection" + new string(')', 10_000)), "over the limit of 1000" },
        { "base64offset chain", Detection("selection", "    chain:\n        payload" + string.Concat(Enumerable.Repeat("|base64offset", 15)) + "|contains: attack"), "expand past 4096 values" },
        { "alias bomb", AliasBomb(), "YAML aliases (*a0) are not allowed" },
        { "non-scalar key", Detection("selection", "    other:\n        ? [a, b]\n        : 1"), "a mapping key must be a plain value" },
        { "huge timespan", "title: Long\ncorrelation:\n    type: event_count\n    rules: [x]\n    timespan: 99999999999d\n    condition:\n        gte: 2\n", "longer than the longest allowed, 30d" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_rule_posted_to_the_api_is_answered_400_with_the_reason_and_the_server_goes_on(string name, string yaml, string reason)
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);
        using var client = Api.Client(server.BaseUrl);

        var (response, problem) = await Api.PostAsync(client, Encoding.UTF8.GetBytes(yaml), "v1/rules");

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: answered {response.StatusCode}");
        Assert.Contains(reason, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(client, "healthz")).Response.StatusCode);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task Hostile_rules_in_the_rules_folder_are_refused_at_start_and_rules_check_names_them_and_exits_2()
    {
        using var data = new TempDirectory();
        var rules = Path.Combine(data.Path, "rules");
        Directory.CreateDirectory(rules);
        var i = 0;
        foreach (var row in Hostile)
        {
            await File.WriteAllTextAsync(Path.Combine(rules, $"hostile_{i++}.yml"), (string)row[1]);
        }
        await File.WriteAllTextAsync(Path.Combine(rules, "good.yml"), Detection("selection").Replace("0f0f0f0f-1111-4222-8333-444444444444", "0f0f0f0f-1111-4222-8333-555555555555", StringComparison.Ordinal));

        var (exit, stdout, stderr) = await HydrantProcess.RunAsync(["rules", "check", rules]);
        Assert.Equal(2, exit);
        Assert.Contains("6 rules: 1 compiled, 5 refused", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);

        await using var server = await HydrantProcess.ServeAsync(Path.Combine(data.Path, "db"), ["--rules", rules]);
        using var client = Api.Client(server.BaseUrl);
        var (_, listed) = await Api.GetAsync(client, "v1/rules");
        Assert.Equal(5, listed.GetProperty("refused").GetArrayLength());
        Assert.Single(listed.GetProperty("rules").EnumerateArray());
    }

    [Fact]
    public async Task A_stored_rule_that_no_longer_compiles_is_listed_as_refused_and_the_node_starts()
    {
        using var data = new TempDirectory();
        // As an earlier build, with no bounds, would have stored it.
        var app = await StartAsync(data.Path);
        await app.Services.GetRequiredService<IRuleCache>().SaveAsync("0f0f0f0f-1111-4222-8333-444444444444", (string)Hostile.First()[1], CancellationToken.None);
        await app.StopAsync();
        await app.DisposeAsync();

        app = await StartAsync(data.Path);
        await using var _ = app;
        using var client = Api.Client(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        var (response, listed) = await Api.GetAsync(client, "v1/rules");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var refused = listed.GetProperty("refused").EnumerateArray().Single(r => r.GetProperty("source").GetString()!.StartsWith("api:", StringComparison.Ordinal));
        Assert.Contains("over the limit of 1000", refused.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(client, """{"timestamp":"2026-01-01T00:00:00Z","eventType":"a","sourceIP":"10.0.0.1"}""")).Response.StatusCode);
        Assert.Equal(JsonValueKind.Array, listed.GetProperty("rules").ValueKind);
    }

    private static async Task<WebApplication> StartAsync(string dataPath)
    {
        var app = HydrantHost.Build(["--urls=http://127.0.0.1:0", $"--Hydrant:Data={dataPath}", "--Hydrant:Retention:Days=36500"]);
        await app.StartAsync();
        return app;
    }
}
