using System.Text;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events;

/// <summary>Events every consumer could not read are refused at ingest, by index, and the rest of the request is kept.</summary>
public sealed class EventShapeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private const string Good = """{"timestamp":"2026-11-24T10:00:00Z","eventType":"ok","sourceIP":"10.0.0.1"}""";

    private static ParsedBatch Parse(byte[] body, InputFormat format = InputFormat.Json) =>
        new EventParser(EventLimits.Default, new FixedClock(Now)).Parse(body, new ParseOptions { Format = format });

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static string Nested(int depth) => new string('[', depth - 1) + new string(']', depth - 1);

    /// <summary>Each poison shape sits between two good events; only it is refused.</summary>
    private static void AssertRefusedAlone(byte[] poison, string reason, InputFormat format = InputFormat.Json, string? good = null)
    {
        good ??= Good;
        using var batch = Parse(Concat(Utf8(good + "\n"), poison, Utf8("\n" + good + "\n")), format);
        Assert.Equal(2, batch.Events.Count);
        var rejection = Assert.Single(batch.Rejections);
        Assert.Equal(1, rejection.Index);
        Assert.Contains(reason, rejection.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_deeper_than_every_consumer_reads_is_refused_by_index()
    {
        AssertRefusedAlone(Utf8($$"""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","deep":{{Nested(65)}}}"""), "nested more than 64 levels deep at $.deep[0][0]");
        AssertRefusedAlone(Utf8($$"""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","deep":{{Nested(500)}}}"""), "nested more than 64 levels");
    }

    [Fact]
    public void Nesting_as_deep_as_consumers_read_is_accepted()
    {
        using var batch = Parse(Utf8($$"""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","deep":{{Nested(64)}}}"""));
        Assert.Single(batch.Events);
        using var document = System.Text.Json.JsonDocument.Parse(batch.Events[0].Json);
    }

    [Fact]
    public void A_deep_element_of_a_json_array_is_refused_alone()
    {
        using var batch = Parse(Utf8($$"""[{{Good}},{"timestamp":1,"eventType":"a","sourceIP":"10.0.0.1","d":{{Nested(200)}}},{{Good}}]"""));
        Assert.Equal(2, batch.Events.Count);
        Assert.Equal(1, Assert.Single(batch.Rejections).Index);
    }

    [Theory]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","logsource":{"product":"x\ud800"}}""", "an escaped lone surrogate in the string at $.logsource.product")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","user":"\udc00\ud800"}""", "an escaped lone surrogate in the string at $.user")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","list":["ok","\ud83d"]}""", "lone surrogate in the string at $.list[1]")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a\ud800","sourceIP":"10.0.0.1"}""", "at $.eventType")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","k\udfff":1}""", "lone surrogate in a name")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","user":"a\u0000b"}""", "U+0000 (NUL) in the string at $.user")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","user":"root","user":"nobody"}""", "duplicate key 'user' in $")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","user":"root","us\u0065r":"nobody"}""", "duplicate key 'user'")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","a":[{"b":{"c":1,"c":2}}]}""", "duplicate key 'c' in $.a[0].b")]
    public void Text_no_consumer_can_read_and_duplicate_keys_are_refused_by_index(string poison, string reason) =>
        AssertRefusedAlone(Utf8(poison), reason);

    [Fact]
    public void The_same_key_in_different_objects_is_not_a_duplicate()
    {
        using var batch = Parse(Utf8("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","x":{"k":1},"y":{"k":2},"z":[{"k":1},{"k":2}]}"""));
        Assert.Single(batch.Events);
    }

    [Theory]
    [InlineData(5, 3)]
    [InlineData(31, 30)]
    [InlineData(32, 0)]
    [InlineData(33, 32)]
    [InlineData(200, 150)]
    [InlineData(200, 3)]
    public void A_duplicate_is_found_in_small_and_large_objects_and_after_nested_ones(int names, int repeated)
    {
        // An object of that many names, a nested object holding the same names between them, then the repeat.
        var fields = Enumerable.Range(0, names).Select(i => $"\"f{i}\":{i}").ToList();
        var nested = "\"inner\":{" + string.Join(',', fields) + "}";
        var poison = "{\"timestamp\":\"2026-11-24T10:00:00Z\",\"eventType\":\"a\",\"sourceIP\":\"10.0.0.1\"," + string.Join(',', fields[..(names / 2)]) + "," + nested + ","
            + string.Join(',', fields[(names / 2)..]) + $",\"f{repeated}\":0}}";
        AssertRefusedAlone(Utf8(poison), $"duplicate key 'f{repeated}' in $");

        using var batch = Parse(Utf8(poison.Replace($",\"f{repeated}\":0}}", "}", StringComparison.Ordinal)));
        Assert.Single(batch.Events);
    }

    [Theory]
    [InlineData("eventType")]
    [InlineData("id")]
    [InlineData("sourceIP")]
    [InlineData("user")]
    public void Bytes_that_are_not_utf8_in_a_value_are_refused_by_index(string field)
    {
        var fields = new Dictionary<string, string> { ["timestamp"] = "2026-11-24T10:00:00Z", ["eventType"] = "a", ["sourceIP"] = "10.0.0.1", ["id"] = "e-1", ["user"] = "root" };
        var parts = fields.Select(f => f.Key == field
            ? Concat(Utf8($"\"{f.Key}\":\"x"), [0xFF, 0xC0, 0xAF], Utf8("\""))
            : Utf8($"\"{f.Key}\":\"{f.Value}\""));
        var record = Concat(Utf8("{"), [.. parts.SelectMany((p, i) => i == 0 ? p : Concat(Utf8(","), p))], Utf8("}"));
        AssertRefusedAlone(record, $"bytes that are not UTF-8 in the string at $.{field}");
    }

    [Fact]
    public void A_name_that_is_not_utf8_is_refused_by_index() =>
        AssertRefusedAlone(Concat(Utf8("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","k"""), [0xFF], Utf8("\":1}")), "bytes that are not UTF-8 in a name");

    [Fact]
    public void CloudTrail_records_with_bad_text_are_refused_by_index()
    {
        const string good = """{"eventTime":"2026-11-24T10:00:00Z","eventName":"GetObject","sourceIPAddress":"10.0.0.1","eventID":"e-1"}""";
        AssertRefusedAlone(Concat(Utf8("""{"eventTime":"2026-11-24T10:00:00Z","eventName":"GetObject","sourceIPAddress":"1"""), [0xFF], Utf8("\"}")), "at $.sourceIPAddress", InputFormat.CloudTrail, good);
        AssertRefusedAlone(Utf8("""{"eventTime":"2026-11-24T10:00:00Z","eventName":"Get\udc00","sourceIPAddress":"10.0.0.1"}"""), "at $.eventName", InputFormat.CloudTrail, good);
    }

    [Fact]
    public void A_record_that_has_the_name_its_own_canonical_field_is_kept_under_is_refused()
    {
        const string good = """{"eventTime":"2026-11-24T10:00:00Z","eventName":"GetObject","sourceIPAddress":"10.0.0.1"}""";
        AssertRefusedAlone(Utf8("""{"eventTime":"2026-11-24T10:00:00Z","eventName":"GetObject","sourceIPAddress":"10.0.0.1","eventType":"AwsApiCall","cloudtrail_eventType":"Forged"}"""),
            "duplicate key 'cloudtrail_eventType'", InputFormat.CloudTrail, good);
    }

    [Fact]
    public void A_syslog_line_with_a_nul_byte_is_refused_by_index()
    {
        const string good = "<34>1 2026-11-24T10:00:00Z host sshd 42 - - Failed password for root from 10.0.0.9 port 22 ssh2";
        AssertRefusedAlone(Concat(Utf8("<34>1 2026-11-24T10:00:00Z host sshd 42 - - Failed"), [0], Utf8(" password")), "NUL byte", InputFormat.Syslog, good);
    }

    [Theory]
    [InlineData("""{"Records":[{"eventTime":"2026-11-24T10:00:00Z","eventName":"A","sourceIPAddress":"10.0.0.1"}],"Records":[]}""", "second \"Records\" array")]
    [InlineData("""{"Records":[{"eventTime":"2026-11-24T10:00:00Z","eventName":"A","sourceIPAddress":"10.0.0.1"}]} {"Records":[]}""", "unexpected data after the CloudTrail Records object")]
    [InlineData("""{"Records":[{"eventTime":"2026-11-24T10:00:00Z","eventName":"A","sourceIPAddress":"10.0.0.1"}],"x":}""", "cannot be read after its records")]
    public void A_CloudTrail_file_with_more_than_its_records_is_refused_whole(string body, string reason)
    {
        var refused = Assert.Throws<EventParser.UnreadableBodyException>(() => Parse(Utf8(body), InputFormat.CloudTrail));
        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
    }
}
