using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.CompilerServices;

namespace Hydrant.Events.Formats.Evtx;

/// <summary>One event record of an EVTX file: where it is, its id and written time, and its BinXml.</summary>
public readonly record struct EvtxRecord(int Chunk, long Offset, ulong RecordId, long WrittenMs, ReadOnlyMemory<byte> BinXml);

/// <summary>
/// What could not be read, and where: the file keeps being read after it. Without
/// <paramref name="RecordsLost"/> it is a notice (a checksum that does not match, the records
/// read as they are), not records left out.
/// </summary>
public sealed record EvtxProblem(long Offset, string What, bool RecordsLost = true);

/// <summary>
/// The container of a Windows XML Event Log (EVTX) file, written from libyal's libevtx format
/// documentation ("Windows XML Event Log (EVTX)"): a 4 KiB file header, then 64 KiB chunks, each
/// a 512-byte header (with the records' and its own CRC32) and event records ("**\0\0", size,
/// id, FILETIME, BinXml, size again). No well-kept .NET EVTX library is served here, so this is
/// Hydrant's own (docs/formats.md). Damaged files give every record that can be read: chunks are
/// found by scanning every 64 KiB block (headers' chunk counts are often stale), a chunk whose
/// checksums fail is still read record by record, and each record that cannot be framed is named
/// in <see cref="Problems"/>, never the whole file lost. Reading is bounded by the file's size.
/// </summary>
public sealed class EvtxFile
{
    public const int HeaderSize = 4096;
    public const int ChunkSize = 65536;
    public const int ChunkHeaderSize = 512;
    private const int RecordHeaderSize = 24;
    private const int MinRecordSize = 28;

    private static ReadOnlySpan<byte> FileSignature => "ElfFile\0"u8;
    private static ReadOnlySpan<byte> ChunkSignature => "ElfChnk\0"u8;
    private static ReadOnlySpan<byte> RecordSignature => [0x2A, 0x2A, 0x00, 0x00];

    private readonly ReadOnlyMemory<byte> _file;
    private readonly int _firstChunk;
    private (int Chunk, BinXml Reader)? _binXml;

    private EvtxFile(ReadOnlyMemory<byte> file, int firstChunk, ushort majorVersion, uint flags)
    {
        _file = file;
        _firstChunk = firstChunk;
        MajorVersion = majorVersion;
        Flags = flags;
    }

    public ushort MajorVersion { get; }

    /// <summary>The header's flags: 0x1 dirty (not closed cleanly), 0x2 full.</summary>
    public uint Flags { get; }

    /// <summary>What could not be read so far (filled as <see cref="Records"/> is enumerated).</summary>
    public List<EvtxProblem> Problems { get; } = [];

    /// <summary>Whether the bytes start as an EVTX file does.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> bytes) => bytes.StartsWith(FileSignature);

    /// <summary>
    /// Opens the file's bytes, or says why they are not an EVTX file. A part of a file (its header,
    /// then the chunks from number <paramref name="firstChunk"/> on, as <see cref="ReadPartsAsync"/> cuts
    /// it) reads like the whole: records, chunks and byte offsets are named as in the file.
    /// </summary>
    public static EvtxFile? Open(ReadOnlyMemory<byte> file, out string? error, int firstChunk = 0)
    {
        var span = file.Span;
        if (!HasSignature(span))
        {
            error = "not an EVTX file: it does not start with \"ElfFile\"";
            return null;
        }
        if (span.Length < HeaderSize)
        {
            error = $"the EVTX file header is cut short: {span.Length} bytes of {HeaderSize}";
            return null;
        }
        error = null;
        var evtx = new EvtxFile(file, firstChunk, BinaryPrimitives.ReadUInt16LittleEndian(span[38..]), BinaryPrimitives.ReadUInt32LittleEndian(span[120..]));
        var crc = Crc32.HashToUInt32(span[..120]);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(span[124..]);
        if (stored != 0 && crc != stored)
        {
            // The header's own fields (chunk count, next record) are not used, so this is only noted.
            evtx.Problems.Add(new EvtxProblem(0, $"the file header's checksum does not match (0x{crc:x8})", RecordsLost: false));
        }
        return evtx;
    }

