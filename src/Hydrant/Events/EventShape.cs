using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Hydrant.Events;

/// <summary>
/// The one definition of an event JSON every consumer can read, checked once at ingest on each
/// record before it is mapped: nesting at most <see cref="MaxDepth"/> deep (what
/// <see cref="JsonDocument"/> and every reader in Hydrant accept), every name and string valid
/// UTF-8 once unescaped (no lone surrogates, escaped or encoded), no U+0000 (PostgreSQL cannot
/// keep it), and no name twice in one object at any depth (engines disagree on which of two
/// values counts, so an attacker could choose the one detection sees). A record that fails is
/// rejected with the place and the reason; the others of its request are kept.
/// </summary>
public static class EventShape
{
    /// <summary>The deepest nesting of objects and arrays an event may have; every reader uses it.</summary>
    public const int MaxDepth = 64;

    /// <summary>Reader options for event JSON everywhere in Hydrant.</summary>
    public static JsonReaderOptions ReaderOptions { get; } = new() { MaxDepth = MaxDepth };

    /// <summary>Document options for event JSON everywhere in Hydrant.</summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new() { MaxDepth = MaxDepth };

    // Seeded per process, so names cannot be crafted to collide; a collision could only refuse
    // the crafted event itself (two names with equal hashes are taken for the same name).
    private static readonly long Seed = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8));

    [ThreadStatic]
    private static Scratch? _scratch;

    /// <summary>
    /// Null when <paramref name="json"/> is one object of this shape, else what is wrong and where;
    /// with <paramref name="reserved"/>, a top-level field of that name is wrong too (ingest: Hydrant's own <c>enrichment</c>).
    /// </summary>
    public static string? Check(ReadOnlySpan<byte> json, ReadOnlySpan<byte> reserved = default)
    {
        var scratch = _scratch ??= new Scratch();
        scratch.Reset();
        var reader = new Utf8JsonReader(json, ReaderOptions);
        try
        {
            // One value is checked; what follows it is the mapper's to name.
            while ((scratch.Depth > 0 || reader.BytesConsumed == 0) && reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        scratch.Enter(isObject: true);
                        break;
                    case JsonTokenType.StartArray:
                        scratch.Enter(isObject: false);
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        scratch.Leave();
                        break;
                    case JsonTokenType.PropertyName:
                        var nameError = Unescape(ref reader, scratch, out var name);
                        scratch.Name(json, (int)reader.TokenStartIndex + 1, reader.ValueSpan.Length);
                        if (nameError is not null)
                        {
                            return $"{nameError} in a name at {scratch.Path(json)}";
                        }
                        if (!scratch.IsNew(name))
                        {
                            return $"duplicate key '{Encoding.UTF8.GetString(name)}' in {scratch.Path(json, withCurrentName: false)}";
                        }
                        if (!reserved.IsEmpty && scratch.Depth == 1 && name.SequenceEqual(reserved))
                        {
                            return $"{Encoding.UTF8.GetString(reserved)}: a reserved field, which Hydrant sets at ingest";
                        }
                        break;
                    case JsonTokenType.String:
                        scratch.Value();
                        if (Unescape(ref reader, scratch, out _) is { } valueError)
                        {
                            return $"{valueError} in the string at {scratch.Path(json)}";
                        }
                        break;
                    default:
                        scratch.Value();
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            return scratch.Depth >= MaxDepth
                ? $"nested more than {MaxDepth} levels deep at {scratch.Path(json)}"
                : "malformed JSON: " + e.Message;
        }
        return null;
    }

    /// <summary>The token's text, unescaped (into the scratch buffer when it has escapes); null when it is valid text.</summary>
    private static string? Unescape(ref Utf8JsonReader reader, Scratch scratch, out ReadOnlySpan<byte> text)
    {
        var raw = reader.ValueSpan;
        text = raw;
        if (reader.ValueIsEscaped)
        {
            var buffer = scratch.Text(raw.Length);
            try
            {
                text = buffer[..reader.CopyString(buffer)];
            }
            catch (InvalidOperationException)
            {
                // Escapes that make no UTF-16 (a lone or reversed surrogate), or bytes that are not UTF-8.
                return Utf8.IsValid(raw) ? "an escaped lone surrogate" : "bytes that are not UTF-8";
            }
        }
        if (!Utf8.IsValid(text))
        {
            return "bytes that are not UTF-8";
        }
        return text.Contains((byte)0) ? "U+0000 (NUL)" : null;
    }

    /// <summary>Per-thread state of one check: where the reader is (for messages) and the names seen in each open object.</summary>
    private sealed class Scratch
    {
        /// <summary>Names an object may have before they are looked up in a set instead of compared one by one.</summary>
        private const int LinearNames = 32;

        private readonly List<Level> _levels = [];
        // The name hashes of every open object, each object's contiguous from its level's start:
        // an inner object's are dropped when it closes, before its parent's next name.
        private readonly List<ulong> _nameHashes = [];
        private readonly HashSet<(int Object, ulong Name)> _names = [];
        private byte[] _text = new byte[256];
        private int _objects;

        public int Depth => _levels.Count;

        public void Reset()
        {
            _levels.Clear();
            _nameHashes.Clear();
            _names.Clear();
            _objects = 0;
        }

        public Span<byte> Text(int length)
        {
            if (_text.Length < length)
            {
                _text = new byte[Math.Max(length, _text.Length * 2)];
            }
            return _text;
        }

        public void Enter(bool isObject)
        {
            Value();
            _levels.Add(new Level(isObject ? ++_objects : 0, 0, 0, 0, _nameHashes.Count));
        }

        public void Leave()
        {
            var level = _levels[^1];
            if (level.Object != 0)
            {
                _nameHashes.RemoveRange(level.NamesStart, _nameHashes.Count - level.NamesStart);
            }
            _levels.RemoveAt(_levels.Count - 1);
        }

        /// <summary>A value begins: an array counts its items.</summary>
        public void Value()
        {
            if (_levels.Count > 0 && _levels[^1].Object == 0)
            {
                ref var level = ref CollectionsMarshal.AsSpan(_levels)[^1];
                level.Index++;
            }
        }

        /// <summary>Where the current name of the innermost object is written (raw, as in the event).</summary>
        public void Name(ReadOnlySpan<byte> json, int start, int length)
        {
            ref var level = ref CollectionsMarshal.AsSpan(_levels)[^1];
            (level.NameStart, level.NameLength) = (start, Math.Min(length, json.Length - start));
        }

        /// <summary>False when the innermost object already has this name.</summary>
        public bool IsNew(ReadOnlySpan<byte> name)
        {
            var hash = XxHash3.HashToUInt64(name, Seed);
            var level = _levels[^1];
            var seen = CollectionsMarshal.AsSpan(_nameHashes)[level.NamesStart..];
            if (seen.Length < LinearNames)
            {
                // Most objects have a few names: comparing them beats hashing into a set.
                if (seen.Contains(hash))
                {
                    return false;
                }
                _nameHashes.Add(hash);
                return true;
            }
            if (seen.Length == LinearNames)
            {
                foreach (var earlier in seen)
                {
                    _names.Add((level.Object, earlier));
                }
                _nameHashes.Add(0); // past the linear part: only the count matters from here on
            }
            return _names.Add((level.Object, hash));
        }

        /// <summary>The JSONPath of the current place, names as written: <c>$.a.b[2]</c>.</summary>
        public string Path(ReadOnlySpan<byte> json, bool withCurrentName = true)
        {
            var path = new StringBuilder("$");
            for (var i = 0; i < _levels.Count; i++)
            {
                var level = _levels[i];
                if (!withCurrentName && i == _levels.Count - 1)
                {
                    break;
                }
                if (level.Object == 0)
                {
                    path.Append('[').Append(Math.Max(0, level.Index - 1)).Append(']');
                }
                else if (level.NameLength > 0 || level.NameStart > 0)
                {
                    var name = Encoding.UTF8.GetString(json.Slice(level.NameStart, Math.Min(level.NameLength, 64)));
                    path.Append('.').Append(name).Append(level.NameLength > 64 ? "..." : string.Empty);
                }
            }
            return path.ToString();
        }

        /// <summary>One open object (its number in the event) or array (0, and how many items began), and where its name hashes start.</summary>
        private record struct Level(int Object, int Index, int NameStart, int NameLength, int NamesStart);
    }
}
