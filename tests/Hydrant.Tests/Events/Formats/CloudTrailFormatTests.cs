using System.Text;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events.Formats;

public sealed class CloudTrailFormatTests
{
    private static readonly ParseOptions CloudTrail = new() { Format = InputFormat.CloudTrail };
    private static readonly EventParser Parser = new(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));

    private static JsonElement Json(SecurityEvent e) => JsonDocument.Parse(e.Json).RootElement;

    [Fact]
    public void Logstash_exported_ndjson_without_eventTime_uses_the_timestamp_field()
    {
        var path = Corpus.Path("logs", "cloudtrail", "otrf-security-datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json");
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToList();
        using var batch = Parser.Parse(File.ReadAllBytes(path), CloudTrail);

        Assert.Empty(batch.Rejections);
        Assert.Equal(lines.Count, batch.Events.Count);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        var e = batch.Events[0];
        Assert.Equal(first.GetProperty("eventName").GetString(), e.EventType);
        Assert.Equal(first.GetProperty("eventID").GetString(), e.Id);
        Assert.True(e.IdFromClient);
        Assert.Equal(DateTimeOffset.Parse(first.GetProperty("@timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds(), e.TimestampMs);
        Assert.Equal("aws", Json(e).GetProperty("logsource").GetProperty("product").GetString());
        Assert.Equal("cloudtrail", Json(e).GetProperty("logsource").GetProperty("service").GetString());
        // CloudTrail's own eventType survives beside the canonical one.
        Assert.Equal("AwsApiCall", Json(e).GetProperty("cloudtrail_eventType").GetString());
        Assert.Equal(first.GetProperty("userIdentity").GetRawText(), Json(e).GetProperty("userIdentity").GetRawText());
    }

    [Fact]
    public void Service_names_as_sources_are_kept_as_text()
    {
        var path = Corpus.Path("logs", "cloudtrail", "otrf-security-datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json");
        var expected = File.ReadAllLines(path).Count(l => l.Contains("\"sourceIPAddress\":\"ec2.amazonaws.com\"", StringComparison.Ordinal));
        using var batch = Parser.Parse(File.ReadAllBytes(path), CloudTrail);
        Assert.True(expected > 0);
        Assert.Equal(expected, batch.Events.Count(e => e.SourceIP == "ec2.amazonaws.com"));
    }

    [Fact]
    public void Every_stratus_detonation_array_ingests_and_invalid_dotted_quads_are_kept_as_given()
    {
        var files = Directory.GetFiles(Corpus.Path("logs", "cloudtrail", "stratus-red-team-detonations"), "*.json");
        Assert.Equal(6, files.Length);
        var total = 0;
        var sources = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var records = JsonDocument.Parse(File.ReadAllBytes(file)).RootElement.GetArrayLength();
            using var batch = Parser.Parse(File.ReadAllBytes(file), CloudTrail);
            Assert.Empty(batch.Rejections);
            Assert.Equal(records, batch.Events.Count);
            total += records;
            sources.UnionWith(batch.Events.Select(e => e.SourceIP));
        }
        Assert.Equal(52, total);
        Assert.Contains("075.050.255.67", sources);
        Assert.Contains("86.245.153.234", sources);
    }

    [Fact]
    public void A_records_file_is_read_from_its_Records_array()
    {
        var array = File.ReadAllText(Corpus.Path("logs", "cloudtrail", "stratus-red-team-detonations", "aws.defense-evasion.cloudtrail-stop.json"));
        var file = "{\n  \"Records\": " + array + "\n}";
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes(file), CloudTrail);
        Assert.Empty(batch.Rejections);
        Assert.Equal(JsonDocument.Parse(array).RootElement.GetArrayLength(), batch.Events.Count);
        Assert.Contains(batch.Events, e => e.EventType == "StopLogging");
    }

    [Fact]
    public void A_record_without_sourceIPAddress_is_partitioned_by_its_eventSource_and_a_bad_record_spoils_nothing()
    {
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes("""
            {"eventTime":"2026-11-20T10:00:00Z","eventName":"AssumeRole","eventSource":"sts.amazonaws.com","eventID":"e-1","eventType":"AwsServiceEvent"}
            {"eventTime":"2026-11-20T10:00:00Z","eventName":"GetObject","sourceIPAddress":"203.0.113.5",
            {"eventName":"NoTime","sourceIPAddress":"203.0.113.5"}
            {"eventTime":"2026-11-20T10:00:01Z","eventName":"ListBuckets","sourceIPAddress":"::ffff:203.0.113.5"}
            """), CloudTrail);
        Assert.Equal(["AssumeRole", "ListBuckets"], batch.Events.Select(e => e.EventType));
        Assert.Equal("sts.amazonaws.com", batch.Events[0].SourceIP);
        Assert.Equal("AwsServiceEvent", Json(batch.Events[0]).GetProperty("cloudtrail_eventType").GetString());
        Assert.Equal("203.0.113.5", batch.Events[1].SourceIP);
        Assert.Equal([1, 2], batch.Rejections.Select(r => r.Index));
        Assert.Contains("eventTime", batch.Rejections[1].Error, StringComparison.Ordinal);
    }
}
