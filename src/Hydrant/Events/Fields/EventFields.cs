using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.IO.Hashing;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Hydrant.Events.Fields;

/// <summary>
/// The fields of one event JSON, indexed in one pass over its UTF-8 bytes (no
/// <see cref="JsonDocument"/>): every value reachable through objects is found by its dotted name
/// (<c>userIdentity.type</c>; a key that holds the dots itself, Zeek's <c>id.orig_h</c>, is the same
/// name, and where both exist the shallower one counts), in one hash probe. Values stay bytes until
/// asked for. Items of arrays are values of their array, not named fields (as the rules see them).
/// The tables are pooled: dispose the index when the event is done.
/// </summary>
public sealed class EventFields : IDisposable
{
    // Seeded per process, so names cannot be crafted to collide in the table.
    private static readonly long Seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    private readonly ReadOnlyMemory<byte> _json;
    private Entry[] _entries;
    private int _count;
    private byte[] _names;
    private int _namesLength;
    private int[] _slots = [];
    /// <summary>The table's size less one (a power of two less one); -1 while the event has no named values.</summary>
    private int _slotMask = -1;
    private string?[] _texts = [];
    private bool _disposed;

    private EventFields(ReadOnlyMemory<byte> json)
    {
        _json = json;
        _entries = ArrayPool<Entry>.Shared.Rent(Math.Max(16, json.Length / 24));
        _names = ArrayPool<byte>.Shared.Rent(Math.Max(256, json.Length));
    }

    /// <summary>The index of an event; throws <see cref="JsonException"/> when the bytes are not JSON.</summary>
    public static EventFields Index(ReadOnlyMemory<byte> json)
    {
        var fields = new EventFields(json);
        try
        {
            fields.Build();
        }
        catch
        {
            fields.Dispose();
            throw;
        }
        return fields;
    }

    internal static ulong HashOf(ReadOnlySpan<byte> name) => XxHash3.HashToUInt64(name, Seed);

    /// <summary>The value of a field by name (exact key or dotted path), if the event has it.</summary>
    public bool TryGet(FieldName name, out FieldValue value)
    {
        if (_slotMask >= 0)
        {
            var mask = _slotMask;
            for (var slot = (int)(name.Hash & (ulong)mask); _slots[slot] != 0; slot = (slot + 1) & mask)
            {
                var index = _slots[slot] - 1;
                ref var entry = ref _entries[index];
                if (entry.Hash == name.Hash && NameOf(entry).SequenceEqual(name.Utf8))
                {
                    value = new FieldValue(this, index);
                    return true;
                }
            }
        }
        value = default;
        return false;
    }

    /// <summary>Every string value of the event, in arrays and nested objects too: what keyword searches read.</summary>
    public void CollectStrings(List<string> strings)
    {
        for (var i = 0; i < _count; i++)
        {
            if (_entries[i].Kind == JsonValueKind.String)
            {
                strings.Add(TextOf(i)!);
            }
        }
    }

    internal JsonValueKind KindOf(int index) => _entries[index].Kind;

    internal int FirstChildOf(int index) => _entries[index].Children > 0 ? index + 1 : -1;

    internal int NextSiblingOf(int index) => _entries[index].Next;

