using System.Text;
using System.Text.Json;
using Hydrant.Events;
using Hydrant.Events.Fields;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events.Fields;

public class EventFieldsTests
{
    private static EventFields Index(string json) => EventFields.Index(Encoding.UTF8.GetBytes(json));

    private static FieldValue Get(EventFields fields, string name)
    {
        Assert.True(fields.TryGet(FieldName.Of(name), out var value), $"no field '{name}'");
        return value;
    }

    [Fact]
    public void Values_of_every_kind_keep_their_text_as_written()
    {
        using var fields = Index("""{"user":"root","port":22,"ratio":-1.5e3,"ok":true,"no":false,"gone":null}""");
        Assert.Equal((JsonValueKind.String, "root"), (Get(fields, "user").Kind, Get(fields, "user").Text));
        Assert.Equal((JsonValueKind.Number, "22"), (Get(fields, "port").Kind, Get(fields, "port").Text));
        Assert.Equal("-1.5e3", Get(fields, "ratio").Text);
        Assert.Equal("true", Get(fields, "ok").Text);
        Assert.Equal("false", Get(fields, "no").Text);
        Assert.Equal(JsonValueKind.Null, Get(fields, "gone").Kind);
        Assert.Null(Get(fields, "gone").Text);
        Assert.False(fields.TryGet(FieldName.Of("missing"), out _));
        Assert.False(fields.TryGet(FieldName.Of("User"), out _));
    }

    [Fact]
    public void Nested_objects_are_reached_by_dotted_names_and_keep_their_raw_text()
    {
        using var fields = Index("""{"userIdentity":{"type":"Root","sessionContext":{"mfa":{"on":false}}},"n":1}""");
        Assert.Equal("Root", Get(fields, "userIdentity.type").Text);
        Assert.Equal("false", Get(fields, "userIdentity.sessionContext.mfa.on").Text);
        Assert.Equal("""{"mfa":{"on":false}}""", Get(fields, "userIdentity.sessionContext").RawText);
        Assert.Equal(JsonValueKind.Object, Get(fields, "userIdentity").Kind);
        Assert.Null(Get(fields, "userIdentity").Text);
        Assert.False(fields.TryGet(FieldName.Of("type"), out _));
        Assert.False(fields.TryGet(FieldName.Of("userIdentity.type.x"), out _));
    }

    [Fact]
    public void A_key_holding_dots_is_found_by_its_whole_name_and_wins_over_a_deeper_path()
    {
        using var flat = Index("""{"id.orig_h":"10.0.0.1"}""");
        Assert.Equal("10.0.0.1", Get(flat, "id.orig_h").Text);

        using var both = Index("""{"id":{"orig_h":"nested"},"id.orig_h":"flat"}""");
        Assert.Equal("flat", Get(both, "id.orig_h").Text);
        using var bothReversed = Index("""{"id.orig_h":"flat","id":{"orig_h":"nested"}}""");
        Assert.Equal("flat", Get(bothReversed, "id.orig_h").Text);
    }

    [Fact]
    public void Array_items_are_values_of_their_array_not_named_fields()
    {
        using var fields = Index("""{"tags":["a",2,["x"],{"k":"v"}],"after":"yes"}""");
        var tags = Get(fields, "tags");
        Assert.Equal(JsonValueKind.Array, tags.Kind);
        var items = new List<(JsonValueKind, string?)>();
        foreach (var item in tags.Elements)
        {
            items.Add((item.Kind, item.Text));
        }
        Assert.Equal([(JsonValueKind.String, "a"), (JsonValueKind.Number, "2"), (JsonValueKind.Array, null), (JsonValueKind.Object, null)], items);
        Assert.False(fields.TryGet(FieldName.Of("tags.k"), out _));
        Assert.False(fields.TryGet(FieldName.Of("k"), out _));
        Assert.Equal("yes", Get(fields, "after").Text);
        foreach (var _ in Get(fields, "after").Elements)
        {
            Assert.Fail("a string has no items");
        }
    }

