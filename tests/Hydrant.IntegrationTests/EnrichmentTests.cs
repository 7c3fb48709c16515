using System.Net;
using System.Text.Json;
using Hydrant.Tests;

namespace Hydrant.IntegrationTests;

/// <summary>Enrichment at ingest on a real server: MaxMind's test databases and a FireHOL list configured, events stored with what was known, and Sigma rules that select on it.</summary>
public sealed class EnrichmentTests
{
    private static string GeoIp(string name) => Corpus.Path("geoip", "maxmind-test-data", "test-data", name);

    [Fact]
    public async Task Events_are_stored_with_the_place_network_and_lists_of_their_addresses_and_rules_select_on_them()
    {
        using var data = new TempDirectory();
        await File.WriteAllTextAsync(data.File("listed.yml"), """
            title: Connection From a Feodo Address
            id: 7e1d2c3b-4a5f-4e6d-8c7b-9a0b1c2d3e4f
            logsource:
                product: hydrant
            detection:
                selection:
                    enrichment.intel: feodo
                condition: selection
            level: high
            ---
            title: Login From Great Britain
            id: 8f2e3d4c-5b6a-4f7e-9d8c-0b1c2d3e4f50
            logsource:
                product: hydrant
            detection:
                selection:
                    enrichment.geo.country_iso_code: GB
                condition: selection
            level: low
            """);
        await using var server = await HydrantProcess.ServeAsync(data.Path, [
            "--rules", data.Path,
            "--Hydrant:Enrichment:GeoIp:City=" + GeoIp("GeoIP2-City-Test.mmdb"),
            "--Hydrant:Enrichment:GeoIp:Asn=" + GeoIp("GeoLite2-ASN-Test.mmdb"),
            "--Hydrant:Enrichment:Intel:Lists:0:Name=feodo",
            "--Hydrant:Enrichment:Intel:Lists:0:Path=" + Corpus.Path("threat-intel", "firehol", "feodo.ipset"),
            "--Hydrant:Enrichment:Fields:0=destinationIP",
            "--Hydrant:Ingest:MaxEventBytes=1048576",
        ]);
        using var client = Api.Client(server.BaseUrl);
        var now = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
        string Event(string id, string source, string extra = "") =>
            $$"""{"id":"{{id}}","timestamp":{{now}},"eventType":"auth.failure","sourceIP":"{{source}}","logsource":{"product":"hydrant","service":"auth"}{{extra}}}""";
        var body = string.Join('\n',
            Event("london", "81.2.69.142", ",\"destinationIP\":\"1.128.0.1\""),
            Event("feodo", "1.178.179.217"),
            Event("nothing-known", "10.9.8.7"),
            Event("brings-its-own", "81.2.69.142", ",\"enrichment\":{\"geo\":{\"country_iso_code\":\"KP\"}}"));

        var (response, answer) = await Api.PostAsync(client, System.Text.Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, answer.GetProperty("accepted").GetInt32());
        var rejected = Assert.Single(answer.GetProperty("rejected").EnumerateArray());
        Assert.Equal(3, rejected.GetProperty("index").GetInt32());
        Assert.Contains("enrichment: a reserved field, which Hydrant sets at ingest", rejected.GetProperty("error").GetString(), StringComparison.Ordinal);

        var (_, london) = await Api.GetAsync(client, "v1/events/london");
        var enrichment = london.GetProperty("enrichment");
        Assert.Equal(("GB", "United Kingdom", "London"), (enrichment.GetProperty("geo").GetProperty("country_iso_code").GetString(),
            enrichment.GetProperty("geo").GetProperty("country_name").GetString(), enrichment.GetProperty("geo").GetProperty("city_name").GetString()));
        Assert.True(enrichment.GetProperty("geo").GetProperty("location").GetProperty("lat").GetDouble() is > 51 and < 52);
        var destination = enrichment.GetProperty("fields").GetProperty("destinationIP");
        Assert.Equal((1221, "Telstra Pty Ltd"), (destination.GetProperty("as").GetProperty("number").GetInt32(), destination.GetProperty("as").GetProperty("organization").GetString()));
        var (_, feodo) = await Api.GetAsync(client, "v1/events/feodo");
        Assert.Equal(["feodo"], feodo.GetProperty("enrichment").GetProperty("intel").EnumerateArray().Select(e => e.GetString()));
        var (_, nothing) = await Api.GetAsync(client, "v1/events/nothing-known");
        Assert.False(nothing.TryGetProperty("enrichment", out _));

        // An event its enrichment would take past what the store keeps is stored as it came, and the answer says so.
        var padding = 1_048_576 - 10 - Event("big", "1.178.179.217", ",\"padding\":\"\"").Length;
        var (_, big) = await Api.PostAsync(client, System.Text.Encoding.UTF8.GetBytes(Event("big", "1.178.179.217", ",\"padding\":\"" + new string('x', padding) + "\"")));
        Assert.True(big.TryGetProperty("accepted", out var bigAccepted) && bigAccepted.GetInt32() == 1, big.ToString());
        Assert.Contains("event 0: stored without its enrichment, which would make it", Assert.Single(big.GetProperty("notices").EnumerateArray()).GetString(), StringComparison.Ordinal);
        var (_, stored) = await Api.GetAsync(client, "v1/events/big");
        Assert.False(stored.TryGetProperty("enrichment", out _));

        // Sigma rules select on the enrichment like on any field.
        await TriageTests.OneAlertAsync(client, "rule=Connection From a Feodo Address", "the listed address raised its alert");
        var gb = await TriageTests.OneAlertAsync(client, "rule=Login From Great Britain", "the British address raised its alert");
        Assert.Equal("london", gb.GetProperty("events")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task A_database_that_cannot_be_used_stops_the_server_naming_the_setting_and_the_file()
    {
        using var data = new TempDirectory();
        var (exit, _, error) = await HydrantProcess.RunAsync(["serve", "--data", data.Path, "--urls", "http://127.0.0.1:0",
            "--Hydrant:Enrichment:GeoIp:City=" + GeoIp("GeoIP2-City-Test-Invalid-Node-Count.mmdb")]);
        Assert.NotEqual(0, exit);
        Assert.Contains("Hydrant:Enrichment:GeoIp:City:", error, StringComparison.Ordinal);
        Assert.Contains("GeoIP2-City-Test-Invalid-Node-Count.mmdb is corrupt", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lists_put_through_the_api_or_changed_on_disk_apply_to_the_next_events_raise_the_built_in_rule_at_their_level_and_survive_a_restart()
    {
        using var files = new TempDirectory();
        using var data = new TempDirectory();
        var watch = files.File("watch.netset");
        await File.WriteAllTextAsync(watch, "# watched\n192.0.2.0/24\n");
        string[] args = ["--Hydrant:Enrichment:Intel:Lists:0:Name=watch", "--Hydrant:Enrichment:Intel:Lists:0:Path=" + watch, "--Hydrant:Enrichment:Intel:Lists:0:Level=low"];
        var now = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds();
        string Event(string id, string source) =>
            $$$"""{"id":"{{{id}}}","timestamp":{{{now}}},"eventType":"net.connection","sourceIP":"{{{source}}}","logsource":{"product":"hydrant","service":"net"}}""";
        async Task<string[]> IntelOfAsync(HttpClient client, string id, string source)
        {
            Assert.Equal(1, (await Api.PostAsync(client, Event(id, source))).Body.GetProperty("accepted").GetInt32());
            var (_, stored) = await Api.GetAsync(client, "v1/events/" + id);
            return stored.TryGetProperty("enrichment", out var enrichment) ? [.. enrichment.GetProperty("intel").EnumerateArray().Select(e => e.GetString()!)] : [];
        }
        static async Task<(HttpStatusCode Status, JsonElement Body)> PutAsync(HttpClient client, string path, string text)
        {
            using var content = new StringContent(text);
            using var response = await client.PutAsync(path, content);
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }

        await using (var server = await HydrantProcess.ServeAsync(data.Path, args))
        {
            using var client = Api.Client(server.BaseUrl);
            var (added, feed) = await PutAsync(client, "v1/intel/lists/feed?level=critical", "203.0.113.0/24\nnot-an-address\n");
            Assert.Equal(HttpStatusCode.Created, added);
            Assert.Equal((1, "api", "critical"), (feed.GetProperty("networks").GetInt32(), feed.GetProperty("source").GetString(), feed.GetProperty("level").GetString()));
            Assert.Equal("line 2: not an IP address or network", Assert.Single(feed.GetProperty("problems").EnumerateArray()).GetString());
            Assert.Equal(HttpStatusCode.OK, (await PutAsync(client, "v1/intel/lists/feed?level=critical", "203.0.113.0/24\n")).Status);
            var (fromFile, conflict) = await PutAsync(client, "v1/intel/lists/watch", "10.0.0.0/8\n");
            Assert.Equal(HttpStatusCode.Conflict, fromFile);
            Assert.Contains("read from a configured file", conflict.GetProperty("detail").GetString(), StringComparison.Ordinal);
            var (badLevel, why) = await PutAsync(client, "v1/intel/lists/other?level=severe", "10.0.0.0/8\n");
            Assert.Equal(HttpStatusCode.BadRequest, badLevel);
            Assert.Contains("level must be one of informational, low, medium, high, critical (got 'severe')", why.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.BadRequest, (await PutAsync(client, "v1/intel/lists/..hidden", "10.0.0.0/8\n")).Status);
            Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("v1/intel/lists/nothing")).StatusCode);

            // The list put a moment ago is matched by the next event, the file's list too, each raising the built-in rule at its level.
            Assert.Equal(["feed"], await IntelOfAsync(client, "api-listed", "203.0.113.9"));
            Assert.Equal(["watch"], await IntelOfAsync(client, "file-listed", "192.0.2.5"));
            var (_, stored) = await Api.GetAsync(client, "v1/events/api-listed");
            Assert.Equal("critical", stored.GetProperty("enrichment").GetProperty("intel_level").GetString());
            await Eventually.TrueAsync(async () =>
                (await Api.GetAsync(client, "v1/alerts?rule=Connection From a Listed Address")).Body.GetProperty("alerts").EnumerateArray()
                    .Select(a => a.GetProperty("level").GetString()).Order().SequenceEqual(["critical", "low"]),
                "the built-in rule raised one alert at each list's level");

            // The file changes on disk: the running server reads it again within a second or so.
            await File.WriteAllTextAsync(watch, "192.0.2.0/24\n198.51.100.0/24\n");
            await Eventually.TrueAsync(async () => (await Api.GetAsync(client, "v1/intel/lists/watch")).Body.GetProperty("networks").GetInt32() == 2,
                "the server read the changed list file");
            Assert.Equal(["watch"], await IntelOfAsync(client, "file-changed", "198.51.100.9"));

            var (_, lists) = await Api.GetAsync(client, "v1/intel/lists");
            var byName = lists.GetProperty("lists").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
            Assert.Equal(["watch", "feed"], byName.Keys);
            Assert.Equal(("file", watch), (byName["watch"].GetProperty("source").GetString(), byName["watch"].GetProperty("path").GetString()));
            Assert.Equal(2, byName["watch"].GetProperty("hits").GetInt64());
            Assert.Equal(1, byName["feed"].GetProperty("hits").GetInt64());
            var (_, stats) = await Api.GetAsync(client, "v1/stats");
            Assert.Equal(2, stats.GetProperty("enrichment").GetProperty("lists").GetArrayLength());

            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("v1/intel/lists/feed")).StatusCode);
            Assert.Empty(await IntelOfAsync(client, "after-delete", "203.0.113.10"));
            Assert.Equal(HttpStatusCode.Created, (await PutAsync(client, "v1/intel/lists/kept?format=csv&column=1", "when,address\n2026-12-01,100.64.0.1\n")).Status);
        }

        await using (var restarted = await HydrantProcess.ServeAsync(data.Path, args))
        {
            using var client = Api.Client(restarted.BaseUrl);
            var (found, kept) = await Api.GetAsync(client, "v1/intel/lists/kept");
            Assert.Equal(HttpStatusCode.OK, found.StatusCode);
            Assert.Equal(("csv", 1), (kept.GetProperty("format").GetString(), kept.GetProperty("networks").GetInt32()));
            Assert.Equal(HttpStatusCode.NotFound, (await Api.GetAsync(client, "v1/intel/lists/feed")).Response.StatusCode);
            Assert.Equal(["kept"], await IntelOfAsync(client, "after-restart", "100.64.0.1"));
        }
    }
}