    internal string? TextOf(int index)
    {
        if (_texts[index] is { } cached)
        {
            return cached;
        }
        ref var entry = ref _entries[index];
        var text = entry.Kind switch
        {
            JsonValueKind.String => entry.Escaped ? Unescaped(entry) : Encoding.UTF8.GetString(ValueOf(entry)),
            JsonValueKind.Number => Encoding.UTF8.GetString(ValueOf(entry)),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
        return _texts[index] = text;
    }

    internal string RawTextOf(int index)
    {
        ref var entry = ref _entries[index];
        return entry.Kind == JsonValueKind.String
            ? Encoding.UTF8.GetString(_json.Span.Slice(entry.ValueStart - 1, entry.ValueLength + 2))
            : Encoding.UTF8.GetString(ValueOf(entry));
    }

    internal bool TryNumberOf(int index, out double number)
    {
        ref var entry = ref _entries[index];
        switch (entry.Kind)
        {
            case JsonValueKind.Number:
                var raw = ValueOf(entry);
                return Utf8Parser.TryParse(raw, out number, out var consumed) && consumed == raw.Length && double.IsFinite(number);
            case JsonValueKind.String:
                return double.TryParse(TextOf(index), NumberStyles.Float, CultureInfo.InvariantCulture, out number);
            default:
                number = 0;
                return false;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        ArrayPool<Entry>.Shared.Return(_entries);
        ArrayPool<byte>.Shared.Return(_names);
        if (_slots.Length > 0)
        {
            ArrayPool<int>.Shared.Return(_slots);
        }
        if (_texts.Length > 0)
        {
            // Cleared, so the pool holds no event's text.
            Array.Clear(_texts, 0, _count);
            ArrayPool<string?>.Shared.Return(_texts);
        }
    }

    private ReadOnlySpan<byte> NameOf(in Entry entry) => _names.AsSpan(entry.NameStart, entry.NameLength);

    private ReadOnlySpan<byte> ValueOf(in Entry entry) => _json.Span.Slice(entry.ValueStart, entry.ValueLength);

    private string Unescaped(in Entry entry)
    {
        // The reader unescapes; it is given the string token alone, quotes included.
        var reader = new Utf8JsonReader(_json.Span.Slice(entry.ValueStart - 1, entry.ValueLength + 2));
        reader.Read();
        return reader.GetString()!;
    }

    private void Build()
    {
        var reader = new Utf8JsonReader(_json.Span, EventShape.ReaderOptions);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return;
        }
        Span<Frame> frames = stackalloc Frame[EventShape.MaxDepth + 1];
        var depth = 0;
        frames[0] = new Frame { Container = -1, LastChild = -1, IsObject = true, Named = true };
        var (pendingStart, pendingLength) = (0, -1);
        var named = 0;
        while (reader.Read())
        {
            ref var frame = ref frames[depth];
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    (pendingStart, pendingLength) = frame.Named ? AppendName(ref reader, frame, depth) : (0, -1);
                    continue;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    if (frame.Container < 0)
                    {
                        Seal(named);
                        return;
                    }
                    ref var closed = ref _entries[frame.Container];
                    closed.ValueLength = (int)reader.BytesConsumed - closed.ValueStart;
                    depth--;
                    continue;
            }
            // A value: of a named field when its parent is an object reached through objects.
            var index = Add(ref reader, pendingStart, frame.Named && frame.IsObject ? pendingLength : -1, depth);
            if (_entries[index].NameLength >= 0)
            {
                named++;
            }
            if (frame.LastChild >= 0)
            {
                _entries[frame.LastChild].Next = index;
            }
            frame.LastChild = index;
            if (frame.Container >= 0)
            {
                _entries[frame.Container].Children++;
            }
            pendingLength = -1;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                var isObject = reader.TokenType == JsonTokenType.StartObject;
                frames[++depth] = new Frame
                {
                    Container = index,
                    LastChild = -1,
                    IsObject = isObject,
                    Named = isObject && _entries[index].NameLength >= 0,
                    NameStart = _entries[index].NameStart,
                    NameLength = _entries[index].NameLength,
                };
            }
        }
        throw new JsonException("the event ends inside its object");
    }

    /// <summary>Writes the full dotted name of the property the reader is on; its place in the name buffer.</summary>
    private (int Start, int Length) AppendName(ref Utf8JsonReader reader, in Frame parent, int depth)
    {
        var prefix = depth == 0 ? 0 : parent.NameLength + 1;
        EnsureNames(prefix + reader.ValueSpan.Length);
        var start = _namesLength;
        if (depth > 0)
        {
            _names.AsSpan(parent.NameStart, parent.NameLength).CopyTo(_names.AsSpan(start));
            _names[start + parent.NameLength] = (byte)'.';
        }
        int written;
        if (!reader.ValueIsEscaped)
        {
            // As the bytes are: a name that is not UTF-8 is kept, though no rule can ask for it.
            reader.ValueSpan.CopyTo(_names.AsSpan(start + prefix));
            written = reader.ValueSpan.Length;
        }
        else
        {
            try
            {
                written = reader.CopyString(_names.AsSpan(start + prefix));
            }
            catch (InvalidOperationException)
            {
                // Escapes that make no text (a lone surrogate): the value is there, but has no name.
                return (0, -1);
            }
        }
        _namesLength = start + prefix + written;
        return (start, prefix + written);
    }

    private int Add(ref Utf8JsonReader reader, int nameStart, int nameLength, int depth)
    {
        if (_count == _entries.Length)
        {
            var grown = ArrayPool<Entry>.Shared.Rent(_entries.Length * 2);
            _entries.AsSpan(0, _count).CopyTo(grown);
            ArrayPool<Entry>.Shared.Return(_entries);
            _entries = grown;
        }
        var start = (int)reader.TokenStartIndex;
        var kind = reader.TokenType switch
        {
            JsonTokenType.String => JsonValueKind.String,
            JsonTokenType.Number => JsonValueKind.Number,
            JsonTokenType.True => JsonValueKind.True,
            JsonTokenType.False => JsonValueKind.False,
            JsonTokenType.Null => JsonValueKind.Null,
            JsonTokenType.StartObject => JsonValueKind.Object,
            _ => JsonValueKind.Array,
        };
        _entries[_count] = new Entry
        {
            NameStart = nameStart,
            NameLength = nameLength,
            Hash = nameLength >= 0 ? HashOf(_names.AsSpan(nameStart, nameLength)) : 0,
            Kind = kind,
            // A string's bytes without its quotes; a container's length is set when it closes.
            ValueStart = kind == JsonValueKind.String ? start + 1 : start,
            ValueLength = kind is JsonValueKind.Object or JsonValueKind.Array ? 0 : reader.ValueSpan.Length,
            Escaped = kind == JsonValueKind.String && reader.ValueIsEscaped,
            Depth = depth,
            Next = -1,
        };
        return _count++;
    }

    /// <summary>The name table: open addressing, twice as many slots as names; of two equal names the shallower is kept.</summary>
    private void Seal(int named)
    {
        _texts = ArrayPool<string?>.Shared.Rent(Math.Max(1, _count));
        Array.Clear(_texts, 0, _count);
        if (named == 0)
        {
            return;
        }
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, named * 2));
        _slots = ArrayPool<int>.Shared.Rent(size);
        Array.Clear(_slots, 0, size);
        _slotMask = size - 1;
        var mask = _slotMask;
        for (var i = 0; i < _count; i++)
        {
            ref var entry = ref _entries[i];
            if (entry.NameLength < 0)
            {
                continue;
            }
            var slot = (int)(entry.Hash & (ulong)mask);
            for (; _slots[slot] != 0; slot = (slot + 1) & mask)
            {
                ref var held = ref _entries[_slots[slot] - 1];
                if (held.Hash == entry.Hash && NameOf(held).SequenceEqual(NameOf(entry)))
                {
                    break;
                }
            }
            if (_slots[slot] == 0 || _entries[_slots[slot] - 1].Depth > entry.Depth)
            {
                _slots[slot] = i + 1;
            }
        }
    }

    private void EnsureNames(int more)
    {
        if (_namesLength + more <= _names.Length)
        {
            return;
        }
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(_names.Length * 2, _namesLength + more));
        _names.AsSpan(0, _namesLength).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(_names);
        _names = grown;
    }

    private struct Entry
    {
        /// <summary>Where the full dotted name is in the name buffer; length -1 for items of arrays and what is inside them.</summary>
        public int NameStart;
        public int NameLength;
        public ulong Hash;
        public JsonValueKind Kind;
        public int ValueStart;
        public int ValueLength;
        public bool Escaped;
        public int Depth;
        /// <summary>The next value in the same object or array; -1 for the last.</summary>
        public int Next;
        /// <summary>How many values an object or array holds; the first is the entry after it.</summary>
        public int Children;
    }

    private struct Frame
    {
        public int Container;
        public int LastChild;
        public bool IsObject;
        /// <summary>Whether values in it have names: an object reached from the root through objects only.</summary>
        public bool Named;
        public int NameStart;
        public int NameLength;
    }
}