    [Fact]
    public void Escapes_in_names_and_values_are_unescaped()
    {
        using var fields = Index("""{"\u0055ser":"a\"b\\c \u00e9","path\/x":"C:\\Windows"}""");
        Assert.Equal("a\"b\\c é", Get(fields, "User").Text);
        Assert.Equal("C:\\Windows", Get(fields, "path/x").Text);
        Assert.Equal("\"C:\\\\Windows\"", Get(fields, "path/x").RawText);
    }

    [Fact]
    public void Numbers_are_read_from_numbers_and_from_strings_that_hold_one()
    {
        using var fields = Index("""{"n":1e2,"s":" 42.5 ","word":"abc","big":1e400,"t":true}""");
        Assert.True(Get(fields, "n").TryNumber(out var n));
        Assert.Equal(100, n);
        Assert.True(Get(fields, "s").TryNumber(out var s));
        Assert.Equal(42.5, s);
        Assert.False(Get(fields, "word").TryNumber(out _));
        Assert.False(Get(fields, "big").TryNumber(out _));
        Assert.False(Get(fields, "t").TryNumber(out _));
    }

    [Fact]
    public void Every_string_of_the_event_is_collected_arrays_and_nested_objects_included()
    {
        using var fields = Index("""{"a":"one","b":{"c":["two",{"d":"three"}]},"n":4}""");
        var strings = new List<string>();
        fields.CollectStrings(strings);
        Assert.Equal(["one", "two", "three"], strings);
    }

    [Fact]
    public void Events_larger_than_the_first_tables_are_indexed_whole()
    {
        var json = "{" + string.Join(',', Enumerable.Range(0, 5000).Select(i => $"\"field{i}\":{{\"v\":\"value{i}\"}}")) + "}";
        using var fields = Index(json);
        Assert.Equal("value0", Get(fields, "field0.v").Text);
        Assert.Equal("value4999", Get(fields, "field4999.v").Text);
        Assert.False(fields.TryGet(FieldName.Of("field5000.v"), out _));
    }

    /// <summary>Full names are never written out: 10,000 children under a 200 KB key would be 2 GB of names.</summary>
    [Fact]
    public void Many_children_under_a_long_name_cost_no_more_than_the_event_and_all_stay_readable()
    {
        var longKey = new string('k', 200_000);
        var json = "{\"" + longKey + "\":{" + string.Join(',', Enumerable.Range(0, 10_000).Select(i => $"\"c{i}\":{i}")) + "},\"CommandLine\":\"after\"}";
        using var fields = Index(json);
        Assert.Equal("9999", Get(fields, longKey + ".c9999").Text);
        Assert.Equal("after", Get(fields, "CommandLine").Text);
        Assert.False(fields.TryGet(FieldName.Of(longKey + ".c10000"), out _));
        Assert.False(fields.TryGet(FieldName.Of("k.c1"), out _));
    }

    [Fact]
    public void Empty_keys_and_names_cut_at_other_dots_resolve_to_their_own_values()
    {
        using var fields = Index("""{"":{"x":1},"a":{"b.c":2},"a.b":{"c":3},"a.b.c":4}""");
        Assert.Equal("1", Get(fields, ".x").Text);
        // Three ways to write a.b.c: the key at the top, the shallowest, counts.
        Assert.Equal("4", Get(fields, "a.b.c").Text);
        Assert.Equal(JsonValueKind.Object, Get(fields, "a.b").Kind);
    }

