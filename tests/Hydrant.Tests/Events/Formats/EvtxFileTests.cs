using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;

namespace Hydrant.Tests.Events.Formats;

/// <summary>The EVTX container (file header, chunks, records) on the evtx crate's samples in the corpus, and on damaged copies of them.</summary>
public sealed class EvtxFileTests
{
    private static string Sample(string name) => Corpus.Path("logs", "windows", "evtx-parser-samples", "samples", name);

    private static (EvtxFile File, List<EvtxRecord> Records) Read(byte[] bytes)
    {
        var file = EvtxFile.Open(bytes, out var error) ?? throw new InvalidOperationException(error);
        return (file, file.Records().ToList());
    }

    [Theory]
    // Files both libevtx and the evtx crate read whole: the same record counts.
    [InlineData("2-system-Microsoft-Windows-LiveId%4Operational.evtx", 399)]
    [InlineData("2-vss_7-System.evtx", 1160)] // "a chunk past zeros", beyond the header's chunk count
    [InlineData("Application_no_crc32.evtx", 17)] // no checksums set
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 340)]
    [InlineData("E_ShadowCopy6_windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 459)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-Shell-Core%4Operational.evtx", 1146)]
    [InlineData("MSExchange_Management_wec.evtx", 1)]
    [InlineData("Security_short_selected.evtx", 7)]
    [InlineData("Security_with_size_t.evtx", 636)]
    [InlineData("new-user-security.evtx", 4)]
    [InlineData("post-Security.evtx", 126)] // invalid flags in the header
    [InlineData("sample-with-irregular-bool-values.evtx", 3028)]
    public void A_readable_file_gives_every_record_the_reference_parsers_give(string name, int records)
    {
        var (file, read) = Read(File.ReadAllBytes(Sample(name)));
        Assert.Equal(records, read.Count);
        Assert.Empty(file.Problems);
        Assert.All(read, r => Assert.True(r.BinXml.Length > 0 && r.WrittenMs > 0));
    }

    [Theory]
    // The dirty samples, with the records the evtx crate's tests expect read: the crate stops a
    // chunk at its first damage; Hydrant reads those same records, then goes on past the damage
    // and recovers the records after it, naming what it could not read.
    [InlineData("2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx", 1_910, 2, 2, 59)]
    [InlineData("2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx", 1_774, 1, 1, 21)]
    [InlineData("sample_with_a_bad_chunk_magic.evtx", 270, 0, 3, 31)]
    [InlineData("sample-with-zero-data-size-event.evtx", 335, 0, 1, 114)]
    [InlineData("Microsoft-Windows-HelloForBusiness%4Operational.evtx", 6, 0, 0, 0)]
    [InlineData("Microsoft-Windows-LanguagePackSetup%4Operational.evtx", 17, 0, 0, 0)]
    public void A_dirty_file_gives_the_records_the_evtx_crate_reads_and_recovers_more_past_the_damage(string name, int readBeforeDamage, int unreadableBeforeDamage, int damagedChunks, int recovered)
    {
        var (file, records) = Read(File.ReadAllBytes(Sample(name)));
        var losses = file.Problems.Where(p => p.RecordsLost).ToList();
        bool BeforeDamage(EvtxRecord r) => !losses.Any(p => (p.Offset - EvtxFile.HeaderSize) / EvtxFile.ChunkSize == r.Chunk && p.Offset < r.Offset);
        bool Reads(EvtxRecord r)
        {
            try
            {
                file.ReadEvent(r);
                return true;
            }
            catch (BinXmlException)
            {
                return false;
            }
        }

        var beforeDamage = records.Where(BeforeDamage).ToList();
        Assert.Equal((readBeforeDamage, unreadableBeforeDamage), (beforeDamage.Count(Reads), beforeDamage.Count(r => !Reads(r))));
        Assert.Equal(damagedChunks, losses.Select(p => (p.Offset - EvtxFile.HeaderSize) / EvtxFile.ChunkSize).Distinct().Count());
        Assert.Equal(recovered, records.Count - beforeDamage.Count);
        // A record whose trailing size does not match is read by its size, and said.
        Assert.All(file.Problems.Where(p => p.What.Contains("trailing size", StringComparison.Ordinal)), p => Assert.False(p.RecordsLost));
    }

    [Fact]
    public void Records_come_in_file_order_with_their_ids_even_where_the_header_undercounts_chunks()
    {
        var (_, security) = Read(File.ReadAllBytes(Sample("security.evtx")));
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (ulong)i), security.Take(1000).Select(r => r.RecordId));
        // sysmon.evtx: its header names 1 chunk of 9, between blocks of garbage; ids 1,742 to 2,099.
        var (sysmon, records) = Read(File.ReadAllBytes(Sample("sysmon.evtx")));
        Assert.Equal(Enumerable.Range(1742, 358).Select(i => (ulong)i), records.Select(r => r.RecordId).Order());
        Assert.Contains(sysmon.Problems, p => p.What.Contains("no \"ElfChnk\" signature", StringComparison.Ordinal));
    }

    [Fact]
    public void A_damaged_file_names_what_it_could_not_read_and_gives_the_rest()
    {
        var (file, records) = Read(File.ReadAllBytes(Sample("sample_with_a_bad_chunk_magic.evtx")));
        Assert.NotEmpty(records);
        Assert.Contains(file.Problems, p => p.What.Contains("no \"ElfChnk\" signature", StringComparison.Ordinal));
        var (zero, _) = Read(File.ReadAllBytes(Sample("sample-with-zero-data-size-event.evtx")));
        Assert.Contains(zero.Problems, p => p.What.Contains("invalid EVTX record data size", StringComparison.Ordinal) && p.What.Contains("found `0`", StringComparison.Ordinal));
    }

    [Fact]
    public void Bytes_that_are_not_an_evtx_file_are_refused_naming_why()
    {
        Assert.Null(EvtxFile.Open("{\"Channel\":\"Security\"}"u8.ToArray(), out var error));
        Assert.Contains("ElfFile", error, StringComparison.Ordinal);
        Assert.Null(EvtxFile.Open("ElfFile\0short"u8.ToArray(), out error));
        Assert.Contains("cut short", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_and_flipped_files_never_crash_or_read_past_their_bytes()
    {
        var original = File.ReadAllBytes(Sample("new-user-security.evtx"));
        var random = new Random(20261201);
        for (var i = 0; i < 300; i++)
        {
            var bytes = original[..random.Next(EvtxFile.HeaderSize, original.Length + 1)];
            for (var flips = random.Next(0, 64); flips > 0; flips--)
            {
                bytes[random.Next(EvtxFile.HeaderSize, bytes.Length)] ^= (byte)random.Next(1, 256);
            }
            var (_, records) = Read(bytes);
            Assert.All(records, r => Assert.True(r.Offset + 24 + r.BinXml.Length <= bytes.Length));
            Assert.True(records.Count <= bytes.Length / 28, "no record is smaller than its frame");
        }
    }

    [Theory]
    [InlineData("security.evtx", 1UL, "event_xml_sample")]
    [InlineData("security.evtx", 2260UL, "event_xml_sample_with_string_with_trailing_spaces")]
    [InlineData("system.evtx", 1UL, "event_xml_sample_with_event_data_with_attributes_and_text")]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 1UL, "event_xml_sample_with_user_data")]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 25UL, "event_xml_sample_with_entity_ref_2")]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 28UL, "event_xml_sample_with_entity_ref")]
    [InlineData("MSExchange_Management_wec.evtx", 1UL, "event_json_with_multiple_data_elements")] // forwarded by WEC: no template
    public void A_record_reads_as_the_corpus_expected_rendering_has_it(string sample, ulong recordId, string snapshot)
    {
        var file = EvtxFile.Open(File.ReadAllBytes(Sample(sample)), out _)!;
        var record = file.Records().First(r => r.RecordId == recordId);
        var expected = File.ReadAllText(Corpus.Path("logs", "windows", "evtx-parser-samples", "expected", $"test_record_samples__{snapshot}.snap"));
        // The snapshot: front matter between two "---" lines, then the rendering.
        var rendering = expected[(expected.IndexOf("\n---\n", 4, StringComparison.Ordinal) + 5)..];
        Assert.Equal(rendering.TrimEnd(), EvtxXml.Render(file.ReadEvent(record)).TrimEnd());
    }

    [Theory]
    // The evtx crate's JSON renderings (its default layout is the one Hydrant writes): the same
    // names, attributes and values, numbers compared as the text they render.
    // Three snapshots use the crate's other layout (attributes beside their element, as
    // "{Element}_attributes"), which the test makes of Hydrant's to compare.
    [InlineData("security.evtx", 1UL, "event_json_sample", false)]
    [InlineData("system.evtx", 1UL, "event_json_sample_with_event_data_with_attributes_and_text", false)]
    [InlineData("Security_with_size_t.evtx", 196UL, "event_json_with_size_t", false)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 28UL, "event_json_with_multiple_nodes_same_name", false)]
    [InlineData("MSExchange_Management_wec.evtx", 1UL, "event_json_with_multiple_data_elements-2", false)]
    [InlineData("E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx", 28UL, "event_json_with_multiple_nodes_same_name_separate", true)]
    [InlineData("issue_201.evtx", 1UL, "event_json_multiple_empty_data_nodes_not_ignored", true)]
    [InlineData("security_bad_string_cache.evtx", 1UL, "event_json_missing_string_cache_entry", true)]
    public void A_record_as_json_has_the_values_of_the_corpus_expected_json(string sample, ulong recordId, string snapshot, bool separateAttributes)
    {
        var file = EvtxFile.Open(File.ReadAllBytes(Sample(sample)), out _)!;
        var record = file.Records().First(r => r.RecordId == recordId);
        var expected = File.ReadAllText(Corpus.Path("logs", "windows", "evtx-parser-samples", "expected", $"test_record_samples__{snapshot}.snap"));
        var json = new System.Buffers.ArrayBufferWriter<byte>();
        Assert.Null(EvtxJson.TryWrite(file, record, json));

        var want = Normalized(System.Text.Json.Nodes.JsonNode.Parse(expected[(expected.IndexOf("\n---\n", 4, StringComparison.Ordinal) + 5)..]));
        var got = System.Text.Json.Nodes.JsonNode.Parse(json.WrittenSpan);
        Assert.Equal(want?.ToJsonString(), Normalized(separateAttributes ? Separated(got) : got)?.ToJsonString());
    }

    /// <summary>The crate's separate layout: an element's attributes as a sibling "{name}_attributes", the element its text or what else it holds, or gone.</summary>
    private static System.Text.Json.Nodes.JsonNode? Separated(System.Text.Json.Nodes.JsonNode? node)
    {
        if (node is not System.Text.Json.Nodes.JsonObject o)
        {
            return node is System.Text.Json.Nodes.JsonArray a ? new System.Text.Json.Nodes.JsonArray([.. a.Select(Separated)]) : node?.DeepClone();
        }
        var result = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, value) in o)
        {
            if (value is not System.Text.Json.Nodes.JsonObject element || !element.ContainsKey("#attributes"))
            {
                result[name] = Separated(value);
                continue;
            }
            result[name + "_attributes"] = element["#attributes"]!.DeepClone();
            var rest = element.Where(p => p.Key != "#attributes").ToList();
            if (rest is [{ Key: "#text" } text])
            {
                result[name] = Separated(text.Value);
            }
            else if (rest.Count > 0)
            {
                result[name] = Separated(new System.Text.Json.Nodes.JsonObject(rest.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))));
            }
        }
        return result;
    }

    /// <summary>Numbers as the text they render, so a typed value and its text compare equal.</summary>
    private static System.Text.Json.Nodes.JsonNode? Normalized(System.Text.Json.Nodes.JsonNode? node) => node switch
    {
        System.Text.Json.Nodes.JsonObject o => new System.Text.Json.Nodes.JsonObject(o.Select(p => KeyValuePair.Create(p.Key, Normalized(p.Value)))),
        System.Text.Json.Nodes.JsonArray a => new System.Text.Json.Nodes.JsonArray([.. a.Select(Normalized)]),
        System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => System.Text.Json.Nodes.JsonValue.Create(v.ToJsonString()),
        System.Text.Json.Nodes.JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => System.Text.Json.Nodes.JsonValue.Create(v.ToJsonString()),
        null => null,
        _ => node.DeepClone(),
    };

    [Fact]
    public void Every_record_of_every_sample_reads_or_is_named_as_unreadable_and_clean_files_read_whole()
    {
        foreach (var path in Directory.GetFiles(Corpus.Path("logs", "windows", "evtx-parser-samples", "samples"), "*.evtx"))
        {
            var (file, records) = Read(File.ReadAllBytes(path));
            var unreadable = 0;
            var reasons = new List<string>();
            foreach (var record in records)
            {
                try
                {
                    var root = file.ReadEvent(record);
                    Assert.Equal("Event", root.Name);
                }
                catch (BinXmlException e)
                {
                    unreadable++;
                    reasons.Add(e.Message);
                }
            }
            // A file that lost no bytes reads whole, checksum notices or not (HelloForBusiness and
            // LanguagePackSetup, damaged on purpose, too); the WEC-forwarded record without a template as well.
            if (!file.Problems.Any(p => p.RecordsLost))
            {
                Assert.True(unreadable == 0, $"{Path.GetFileName(path)}: {unreadable} of {records.Count} records unreadable: {string.Join("; ", reasons.Distinct().Take(3))}");
            }
        }
    }

    [Fact]
    public void Flipped_binxml_fails_record_by_record_with_a_reason_never_a_crash()
    {
        var original = File.ReadAllBytes(Sample("security.evtx"))[..(EvtxFile.HeaderSize + (2 * EvtxFile.ChunkSize))];
        var random = new Random(15);
        var (read, failed) = (0, 0);
        for (var i = 0; i < 40; i++)
        {
            var bytes = (byte[])original.Clone();
            for (var flips = random.Next(1, 200); flips > 0; flips--)
            {
                bytes[random.Next(EvtxFile.HeaderSize + EvtxFile.ChunkHeaderSize, bytes.Length)] ^= (byte)random.Next(1, 256);
            }
            var (file, records) = Read(bytes);
            foreach (var record in records)
            {
                try
                {
                    file.ReadEvent(record);
                    read++;
                }
                catch (BinXmlException e)
                {
                    Assert.False(string.IsNullOrEmpty(e.Message));
                    failed++;
                }
            }
        }
        Assert.True(read > 0 && failed > 0, $"{read} read, {failed} failed");
    }

    [Fact]
    public void Every_record_of_the_attack_samples_becomes_a_windows_event_at_its_time()
    {
        var root = Corpus.Path("logs", "windows", "evtx-attack-samples");
        var parser = new EventParser(EventLimits.Default with { MaxBodyBytes = long.MaxValue }, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));
        var (files, events) = (0, 0);
        foreach (var line in File.ReadAllLines(Path.Combine(root, "MANIFEST.tsv")).Skip(1))
        {
            var columns = line.Split('\t');
            var file = EvtxFile.Open(File.ReadAllBytes(Path.Combine(root, columns[1])), out var error) ?? throw new InvalidOperationException(error);
            var ndjson = new System.Buffers.ArrayBufferWriter<byte>();
            var unreadable = new List<string>();
            EvtxJson.WriteNdjson(file, ndjson, unreadable);
            using var batch = parser.Parse(ndjson.WrittenSpan, new ParseOptions { Format = InputFormat.Windows });
            Assert.Empty(unreadable);
            Assert.Empty(batch.Rejections);
            Assert.Equal(int.Parse(columns[2], System.Globalization.CultureInfo.InvariantCulture), batch.Events.Count);
            // MANIFEST's first time is the first record's SystemTime (when it was written); a Sysmon
            // event's time is its UtcTime, when it happened, a little before.
            var first = DateTimeOffset.Parse(columns[5][..23] + "Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
            var earliest = batch.Events.MinBy(e => e.TimestampMs)!;
            Assert.True(earliest.TimestampMs >= first - 5_000 && earliest.TimestampMs <= first, $"{columns[1]}: {System.Text.Encoding.UTF8.GetString(earliest.Json.Span)}");
            Assert.All(batch.Events, e => Assert.Equal("windows", e.Logsource!.Product));
            (files, events) = (files + 1, events + batch.Events.Count);
        }
        Assert.Equal((93, 2_713), (files, events));
    }
}
