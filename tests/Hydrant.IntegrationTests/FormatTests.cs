using System.Net;
using System.Text.Json;
using Hydrant.Tests;

namespace Hydrant.IntegrationTests;

[Collection("server")]
public sealed class FormatTests(ServerFixture fixture)
{
    private static string CorpusFile(params string[] parts) => Corpus.Path(["logs", .. parts]);

    [Fact]
    public async Task CloudTrail_arrays_are_ingested_and_found_by_their_source_as_given()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        var file = CorpusFile("cloudtrail", "stratus-red-team-detonations", "aws.persistence.iam-create-admin-user.json");
        var records = JsonDocument.Parse(await File.ReadAllBytesAsync(file)).RootElement.GetArrayLength();

        var (response, answer) = await Api.PostAsync(client, await File.ReadAllBytesAsync(file), "v1/events?format=cloudtrail");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(records, answer.GetProperty("accepted").GetInt32());

        var (_, page) = await Api.GetAsync(client, "v1/events?sourceIP=075.050.255.67&from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z&explain=true");
        var events = page.GetProperty("events");
        Assert.Equal(3, events.GetArrayLength());
        Assert.All(events.EnumerateArray(), e => Assert.Equal("aws", e.GetProperty("logsource").GetProperty("product").GetString()));
        Assert.Equal("source", page.GetProperty("plan").GetProperty("index").GetString());
    }

    [Fact]
    public async Task Syslog_and_zeek_go_through_the_same_endpoint()
    {
        using var client = Api.Client(fixture.Server.BaseUrl);
        var (syslog, syslogAnswer) = await Api.PostAsync(client,
            "Mar 24 17:20:01 gw sshd[77]: Failed password for root from 198.51.100.77 port 4242 ssh2\nnot syslog\n"u8.ToArray(),
            "v1/events?format=syslog&year=2018");
        Assert.Equal(HttpStatusCode.OK, syslog.StatusCode);
        Assert.Equal(1, syslogAnswer.GetProperty("accepted").GetInt32());
        Assert.Equal(1, syslogAnswer.GetProperty("rejected")[0].GetProperty("index").GetInt32());

        var zeek = await File.ReadAllBytesAsync(CorpusFile("zeek", "brimdata-wrccdc2018", "ssh.json"));
        var (zeekResponse, zeekAnswer) = await Api.PostAsync(client, zeek, "v1/events?format=zeek");
        Assert.Equal(HttpStatusCode.OK, zeekResponse.StatusCode);
        Assert.Equal(File.ReadAllLines(CorpusFile("zeek", "brimdata-wrccdc2018", "ssh.json")).Length, zeekAnswer.GetProperty("accepted").GetInt32());

        var (_, failures) = await Api.GetAsync(client, "v1/events?sourceIP=198.51.100.77&from=2018-03-01T00:00:00Z&to=2018-04-01T00:00:00Z");
        var failure = Assert.Single(failures.GetProperty("events").EnumerateArray());
        Assert.Equal("ssh.auth.failure", failure.GetProperty("eventType").GetString());
        Assert.Equal("2018-03-24T17:20:01.000Z", failure.GetProperty("timestamp").GetString());

        var (badYear, _) = await Api.PostAsync(client, "x"u8.ToArray(), "v1/events?format=syslog&year=20x8");
        Assert.Equal(HttpStatusCode.BadRequest, badYear.StatusCode);
    }
}