    /// <summary>
    /// Reads a file in parts of at most <paramref name="maxBytes"/> (at least its header and one
    /// chunk): each the file's header and a run of its chunks, with the number of its first chunk,
    /// parts that read on their own, so a file of any size is sent, or hunted, part by part.
    /// <paramref name="stream"/> is the file, or its rest when <paramref name="head"/> already holds
    /// its first bytes (read from a pipe, say).
    /// </summary>
    public static async IAsyncEnumerable<(int FirstChunk, ReadOnlyMemory<byte> Part)> ReadPartsAsync(ReadOnlyMemory<byte> head, Stream stream, int maxBytes, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        async ValueTask<int> ReadAsync(Memory<byte> into)
        {
            var fromHead = Math.Min(head.Length, into.Length);
            head.Span[..fromHead].CopyTo(into.Span);
            head = head[fromHead..];
            return fromHead + await stream.ReadAtLeastAsync(into[fromHead..], into.Length - fromHead, throwOnEndOfStream: false, cancellationToken);
        }
        var header = new byte[HeaderSize];
        var headerLength = await ReadAsync(header);
        if (headerLength < HeaderSize)
        {
            yield return (0, header.AsMemory(0, headerLength)); // a part that says what is wrong when opened
            yield break;
        }
        var chunksPerPart = Math.Max(1, (maxBytes - HeaderSize) / ChunkSize);
        for (var chunk = 0; ; chunk += chunksPerPart)
        {
            var part = new byte[HeaderSize + (chunksPerPart * ChunkSize)];
            header.CopyTo(part, 0);
            var read = await ReadAsync(part.AsMemory(HeaderSize));
            if (read == 0 && chunk > 0)
            {
                yield break;
            }
            yield return (chunk, part.AsMemory(0, HeaderSize + read));
            if (read < part.Length - HeaderSize)
            {
                yield break;
            }
        }
    }

    /// <summary>Every record that can be framed, chunk by chunk, in file order.</summary>
    public IEnumerable<EvtxRecord> Records()
    {
        for (long offset = HeaderSize, chunk = 0; offset + ChunkHeaderSize <= _file.Length; offset += ChunkSize, chunk++)
        {
            foreach (var record in ChunkRecords((int)chunk, offset))
            {
                yield return record;
            }
        }
    }

