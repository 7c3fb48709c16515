using System.Net;
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
}
