using System.Text;
using System.Text.Json;
using Hydrant.Events;

namespace Hydrant.Tests.Events;

public sealed class EventParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static ParsedBatch Parse(string body, EventLimits? limits = null) =>
        new EventParser(limits ?? EventLimits.Default, new FixedClock(Now)).Parse(Encoding.UTF8.GetBytes(body));

    private static JsonElement Json(SecurityEvent e) => JsonDocument.Parse(e.Json).RootElement;

    [Fact]
    public void Ndjson_lines_each_become_an_event()
    {
        using var batch = Parse("""
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"auth.failure","sourceIP":"10.0.0.1"}
            {"timestamp":"2026-11-24T10:00:01.5Z","eventType":"auth.success","sourceIP":"10.0.0.2"}

            """);
        Assert.Equal(2, batch.Events.Count);
        Assert.Empty(batch.Rejections);
        Assert.Equal("auth.success", batch.Events[1].EventType);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 0, 1, 500, TimeSpan.Zero).ToUnixTimeMilliseconds(), batch.Events[1].TimestampMs);
    }

    [Fact]
    public void A_json_array_and_a_single_pretty_printed_object_are_read_whole()
    {
        using var array = Parse("""[{"timestamp":1764000000000,"eventType":"a","sourceIP":"10.0.0.1"},{"timestamp":1764000000001,"eventType":"b","sourceIP":"10.0.0.2"}]""");
        Assert.Equal(["a", "b"], array.Events.Select(e => e.EventType));

        using var single = Parse("""
            {
              "timestamp": "2026-11-24T10:00:00+02:00",
              "eventType": "firewall.deny",
              "sourceIP": "10.1.2.3",
              "nested": { "a": [1, 2, {"b": null}] }
            }
            """);
        var e = Assert.Single(single.Events);
        Assert.Equal("2026-11-24T08:00:00.000Z", Json(e).GetProperty("timestamp").GetString());
        Assert.Equal(JsonValueKind.Null, Json(e).GetProperty("nested").GetProperty("a")[2].GetProperty("b").ValueKind);
    }

    [Fact]
    public void Bad_records_are_rejected_with_index_and_reason_while_good_ones_are_kept()
    {
        using var batch = Parse("""
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"ok","sourceIP":"10.0.0.1"}
            {"timestamp":"yesterday","eventType":"x","sourceIP":"10.0.0.1"}
            {"timestamp":"2026-11-24T10:00:00Z","sourceIP":"10.0.0.1"}
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"x","sourceIP":"08.1.250.216"}
            not json at all
            [1,2]
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"ok2","sourceIP":"10.0.0.2"}
            """);
        Assert.Equal(["ok", "ok2"], batch.Events.Select(e => e.EventType));
        Assert.Equal([1, 2, 3, 4, 5], batch.Rejections.Select(r => r.Index));
        Assert.Contains("RFC 3339", batch.Rejections[0].Error, StringComparison.Ordinal);
        Assert.Contains("missing required field 'eventType'", batch.Rejections[1].Error, StringComparison.Ordinal);
        Assert.Contains("'08.1.250.216' is not an IPv4 or IPv6 address", batch.Rejections[2].Error, StringComparison.Ordinal);
        Assert.Contains("malformed JSON", batch.Rejections[3].Error, StringComparison.Ordinal);
        Assert.Equal("event must be a JSON object", batch.Rejections[4].Error);
        Assert.Equal(7, batch.Records);
    }

    [Theory]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00","eventType":"a","sourceIP":"10.0.0.1"}""", "RFC 3339")]
    [InlineData("""{"timestamp":-5,"eventType":"a","sourceIP":"10.0.0.1"}""", "epoch milliseconds")]
    [InlineData("""{"timestamp":1.5,"eventType":"a","sourceIP":"10.0.0.1"}""", "epoch milliseconds")]
    [InlineData("""{"timestamp":true,"eventType":"a","sourceIP":"10.0.0.1"}""", "RFC 3339 string or epoch")]
    [InlineData("""{"timestamp":"2026-11-24T12:15:00.001Z","eventType":"a","sourceIP":"10.0.0.1"}""", "more than 15 minutes in the future")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"","sourceIP":"10.0.0.1"}""", "eventType: must be 1 to 128 characters")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":7,"sourceIP":"10.0.0.1"}""", "eventType: must be a string")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a\u0000b","sourceIP":"10.0.0.1"}""", "U+0000 (NUL) in the string at $.eventType")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"1"}""", "not an IPv4 or IPv6 address")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"fe80::1%eth0"}""", "not an IPv4 or IPv6 address")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":42}""", "sourceIP: must be a string")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","id":""}""", "id: must be 1 to 128 characters")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1"}""", "duplicate key 'timestamp' in $")]
    [InlineData("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1"} trailing""", "unexpected data after the event object")]
    public void Invalid_fields_are_named_in_the_rejection(string line, string reason)
    {
        using var batch = Parse(line);
        Assert.Empty(batch.Events);
        var rejection = Assert.Single(batch.Rejections);
        Assert.Contains(reason, rejection.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Exactly_fifteen_minutes_ahead_is_still_accepted()
    {
        using var batch = Parse("""{"timestamp":"2026-11-24T12:15:00Z","eventType":"a","sourceIP":"10.0.0.1"}""");
        Assert.Single(batch.Events);
    }

    [Fact]
    public void Events_older_than_the_retention_period_are_refused_by_index_naming_it_instead_of_kept_and_dropped()
    {
        var limits = new EventLimits { MaxAge = TimeSpan.FromDays(90) };
        using var batch = Parse("""
            {"timestamp":"2026-08-26T12:00:00Z","eventType":"kept","sourceIP":"10.0.0.1"}
            {"timestamp":"2026-08-26T11:59:59Z","eventType":"old","sourceIP":"10.0.0.1"}
            {"timestamp":"2015-06-01T00:00:00Z","eventType":"older","sourceIP":"10.0.0.1"}
            """, limits);
        Assert.Equal("kept", Assert.Single(batch.Events).EventType);
        Assert.Equal([1, 2], batch.Rejections.Select(r => r.Index));
        Assert.Contains("older than the retention period of 90 days (Hydrant:Retention:Days)", batch.Rejections[0].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Events_over_the_size_limit_are_rejected()
    {
        var limits = new EventLimits { MaxEventBytes = 200 };
        var big = new string('x', 300);
        using var batch = Parse($$"""
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1","pad":"{{big}}"}
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"small","sourceIP":"10.0.0.1"}
            """, limits);
        Assert.Equal("small", Assert.Single(batch.Events).EventType);
        Assert.Contains("over the limit of 200 bytes", Assert.Single(batch.Rejections).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Canonical_fields_come_first_normalized_and_every_other_field_is_kept_as_received()
    {
        using var batch = Parse("""{"zeta":{"k":[1,"two",3.5e2]},"sourceIP":"::FFFF:10.9.8.7","eventType":"t\u00e9st","timestamp":1764000000123,"id":"client-1","esc\"aped":"v\\u00e9","n":-0.5}""");
        var e = Assert.Single(batch.Events);
        var text = Encoding.UTF8.GetString(e.Json.Span);
        Assert.StartsWith("""{"id":"client-1","timestamp":"2025-11-24T16:00:00.123Z","eventType":"t\u00e9st","sourceIP":"10.9.8.7",""", text, StringComparison.Ordinal);
        Assert.EndsWith("""
            "zeta":{"k":[1,"two",3.5e2]},"esc\"aped":"v\\u00e9","n":-0.5}
            """, text, StringComparison.Ordinal);
        Assert.Equal("tést", e.EventType);
        Assert.Equal("10.9.8.7", e.SourceIP);
        Assert.True(e.IdFromClient);
        Assert.Equal("v\\u00e9", Json(e).GetProperty("esc\"aped").GetString());
    }

    [Fact]
    public void Events_without_an_id_get_one_derived_from_their_bytes_and_place()
    {
        using var batch = Parse("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"2001:DB8:0:0:0:0:0:1"}""");
        var e = Assert.Single(batch.Events);
        Assert.False(e.IdFromClient);
        Assert.Matches("^[0-9A-HJKMNP-TV-Z]{26}$", e.Id);
        Assert.Equal(e.Id, Json(e).GetProperty("id").GetString());
        Assert.Equal("2001:db8::1", Json(e).GetProperty("sourceIP").GetString());
    }

    /// <summary>A file ingested before an upgrade and sent again after it must be stored once: the derivation is pinned.</summary>
    [Fact]
    public void Derived_ids_are_the_same_in_every_version()
    {
        using var batch = Parse("""{"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1"}""");
        Assert.Equal("64K6VBJR195B2PM284TCTTSNKX", Assert.Single(batch.Events).Id);
    }

    [Fact]
    public void The_same_body_again_gives_the_same_ids_and_identical_lines_in_it_stay_distinct()
    {
        const string body = """
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1"}
            {"timestamp":"2026-11-24T10:00:00Z","eventType":"a","sourceIP":"10.0.0.1"}
            {"timestamp":"2026-11-24T10:00:01Z","eventType":"b","sourceIP":"10.0.0.1"}
            """;
        using var first = Parse(body);
        using var again = Parse(body);
        Assert.Equal(first.Events.Select(e => e.Id), again.Events.Select(e => e.Id));
        Assert.Equal(3, first.Events.Select(e => e.Id).Distinct().Count());
        using var other = Parse(body + """{"timestamp":"2026-11-24T10:00:02Z","eventType":"c","sourceIP":"10.0.0.1"}""");
        Assert.NotEqual(first.Events[0].Id, other.Events[0].Id); // another body is another stream
    }

    [Fact]
    public void A_stream_numbered_across_requests_gives_each_record_the_id_it_has_in_one_request()
    {
        var lines = Enumerable.Range(0, 6).Select(i => $$"""{"timestamp":"2026-11-24T10:00:0{{i % 2}}Z","eventType":"a","sourceIP":"10.0.0.1"}""").ToArray();
        var parser = new EventParser(EventLimits.Default, new FixedClock(Now));
        ParsedBatch Send(int from, int count) => parser.Parse(Encoding.UTF8.GetBytes(string.Join('\n', lines[from..(from + count)])),
            new Hydrant.Events.Formats.ParseOptions { Stream = "file-head-hash", Position = from });
        using var whole = Send(0, 6);
        using var head = Send(0, 4);
        using var tail = Send(4, 2);
        Assert.Equal(whole.Events.Select(e => e.Id), head.Events.Concat(tail.Events).Select(e => e.Id));
        Assert.Equal(6, whole.Events.Select(e => e.Id).Distinct().Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n  ")]
    [InlineData("[{\"timestamp\":1,\"eventType\":\"a\",\"sourceIP\":\"10.0.0.1\"}")]
    [InlineData("[1,2] x")]
    public void Unreadable_bodies_are_refused_as_a_whole(string body)
    {
        Assert.Throws<EventParser.UnreadableBodyException>(() => Parse(body));
    }

    [Fact]
    public void Carriage_returns_and_a_byte_order_mark_do_not_spoil_lines()
    {
        using var batch = Parse("\uFEFF{\"timestamp\":1,\"eventType\":\"a\",\"sourceIP\":\"10.0.0.1\"}\r\n{\"timestamp\":2,\"eventType\":\"b\",\"sourceIP\":\"10.0.0.1\"}\r\n");
        Assert.Equal(2, batch.Events.Count);
        Assert.Empty(batch.Rejections);
    }
}
