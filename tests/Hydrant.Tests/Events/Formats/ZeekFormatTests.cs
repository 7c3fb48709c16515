using System.Text;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events.Formats;

public sealed class ZeekFormatTests
{
    private static readonly ParseOptions Zeek = new() { Format = InputFormat.Zeek };
    private static readonly EventParser Parser = new(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));

    public static TheoryData<string> Files() => [.. Directory.GetFiles(Corpus.Path("logs", "zeek", "brimdata-wrccdc2018"), "*.json").Select(f => Path.GetFileName(f))];

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_zeek_log_ingests_every_line_with_its_log_type(string file)
    {
        var path = Corpus.Path("logs", "zeek", "brimdata-wrccdc2018", file);
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        using var batch = Parser.Parse(File.ReadAllBytes(path), Zeek);

        Assert.Empty(batch.Rejections);
        Assert.Equal(lines.Count, batch.Events.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            var logType = lines[i].GetProperty("_path").GetString();
            Assert.Equal("zeek." + logType, batch.Events[i].EventType);
            var expectedSource = lines[i].TryGetProperty("id.orig_h", out var orig) ? orig.GetString()
                : lines[i].TryGetProperty("host", out var host) ? host.GetString()
                : "zeek/" + logType;
            Assert.Equal(expectedSource, batch.Events[i].SourceIP);
            var stored = JsonDocument.Parse(batch.Events[i].Json).RootElement;
            Assert.Equal(logType, stored.GetProperty("logsource").GetProperty("service").GetString());
            Assert.Equal(lines[i].GetProperty("ts").GetString(), stored.GetProperty("ts").GetString());
        }
    }

    [Fact]
    public void Dotted_keys_stay_flat_and_zeek_ids_do_not_become_event_ids()
    {
        var path = Corpus.Path("logs", "zeek", "brimdata-wrccdc2018", "pe.json");
        using var batch = Parser.Parse(File.ReadAllBytes(path), Zeek);
        var first = JsonDocument.Parse(File.ReadLines(path).First()).RootElement;
        var stored = JsonDocument.Parse(batch.Events[0].Json).RootElement;
        Assert.False(batch.Events[0].IdFromClient);
        Assert.NotEqual(first.GetProperty("id").GetString(), batch.Events[0].Id);
        Assert.Equal(first.GetProperty("id").GetString(), stored.GetProperty("zeek_id").GetString());

        using var dns = Parser.Parse(File.ReadAllBytes(Corpus.Path("logs", "zeek", "brimdata-wrccdc2018", "dns.head5000.json")), Zeek);
        var dnsStored = JsonDocument.Parse(dns.Events[0].Json).RootElement;
        Assert.True(dnsStored.TryGetProperty("id.orig_h", out _));
    }

    [Fact]
    public void Timestamps_are_iso_or_epoch_seconds_and_the_path_parameter_names_untyped_records()
    {
        var options = Zeek with { ZeekPath = "conn" };
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes("""
            {"ts":1521911720.865716,"uid":"C1","id.orig_h":"10.47.1.100","id.resp_p":53}
            {"ts":"2018-03-24T17:15:20.865716Z","@stream":"dns","id.orig_h":"10.47.1.101"}
            {"uid":"C3","id.orig_h":"10.47.1.102"}
            """), options);
        Assert.Equal(["zeek.conn", "zeek.dns"], batch.Events.Select(e => e.EventType));
        Assert.Equal(1_521_911_720_865, batch.Events[0].TimestampMs);
        Assert.Equal(1_521_911_720_865, batch.Events[1].TimestampMs);
        Assert.Equal("missing ts", Assert.Single(batch.Rejections).Error);

        using var untyped = Parser.Parse("""{"ts":1521911720.0,"id.orig_h":"10.47.1.100"}"""u8, Zeek);
        Assert.Contains("?path=", Assert.Single(untyped.Rejections).Error, StringComparison.Ordinal);
    }
}
