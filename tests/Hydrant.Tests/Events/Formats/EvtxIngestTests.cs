using Hydrant.Events;
using Hydrant.Events.Formats;
using Hydrant.Events.Formats.Evtx;

namespace Hydrant.Tests.Events.Formats;

/// <summary>The <c>evtx</c> format of ingest: a file, or its parts, read into Windows events by index, with what could not be read named.</summary>
public sealed class EvtxIngestTests
{
    private static readonly EventParser Parser = new(EventLimits.Default, new FixedClock(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero)));

    private static string Sample(string name) => Corpus.Path("logs", "windows", "evtx-parser-samples", "samples", name);

    [Fact]
    public void An_evtx_body_becomes_one_windows_event_per_record_whatever_the_format_says()
    {
        var bytes = File.ReadAllBytes(Sample("security.evtx"));
        var records = EvtxFile.Open(bytes, out _)!.Records().Count();
        using var evtx = Parser.Parse(bytes, new ParseOptions { Format = InputFormat.Evtx });
        using var asJson = Parser.Parse(bytes, ParseOptions.Json);

        Assert.Equal(records, evtx.Records);
        Assert.Empty(evtx.Rejections);
        Assert.Equal(records, evtx.Events.Count);
        Assert.All(evtx.Events, e => Assert.Equal(("windows", "security"), (e.Logsource!.Product, e.Logsource.Service)));
        Assert.Equal(evtx.Events.Select(e => e.Id), asJson.Events.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, records), evtx.Events.Select(e => e.Index));
    }

    /// <summary>The stream past the 100 bytes already read, as from a pipe whose head was looked at.</summary>
    private static MemoryStream Rest(MemoryStream stream)
    {
        stream.Position = 100;
        return stream;
    }

    [Fact]
    public async Task A_file_read_in_parts_gives_the_same_events_with_the_same_ids_as_the_whole()
    {
        var bytes = File.ReadAllBytes(Sample("security.evtx"));
        using var whole = Parser.Parse(bytes, new ParseOptions { Format = InputFormat.Evtx });
        var ids = new List<string>();
        var parts = 0;
        await using var stream = new MemoryStream(bytes);
        await foreach (var (firstChunk, part) in EvtxFile.ReadPartsAsync(bytes.AsMemory(0, 100), Rest(stream), EvtxFile.HeaderSize + (3 * EvtxFile.ChunkSize), CancellationToken.None))
        {
            Assert.Equal(parts * 3, firstChunk);
            Assert.True(part.Length <= EvtxFile.HeaderSize + (3 * EvtxFile.ChunkSize));
            using var batch = Parser.Parse(part.Span, new ParseOptions { Format = InputFormat.Evtx, Position = firstChunk });
            Assert.Empty(batch.Rejections);
            ids.AddRange(batch.Events.Select(e => e.Id));
            parts++;
        }
        Assert.Equal((bytes.Length - EvtxFile.HeaderSize + (3 * EvtxFile.ChunkSize) - 1) / (3 * EvtxFile.ChunkSize), parts);
        Assert.Equal(whole.Events.Select(e => e.Id), ids);
    }

    [Fact]
    public void A_damaged_file_rejects_the_records_it_lost_by_index_and_notes_checksums_that_do_not_match()
    {
        using var batch = Parser.Parse(File.ReadAllBytes(Sample("2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx")), new ParseOptions { Format = InputFormat.Evtx });

        // 1,971 records framed, 23 of them unreadable BinXml; four runs of bytes frame no record.
        Assert.Equal(1_971 - 23, batch.Events.Count);
        Assert.Equal(23, batch.Rejections.Count(r => r.Error.StartsWith("record ", StringComparison.Ordinal)));
        Assert.Contains(batch.Rejections, r => r.Error.Contains("invalid EVTX record data size", StringComparison.Ordinal));
        Assert.Contains(batch.Notices, n => n.Contains("trailing size of record 6335011", StringComparison.Ordinal));
        Assert.Contains(batch.Notices, n => n.Contains("checksum does not match", StringComparison.Ordinal));
        Assert.Equal(batch.Records, batch.Events.Count + batch.Rejections.Count);
        Assert.Equal(batch.Rejections.Count + batch.Events.Count, batch.Rejections.Select(r => r.Index).Concat(batch.Events.Select(e => e.Index)).Distinct().Count());
    }

    [Fact]
    public void A_body_that_only_starts_like_an_evtx_file_is_refused_as_a_whole_with_the_reason()
    {
        var error = Assert.Throws<EventParser.UnreadableBodyException>(() => Parser.Parse("ElfFile\0short"u8, new ParseOptions { Format = InputFormat.Evtx }));
        Assert.Contains("file header is cut short", error.Message, StringComparison.Ordinal);
        var notEvtx = Assert.Throws<EventParser.UnreadableBodyException>(() => Parser.Parse("{\"Channel\":\"Security\"}"u8, new ParseOptions { Format = InputFormat.Evtx }));
        Assert.Contains("not an EVTX file", notEvtx.Message, StringComparison.Ordinal);
    }
}