    private List<EvtxRecord> ChunkRecords(int index, long start)
    {
        var records = new List<EvtxRecord>();
        var length = (int)Math.Min(ChunkSize, _file.Length - start);
        var span = _file.Span.Slice((int)start, length);
        // Named as in the file, for a part of one.
        var chunk = index + _firstChunk;
        var offset = start + ((long)_firstChunk * ChunkSize);
        if (!span.StartsWith(ChunkSignature))
        {
            // Unused blocks are zeros; anything else is a chunk that lost its header.
            if (span.IndexOfAnyExcept((byte)0) >= 0)
            {
                Problems.Add(new EvtxProblem(offset, $"chunk {chunk}: no \"ElfChnk\" signature; its records are skipped"));
            }
            return records;
        }
        var freeSpace = BinaryPrimitives.ReadUInt32LittleEndian(span[48..]);
        var end = freeSpace is >= ChunkHeaderSize and <= ChunkSize ? (int)Math.Min(freeSpace, (uint)length) : length;
        var headerCrc = Crc32.HashToUInt32([.. span[..120], .. span[128..ChunkHeaderSize]]);
        var storedHeaderCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[124..]);
        if (storedHeaderCrc != 0 && headerCrc != storedHeaderCrc)
        {
            // A damaged string table still leaves records that read (security_bad_string_cache).
            Problems.Add(new EvtxProblem(offset, $"chunk {chunk}: the header's checksum does not match; its records are read as they are", RecordsLost: false));
        }
        var storedDataCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[52..]);
        if (storedDataCrc != 0 && Crc32.HashToUInt32(span[ChunkHeaderSize..end]) != storedDataCrc)
        {
            Problems.Add(new EvtxProblem(offset, $"chunk {chunk}: the records' checksum does not match; each is read as it is", RecordsLost: false));
        }
        // Past the last record the header names is slack: records deleted or overwritten, not the log's.
        var lastRecord = BinaryPrimitives.ReadUInt32LittleEndian(span[44..]);
        if (lastRecord is >= ChunkHeaderSize and < ChunkSize)
        {
            end = (int)Math.Min(end, Math.Min(lastRecord + (long)MaxRecordSizeAt(span, (int)lastRecord), length));
        }
        var at = ChunkHeaderSize;
        while (at + MinRecordSize <= end)
        {
            var rest = span[at..end];
            if (!rest.StartsWith(RecordSignature))
            {
                if (rest.IndexOfAnyExcept((byte)0) < 0)
                {
                    break; // the rest of the chunk is unused
                }
                // Find the next record in the chunk; what was between is named once.
                var next = rest[1..].IndexOf(RecordSignature);
                Problems.Add(new EvtxProblem(offset + at, $"chunk {chunk}: {(next < 0 ? rest.Length : next + 1)} bytes that are not a record"));
                if (next < 0)
                {
                    break;
                }
                at += next + 1;
                continue;
            }
            var size = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
            if (size < MinRecordSize || size > rest.Length)
            {
                Problems.Add(new EvtxProblem(offset + at, $"chunk {chunk}: invalid EVTX record data size, should be equals or greater than {MinRecordSize} and within the chunk, found `{size}`"));
                at += 4;
                continue;
            }
            var record = rest[..(int)size];
            if (BinaryPrimitives.ReadUInt32LittleEndian(record[^4..]) != size)
            {
                // Often a record cut short by what was written over its end: its BinXml decides
                // whether it reads (the evtx crate and libevtx read it too), and the walk goes on past it.
                Problems.Add(new EvtxProblem(offset + at, $"chunk {chunk}: the trailing size of record {BinaryPrimitives.ReadUInt64LittleEndian(record[8..])} does not match its size ({size}); it is read as its size says", RecordsLost: false));
            }
            var id = BinaryPrimitives.ReadUInt64LittleEndian(record[8..]);
            var written = FileTimeToMs(BinaryPrimitives.ReadInt64LittleEndian(record[16..]));
            records.Add(new EvtxRecord(chunk, offset + at, id, written, _file.Slice((int)start + at + RecordHeaderSize, (int)size - MinRecordSize)));
            at += (int)size;
        }
        return records;
    }

    /// <summary>The record's event as an XML tree (its chunk's names and templates read once per chunk).</summary>
    /// <exception cref="BinXmlException">The record's BinXml cannot be read.</exception>
    public XmlNode ReadEvent(EvtxRecord record)
    {
        var chunkStart = HeaderSize + ((long)(record.Chunk - _firstChunk) * ChunkSize);
        if (_binXml is not { } current || current.Chunk != record.Chunk)
        {
            _binXml = current = (record.Chunk, new BinXml(_file.Slice((int)chunkStart, (int)Math.Min(ChunkSize, _file.Length - chunkStart))));
        }
        return current.Reader.ReadRecord((int)((record.Offset - HeaderSize) % ChunkSize) + RecordHeaderSize, record.BinXml.Length);
    }

    /// <summary>The size the record at <paramref name="at"/> says it has, or 0 when none starts there.</summary>
    private static uint MaxRecordSizeAt(ReadOnlySpan<byte> chunk, int at) =>
        at + 8 <= chunk.Length && chunk[at..].StartsWith(RecordSignature) ? BinaryPrimitives.ReadUInt32LittleEndian(chunk[(at + 4)..]) : 0;

    /// <summary>Windows FILETIME (100 ns ticks since 1601) as Unix milliseconds; 0 for a time before 1970 or past 9999.</summary>
    public static long FileTimeToMs(long fileTime)
    {
        const long EpochDifference = 116_444_736_000_000_000;
        var ms = (fileTime - EpochDifference) / 10_000;
        return fileTime < EpochDifference || ms > Timestamps.MaxEpochMs ? 0 : ms;
    }
}
