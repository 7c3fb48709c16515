using System.Buffers;
using System.Text;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events;

public sealed class EventEnvelopeTests
{
    private static readonly EventEnvelope Full = new("id-1", 1_700_000_000_123, "auth.failure", "2001:db8::1", new EventLogsource("linux", "sshd", "authentication"));

    private static byte[] Encoded(EventEnvelope envelope)
    {
        var output = new ArrayBufferWriter<byte>();
        envelope.Write(output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void An_envelope_reads_back_as_written_with_what_follows_it_left_alone()
    {
        foreach (var envelope in new[] { Full, Full with { Logsource = new EventLogsource(null, null, "webserver") }, Full with { Logsource = null, Id = "ü€𝄞" } })
        {
            var value = (byte[])[.. Encoded(envelope), .. "security-events#2026-12#07"u8];
            Assert.True(EventEnvelope.TryRead(value, out var read, out var consumed));
            Assert.Equal(envelope, read);
            Assert.Equal("security-events#2026-12#07", Encoding.UTF8.GetString(value.AsSpan(consumed)));
        }
    }

    [Fact]
    public void Values_written_before_envelopes_are_not_taken_for_one()
    {
        Assert.False(EventEnvelope.TryRead("security-events#2026-12#07\u00001700000000000"u8, out _, out _));
        Assert.False(EventEnvelope.TryRead("""{"id":"a","timestamp":"2026-12-01T00:00:00.000Z"}"""u8, out _, out _));
        Assert.False(EventEnvelope.TryRead([], out _, out _));
    }

    [Fact]
    public void A_truncated_or_damaged_envelope_is_refused_never_read_past_its_end()
    {
        var encoded = Encoded(Full);
        for (var length = 0; length < encoded.Length; length++)
        {
            Assert.False(EventEnvelope.TryRead(encoded.AsSpan(0, length), out _, out _));
        }
        // A length that claims more than the value holds, and one whose varint never ends.
        var lying = (byte[])[.. encoded[..9], 0xFF, 0xFF, 0xFF, 0x7F];
        Assert.False(EventEnvelope.TryRead(lying, out _, out _));
        Assert.False(EventEnvelope.TryRead((byte[])[.. encoded[..9], .. Enumerable.Repeat((byte)0x80, 20)], out _, out _));
    }

    [Fact]
    public void The_envelope_read_from_canonical_json_is_the_one_ingest_found()
    {
        var parser = new EventParser(EventLimits.Default, new FixedClock(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_100_000)));
        var body = """
            {"id":"a-1","timestamp":1700000000123,"eventType":"auth.failure","sourceIP":"2001:DB8::1","logsource":{"product":"linux","service":"sshd","extra":{"product":"no"}},"user":"root"}
            {"timestamp":1700000000124,"eventType":"fw.deny","sourceIP":"198.51.100.7","logsource":{"product":7,"category":"firewall"}}
            {"timestamp":1700000000125,"eventType":"plain","sourceIP":"198.51.100.8"}
            """u8;
        using var batch = parser.Parse(body);
        Assert.Empty(batch.Rejections);
        Assert.Equal(new EventLogsource("linux", "sshd"), batch.Events[0].Logsource);
        Assert.Equal(new EventLogsource(null, null, "firewall"), batch.Events[1].Logsource);
        Assert.Null(batch.Events[2].Logsource);
        foreach (var e in batch.Events)
        {
            Assert.Equal(e.Envelope, EventEnvelope.Read(e.Json.Span));
        }
    }

    [Fact]
    public void Every_format_gives_its_events_the_envelope_their_canonical_json_holds()
    {
        // Year-less syslog and a 2015 web log are read against a clock of their own time.
        var parser = new EventParser(EventLimits.Default with { MaxBodyBytes = long.MaxValue }, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));
        var files = new (InputFormat Format, string[] Path)[]
        {
            (InputFormat.Syslog, ["logs", "loghub", "OpenSSH", "OpenSSH_2k.log"]),
            (InputFormat.Zeek, ["logs", "zeek", "brimdata-wrccdc2018", "dns.head5000.json"]),
            (InputFormat.CloudTrail, ["logs", "cloudtrail", "stratus-red-team-detonations", "aws.defense-evasion.cloudtrail-stop.json"]),
        };
        foreach (var (format, path) in files)
        {
            using var batch = parser.Parse(File.ReadAllBytes(Corpus.Path(path)), new ParseOptions { Format = format });
            Assert.NotEmpty(batch.Events);
            Assert.All(batch.Events, e => Assert.Equal(e.Envelope, EventEnvelope.Read(e.Json.Span)));
            Assert.All(batch.Events, e => Assert.NotNull(e.Logsource));
        }
    }
}
