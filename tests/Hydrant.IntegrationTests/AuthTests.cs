using System.Net;
using System.Text;

namespace Hydrant.IntegrationTests;

public sealed class AuthTests
{
    private const string IngestKey = "ingest-key-0123456789";
    private const string QueryKey = "query-key-0123456789";
    private const string AdminKey = "admin-key-0123456789";

    private static readonly Dictionary<string, string> Keys = new()
    {
        ["Hydrant__Auth__Keys__0__Key"] = IngestKey,
        ["Hydrant__Auth__Keys__0__Scopes__0"] = "ingest",
        ["Hydrant__Auth__Keys__1__Key"] = QueryKey,
        ["Hydrant__Auth__Keys__1__Scopes__0"] = "query",
        ["Hydrant__Auth__Keys__2__Key"] = AdminKey,
        ["Hydrant__Auth__Keys__2__Scopes__0"] = "admin",
    };

    [Fact]
    public async Task Triage_needs_the_triage_scope_and_records_the_keys_name()
    {
        var keys = new Dictionary<string, string>(Keys)
        {
            ["Hydrant__Auth__Keys__3__Key"] = "triage-key-0123456789",
            ["Hydrant__Auth__Keys__3__Scopes__0"] = "triage",
            ["Hydrant__Auth__Keys__3__Scopes__1"] = "query",
            ["Hydrant__Auth__Keys__3__Name"] = "sam",
        };
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path, environment: keys);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        using var ingest = Api.Client(server.BaseUrl, IngestKey);
        await Api.PostAsync(ingest, string.Join('\n', Enumerable.Range(0, 10).Select(i =>
            $$"""{"timestamp":{{ts + i}},"eventType":"auth.failure","sourceIP":"198.51.100.12","logsource":{"product":"hydrant","service":"auth"} }""")));
        using var query = Api.Client(server.BaseUrl, QueryKey);
        var id = (await TriageTests.OneAlertAsync(query, "sourceIP=198.51.100.12", "the brute force raised its alert")).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.Forbidden, (await TriageTests.PatchAsync(query, id, new { status = "acknowledged" })).Response.StatusCode);
        using var triage = Api.Client(server.BaseUrl, "triage-key-0123456789");
        var (acked, alert) = await TriageTests.PatchAsync(triage, id, new { status = "acknowledged" });
        Assert.Equal(HttpStatusCode.OK, acked.StatusCode);
        Assert.Equal("sam", alert.GetProperty("history")[0].GetProperty("by").GetString());
        using var admin = Api.Client(server.BaseUrl, AdminKey);
        var (byAdmin, adminAlert) = await TriageTests.PatchAsync(admin, id, new { note = "seen" });
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);
        Assert.StartsWith("key-", adminAlert.GetProperty("history")[1].GetProperty("by").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_are_required_and_scoped()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path, environment: Keys);
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1000;
        var body = $$"""{"timestamp":{{ts}},"eventType":"a","sourceIP":"198.51.100.9"}""";

        using (var anonymous = Api.Client(server.BaseUrl))
        {
            var (response, problem) = await Api.PostAsync(anonymous, body);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("unauthorized", problem.GetProperty("error").GetString());
        }
        using (var wrong = Api.Client(server.BaseUrl, "not-a-configured-key-at-all"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await Api.GetAsync(wrong, "v1/events")).Response.StatusCode);
        }
        using (var query = Api.Client(server.BaseUrl, QueryKey))
        {
            var (response, problem) = await Api.PostAsync(query, body);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Contains("ingest", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        using (var ingest = Api.Client(server.BaseUrl, IngestKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(ingest, body)).Response.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await Api.GetAsync(ingest, "v1/events")).Response.StatusCode);
        }
        var sql = """{"sql":"SELECT count(*) AS n FROM events"}""";
        var yesterday = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(-1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        using (var query = Api.Client(server.BaseUrl, QueryKey))
        {
            Assert.Single((await Api.GetAsync(query, "v1/events?sourceIP=198.51.100.9")).Body.GetProperty("events").EnumerateArray());
            // Ad-hoc SQL and building reports are admin work; reading a report is not.
            Assert.Equal(HttpStatusCode.Forbidden, (await Api.PostAsync(query, Encoding.UTF8.GetBytes(sql), "v1/analytics/query")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await Api.PostAsync(query, [], $"v1/reports/daily/{yesterday}")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(query, $"v1/reports/daily/{yesterday}")).Response.StatusCode);
            // The intel lists are admin work, read or written.
            Assert.Equal(HttpStatusCode.Forbidden, (await Api.GetAsync(query, "v1/intel/lists")).Response.StatusCode);
            using var list = new StringContent("192.0.2.0/24\n");
            Assert.Equal(HttpStatusCode.Forbidden, (await query.PutAsync("v1/intel/lists/watch", list)).StatusCode);
        }
        using (var admin = Api.Client(server.BaseUrl, AdminKey))
        {
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(admin, body)).Response.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(admin, "v1/stats")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(admin, Encoding.UTF8.GetBytes(sql), "v1/analytics/query")).Response.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Api.PostAsync(admin, [], $"v1/reports/daily/{yesterday}")).Response.StatusCode);
            using var list = new StringContent("192.0.2.0/24\n");
            Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("v1/intel/lists/watch", list)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await Api.GetAsync(admin, "v1/intel/lists")).Response.StatusCode);
        }
        // The open-node warning would come just before this start-up line.
        await Eventually.TrueAsync(() => Task.FromResult(server.Output.Contains("Hydrant data in", StringComparison.Ordinal)), "the start-up log is written");
        Assert.DoesNotContain("running OPEN", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_node_bound_beyond_loopback_without_keys_refuses_to_start()
    {
        using var data = new TempDirectory();
        var (exitCode, _, stderr) = await HydrantProcess.RunAsync(["serve", "--data", data.Path, "--urls", "http://0.0.0.0:0"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("refusing to start", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Kestrel:Endpoints:Http:Url=http://0.0.0.0:0", null, null)]
    [InlineData("--Kestrel:Endpoints:Other:Url=http://[::]:0", null, null)]
    [InlineData(null, "Kestrel__Endpoints__Http__Url", "http://0.0.0.0:0")]
    [InlineData(null, "ASPNETCORE_URLS", "http://0.0.0.0:0")]
    [InlineData(null, "ASPNETCORE_HTTP_PORTS", "0")]
    public async Task Every_way_of_binding_beyond_loopback_without_keys_refuses_to_start(string? flag, string? variable, string? value)
    {
        using var data = new TempDirectory();
        // No --urls: the endpoint comes only from the flag or the variable under test.
        var args = new List<string> { "serve", "--data", data.Path };
        if (flag is not null)
        {
            args.Add(flag);
        }
        var environment = variable is null ? null : new Dictionary<string, string> { [variable] = value! };
        var server = HydrantProcess.Start(args, environment);
        await using var _ = server;
        await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2, server.ExitCode);
        Assert.Contains("refusing to start", server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("hydrant: listening on", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_too_short_to_be_secret_stops_the_start_with_a_clear_error()
    {
        using var data = new TempDirectory();
        var (exitCode, _, stderr) = await HydrantProcess.RunAsync(["serve", "--data", data.Path, "--urls", "http://127.0.0.1:0",
            "--Hydrant:Auth:Keys:0:Key=short", "--Hydrant:Auth:Keys:0:Scopes:0=admin"]);
        Assert.Equal(2, exitCode);
        Assert.Contains("at least 16 characters", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_loopback_node_without_keys_runs_open_and_says_so()
    {
        using var data = new TempDirectory();
        await using var server = await HydrantProcess.ServeAsync(data.Path);
        // The console logger writes on its own thread: the warning may follow the "listening" line.
        await Eventually.TrueAsync(() => Task.FromResult(server.Output.Contains("running OPEN", StringComparison.Ordinal)), "the server warns that it runs open");
    }
}
