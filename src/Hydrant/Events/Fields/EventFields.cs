using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
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
/// A full name is never written out: each value keeps its own key (in the event's bytes, or
/// unescaped once) and its parent, and its hash continues its parent's (a polynomial hash with a
/// per-process base), so the index of a hostile event of many children under long names costs
/// what the event's own bytes do. The tables are pooled: dispose the index when the event is done.
/// </summary>
public sealed class EventFields : IDisposable
{
    // The hash's base and start, chosen per process (the base odd), so names cannot be crafted to
    // collide in the table.
    private static readonly ulong Base = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) | 1;
    private static readonly ulong Start = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    private readonly ReadOnlyMemory<byte> _json;
    private Entry[] _entries;
    private int _count;
    /// <summary>Keys that were escaped in the event, unescaped; most events have none, so it is rented when one comes.</summary>
    private byte[] _names = [];
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

    /// <summary>The hash of a full dotted name: the same whether it is hashed whole or continued from its parent's.</summary>
    internal static ulong HashOf(ReadOnlySpan<byte> name) => Continue(Start, name);

    private static ulong Continue(ulong hash, ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            hash = (hash * Base) + b;
        }
        return hash;
    }

    /// <summary>A table slot of a hash: its bits mixed first, as the polynomial's low bits depend only on the bytes' low bits.</summary>
    private static int SlotOf(ulong hash, int mask)
    {
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        return (int)hash & mask;
    }

    /// <summary>The value of a field by name (exact key or dotted path), if the event has it.</summary>
    public bool TryGet(FieldName name, out FieldValue value)
    {
        if (_slotMask >= 0)
        {
            var mask = _slotMask;
            for (var slot = SlotOf(name.Hash, mask); _slots[slot] != 0; slot = (slot + 1) & mask)
            {
                var index = _slots[slot] - 1;
                ref var entry = ref _entries[index];
                if (entry.Hash == name.Hash && entry.NameLength == name.Utf8.Length && NameIs(index, name.Utf8))
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
        if (_names.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_names);
        }
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

    /// <summary>The entry's own key: in the event's bytes, or (escaped there) unescaped in the name buffer.</summary>
    private ReadOnlySpan<byte> KeyOf(in Entry entry) => entry.KeyUnescaped ? _names.AsSpan(entry.KeyStart, entry.KeyLength) : _json.Span.Slice(entry.KeyStart, entry.KeyLength);

    /// <summary>Whether the entry's full name is <paramref name="name"/>: its key ends it, and its parent's name is what comes before the dot.</summary>
    private bool NameIs(int index, ReadOnlySpan<byte> name)
    {
        while (true)
        {
            ref var entry = ref _entries[index];
            var key = KeyOf(entry);
            if (name.Length < key.Length || !name[^key.Length..].SequenceEqual(key))
            {
                return false;
            }
            if (entry.Parent < 0)
            {
                return name.Length == key.Length;
            }
            var before = name.Length - key.Length - 1;
            if (before < 0 || name[before] != (byte)'.')
            {
                return false;
            }
            name = name[..before];
            index = entry.Parent;
        }
    }

    /// <summary>Whether two named entries of equal hashes have the same full name: only met where a flat key and a nested path meet, or hashes collide.</summary>
    private bool SameName(int a, int b) => _entries[a].NameLength == _entries[b].NameLength && NameIs(a, FullName(b));

    /// <summary>An entry's full name written out: only where two names with equal hashes are cut differently.</summary>
    private byte[] FullName(int index)
    {
        var name = new byte[_entries[index].NameLength];
        var end = name.Length;
        while (true)
        {
            ref var entry = ref _entries[index];
            var key = KeyOf(entry);
            key.CopyTo(name.AsSpan(end - key.Length));
            end -= key.Length;
            if (entry.Parent < 0)
            {
                return name;
            }
            name[--end] = (byte)'.';
            index = entry.Parent;
        }
    }

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
        frames[0] = new Frame { Container = -1, LastChild = -1, Named = true };
        var pending = Name.None;
        var named = 0;
        while (reader.Read())
        {
            ref var frame = ref frames[depth];
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    pending = frame.Named ? NameOf(ref reader, frame) : Name.None;
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
            var index = Add(ref reader, frame.Named ? pending : Name.None);
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
            pending = Name.None;
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                frames[++depth] = new Frame
                {
                    Container = index,
                    LastChild = -1,
                    Named = reader.TokenType == JsonTokenType.StartObject && _entries[index].NameLength >= 0,
                };
            }
        }
        throw new JsonException("the event ends inside its object");
    }

    /// <summary>The name of the property the reader is on: its key, where it is, and its full name's length and hash, continued from its parent's.</summary>
    private Name NameOf(ref Utf8JsonReader reader, in Frame parent)
    {
        int keyStart, keyLength;
        var unescaped = reader.ValueIsEscaped;
        if (!unescaped)
        {
            // As the bytes are: a name that is not UTF-8 is kept, though no rule can ask for it.
            (keyStart, keyLength) = ((int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
        }
        else
        {
            EnsureNames(reader.ValueSpan.Length);
            try
            {
                keyLength = reader.CopyString(_names.AsSpan(_namesLength));
            }
            catch (InvalidOperationException)
            {
                // Escapes that make no text (a lone surrogate): the value is there, but has no name.
                return Name.None;
            }
            keyStart = _namesLength;
            _namesLength += keyLength;
        }
        var key = unescaped ? _names.AsSpan(keyStart, keyLength) : _json.Span.Slice(keyStart, keyLength);
        if (parent.Container < 0)
        {
            return new Name(-1, keyStart, keyLength, unescaped, keyLength, Continue(Start, key));
        }
        ref var owner = ref _entries[parent.Container];
        return new Name(parent.Container, keyStart, keyLength, unescaped, owner.NameLength + 1 + keyLength, Continue(Continue(owner.Hash, "."u8), key));
    }

    private int Add(ref Utf8JsonReader reader, in Name name)
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
            Parent = name.Parent,
            KeyStart = name.KeyStart,
            KeyLength = name.KeyLength,
            KeyUnescaped = name.KeyUnescaped,
            NameLength = name.Length,
            Hash = name.Hash,
            Kind = kind,
            // A string's bytes without its quotes; a container's length is set when it closes.
            ValueStart = kind == JsonValueKind.String ? start + 1 : start,
            ValueLength = kind is JsonValueKind.Object or JsonValueKind.Array ? 0 : reader.ValueSpan.Length,
            Escaped = kind == JsonValueKind.String && reader.ValueIsEscaped,
            Depth = name.Length < 0 ? 0 : Depth(name.Parent),
            Next = -1,
        };
        return _count++;
    }

    private int Depth(int parent) => parent < 0 ? 0 : _entries[parent].Depth + 1;

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
            var slot = SlotOf(entry.Hash, mask);
            for (; _slots[slot] != 0; slot = (slot + 1) & mask)
            {
                var held = _slots[slot] - 1;
                if (_entries[held].Hash == entry.Hash && SameName(held, i))
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
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(256, _names.Length * 2), _namesLength + more));
        _names.AsSpan(0, _namesLength).CopyTo(grown);
        if (_names.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_names);
        }
        _names = grown;
    }

    private struct Entry
    {
        /// <summary>The object whose value this is (-1: the event itself), for the name before this key.</summary>
        public int Parent;
        public int KeyStart;
        public int KeyLength;
        /// <summary>Whether the key is in the name buffer (it was escaped in the event), not in the event's bytes.</summary>
        public bool KeyUnescaped;
        /// <summary>The length of the full dotted name; -1 for items of arrays and what is inside them.</summary>
        public int NameLength;
        public ulong Hash;
        public JsonValueKind Kind;
        public int ValueStart;
        public int ValueLength;
        public bool Escaped;
        /// <summary>How many objects hold it: of two values of one name the shallower counts.</summary>
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
        /// <summary>Whether values in it have names: an object reached from the root through objects only (never an array).</summary>
        public bool Named;
    }

    /// <summary>A property's name as read: where its key is and what its full name's length and hash are.</summary>
    private readonly record struct Name(int Parent, int KeyStart, int KeyLength, bool KeyUnescaped, int Length, ulong Hash)
    {
        public static Name None => new(-1, 0, 0, false, -1, 0);
    }
}
