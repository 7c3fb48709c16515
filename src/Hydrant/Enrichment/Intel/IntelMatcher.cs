using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;

namespace Hydrant.Enrichment.Intel;

/// <summary>
/// Which lists hold an address or a domain. The lists' networks are merged into disjoint ranges
/// of addresses (one sorted array for IPv4, one for IPv6), each labelled with the set of lists
/// that cover it, so a lookup is one binary search, whatever the lists' sizes and overlaps, and
/// allocates nothing: the answer is one of the label arrays made at build time. No .NET library
/// served here keeps a set of networks for lookup (System.Net.IPNetwork tests one), so this is
/// Hydrant's own (docs/enrichment.md). At most <see cref="MaxLists"/> lists.
/// </summary>
public sealed class IntelMatcher
{
    public const int MaxLists = 64;

    private readonly Ranges<uint> _v4;
    private readonly Ranges<UInt128> _v6;
    private readonly Dictionary<string, ulong> _domains;
    private readonly Dictionary<string, ulong>.AlternateLookup<ReadOnlySpan<char>> _domainLookup;
    private readonly Dictionary<ulong, string[]> _names = [];

    public static IntelMatcher Empty { get; } = Build([]);

    private IntelMatcher(IReadOnlyList<IntelList> lists)
    {
        if (lists.Count > MaxLists)
        {
            throw new InvalidDataException($"at most {MaxLists} intel lists, got {lists.Count}");
        }
        Lists = lists;
        var v4 = new List<(uint Start, uint End, int List)>();
        var v6 = new List<(UInt128 Start, UInt128 End, int List)>();
        _domains = new Dictionary<string, ulong>(StringComparer.OrdinalIgnoreCase);
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < lists.Count; i++)
        {
            foreach (var network in lists[i].Networks)
            {
                network.BaseAddress.TryWriteBytes(bytes, out var written);
                if (written == 4)
                {
                    var start = BinaryPrimitives.ReadUInt32BigEndian(bytes);
                    // A shift by the type's width shifts by nothing in C#: /0 and /32 are said apart.
                    var end = network.PrefixLength switch { 0 => uint.MaxValue, 32 => start, var p => start | (uint.MaxValue >> p) };
                    v4.Add((start, end, i));
                }
                else
                {
                    var start = BinaryPrimitives.ReadUInt128BigEndian(bytes);
                    var end = network.PrefixLength switch { 0 => UInt128.MaxValue, 128 => start, var p => start | (UInt128.MaxValue >> p) };
                    v6.Add((start, end, i));
                }
            }
            foreach (var domain in lists[i].Domains)
            {
                _domains[domain] = _domains.GetValueOrDefault(domain) | (1UL << i);
            }
        }
        _v4 = Ranges<uint>.Merge(v4);
        _v6 = Ranges<UInt128>.Merge(v6);
        _domainLookup = _domains.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var mask in _v4.Labels.Concat(_v6.Labels).Concat(_domains.Values).Append(0UL))
        {
            _names.TryAdd(mask, [.. Enumerable.Range(0, lists.Count).Where(i => (mask & (1UL << i)) != 0).Select(i => lists[i].Name)]);
        }
    }

    public IReadOnlyList<IntelList> Lists { get; }

    /// <summary>Disjoint ranges the lists were merged into (IPv4 and IPv6), for the pipeline view and benchmarks.</summary>
    public int RangeCount => _v4.Count + _v6.Count;

    /// <summary>How many IPv4 addresses the lists cover together (firehol_level1 alone: 632,286,314, its bogons included).</summary>
    public long IPv4Covered => _v4.Covered;

    public static IntelMatcher Build(IReadOnlyList<IntelList> lists) => new(lists);

    /// <summary>The names of the lists holding the address (its text: dotted IPv4 or IPv6), in list order; empty when none, or when it is no address.</summary>
    public string[] ListsHolding(ReadOnlySpan<char> address)
    {
        if (TryParseIPv4(address, out var v4))
        {
            return _names[_v4.Find(v4)];
        }
        if (_v6.Count > 0 && address.Contains(':') && IPAddress.TryParse(address, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (ip.IsIPv4MappedToIPv6)
            {
                return _names[_v4.Find(BinaryPrimitives.ReadUInt32BigEndian(ip.MapToIPv4().GetAddressBytes()))];
            }
            Span<byte> bytes = stackalloc byte[16];
            ip.TryWriteBytes(bytes, out _);
            return _names[_v6.Find(BinaryPrimitives.ReadUInt128BigEndian(bytes))];
        }
        return _names[0];
    }

    /// <summary>The names of the lists holding the domain or one of its parents (<c>a.evil.example</c> is held by <c>evil.example</c>).</summary>
    public string[] ListsHoldingDomain(ReadOnlySpan<char> domain)
    {
        var mask = 0UL;
        domain = domain.TrimEnd('.');
        while (!domain.IsEmpty && _domains.Count > 0)
        {
            if (_domainLookup.TryGetValue(domain, out var lists))
            {
                mask |= lists;
            }
            var dot = domain.IndexOf('.');
            domain = dot < 0 ? [] : domain[(dot + 1)..];
        }
        return _names.TryGetValue(mask, out var names) ? names : NamesOf(mask);
    }

    // A domain's parents can make a mask no single entry has: made on demand, rare.
    private string[] NamesOf(ulong mask) => [.. Enumerable.Range(0, Lists.Count).Where(i => (mask & (1UL << i)) != 0).Select(i => Lists[i].Name)];

    /// <summary>Dotted-quad IPv4 only (four decimal parts, 0-255, no leading sign), without allocating.</summary>
    internal static bool TryParseIPv4(ReadOnlySpan<char> text, out uint address)
    {
        address = 0;
        var parts = 0;
        var value = -1;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (value < 0 || ++parts > 3)
                {
                    return false;
                }
                address = (address << 8) | (uint)value;
                value = -1;
            }
            else if (char.IsAsciiDigit(c))
            {
                value = value < 0 ? c - '0' : (value * 10) + (c - '0');
                if (value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }
        if (value < 0 || parts != 3)
        {
            return false;
        }
        address = (address << 8) | (uint)value;
        return true;
    }

    /// <summary>Disjoint, sorted ranges, each with the mask of the lists that cover it.</summary>
    private sealed class Ranges<T>
        where T : struct, IBinaryInteger<T>, IMinMaxValue<T>
    {
        private readonly T[] _starts;
        private readonly T[] _ends;
        private readonly ulong[] _labels;

        private Ranges(T[] starts, T[] ends, ulong[] labels) => (_starts, _ends, _labels) = (starts, ends, labels);

        public int Count => _starts.Length;

        public IEnumerable<ulong> Labels => _labels;

        public long Covered => (long)_starts.Zip(_ends).Sum(r => double.CreateSaturating(r.Second - r.First) + 1);

        /// <summary>The lists covering the address: 0 when none.</summary>
        public ulong Find(T address)
        {
            var index = Array.BinarySearch(_starts, address);
            if (index < 0)
            {
                index = ~index - 1;
            }
            return index >= 0 && address <= _ends[index] ? _labels[index] : 0;
        }

        /// <summary>Sweeps the networks' starts and ends in address order, counting per list, into disjoint ranges; neighbours with the same lists join.</summary>
        public static Ranges<T> Merge(List<(T Start, T End, int List)> networks)
        {
            var points = new List<(T At, bool Opens, int List)>(networks.Count * 2);
            foreach (var (start, end, list) in networks)
            {
                points.Add((start, true, list));
                if (end != T.MaxValue)
                {
                    points.Add((end + T.One, false, list));
                }
            }
            // At one address, closings first: a range that ends just before another begins does not overlap it.
            points.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Opens.CompareTo(b.Opens));
            var open = new int[MaxLists];
            var mask = 0UL;
            var starts = new List<T>();
            var ends = new List<T>();
            var labels = new List<ulong>();
            for (var i = 0; i < points.Count;)
            {
                var at = points[i].At;
                for (; i < points.Count && points[i].At == at; i++)
                {
                    var (_, opens, list) = points[i];
                    open[list] += opens ? 1 : -1;
                    mask = open[list] > 0 ? mask | (1UL << list) : mask & ~(1UL << list);
                }
                var until = i < points.Count ? points[i].At - T.One : T.MaxValue;
                if (mask == 0)
                {
                    continue;
                }
                if (labels.Count > 0 && labels[^1] == mask && ends[^1] + T.One == at)
                {
                    ends[^1] = until;
                }
                else
                {
                    starts.Add(at);
                    ends.Add(until);
                    labels.Add(mask);
                }
            }
            return new Ranges<T>([.. starts], [.. ends], [.. labels]);
        }
    }
}
