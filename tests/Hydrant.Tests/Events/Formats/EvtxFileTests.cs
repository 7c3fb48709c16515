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
}