    [Fact]
    public void The_deepest_nesting_an_event_may_have_is_indexed_and_deeper_is_refused()
    {
        var name = string.Join('.', Enumerable.Repeat("a", EventShape.MaxDepth - 1));
        var deepest = string.Concat(Enumerable.Repeat("{\"a\":", EventShape.MaxDepth - 1)) + "1" + new string('}', EventShape.MaxDepth - 1);
        using var fields = Index(deepest);
        Assert.Equal("1", Get(fields, name).Text);

        var deeper = string.Concat(Enumerable.Repeat("{\"a\":", EventShape.MaxDepth + 1)) + "1" + new string('}', EventShape.MaxDepth + 1);
        Assert.ThrowsAny<JsonException>(() => Index(deeper));
    }

    [Theory]
    [InlineData("""{"a":"b" """)]
    [InlineData("""{"a":}""")]
    [InlineData("")]
    public void Bytes_that_are_not_one_json_object_throw(string json)
    {
        Assert.ThrowsAny<JsonException>(() => Index(json));
    }

    [Fact]
    public void A_string_escaping_a_lone_surrogate_throws_when_its_text_is_read()
    {
        using var surrogate = Index("""{"product":"\ud800","other":"fine"}""");
        Assert.Equal("fine", Get(surrogate, "other").Text);
        Assert.ThrowsAny<InvalidOperationException>(() => Get(surrogate, "product").Text);
    }

    [Fact]
    public void Names_that_are_not_text_leave_the_other_fields_readable()
    {
        using var raw = EventFields.Index((byte[])[.. "{\"k"u8, 0xFF, .. "\":1,\"v\":\"a"u8, 0xFF, .. "\",\"ok\":2}"u8]);
        Assert.Equal("2", Get(raw, "ok").Text);
        Assert.Equal("a\uFFFD", Get(raw, "v").Text);
        using var escaped = Index("""{"k\udc00":1,"ok":2}""");
        Assert.Equal("2", Get(escaped, "ok").Text);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    public void A_value_that_is_not_an_object_has_no_fields(string json)
    {
        using var fields = Index(json);
        Assert.False(fields.TryGet(FieldName.Of("a"), out _));
    }

    /// <summary>Every name a JsonDocument walk reaches through objects gives the same kind and text from the index, on the corpus's events.</summary>
    [Fact]
    public void Corpus_events_read_the_same_as_through_a_json_document()
    {
        var parser = new EventParser(EventLimits.Default, TimeProvider.System);
        var compared = 0;
        void Check(string path, InputFormat format)
        {
            using var batch = parser.Parse(File.ReadAllBytes(path), new ParseOptions { Format = format });
            foreach (var e in batch.Events.Take(500))
            {
                using var document = JsonDocument.Parse(e.Json);
                using var fields = EventFields.Index(e.Json);
                foreach (var (name, expected) in Named(document.RootElement, prefix: null))
                {
                    var found = Get(fields, name);
                    Assert.Equal(expected.ValueKind, found.Kind);
                    var text = expected.ValueKind switch
                    {
                        JsonValueKind.String => expected.GetString(),
                        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => expected.GetRawText(),
                        _ => null,
                    };
                    Assert.Equal(text, found.Text);
                    compared++;
                }
            }
        }
        Check(Corpus.Path("logs", "zeek", "brimdata-wrccdc2018", "dns.head5000.json"), InputFormat.Zeek);
        Check(Corpus.Path("logs", "cloudtrail", "otrf-security-datasets", "ec2_proxy_s3_exfiltration_2020-09-14011940.json"), InputFormat.CloudTrail);
        Check(Corpus.Path("logs", "loghub", "OpenSSH", "OpenSSH_2k.log"), InputFormat.Syslog);
        Assert.True(compared > 10_000, $"only {compared} fields compared");
    }

    private static IEnumerable<(string Name, JsonElement Value)> Named(JsonElement element, string? prefix)
    {
        foreach (var property in element.EnumerateObject())
        {
            var name = prefix is null ? property.Name : prefix + "." + property.Name;
            yield return (name, property.Value);
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var inner in Named(property.Value, name))
                {
                    yield return inner;
                }
            }
        }
    }
}
