using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Hydrant.Detection.Sigma;
using Hydrant.Enrichment.GeoIp;
using Hydrant.Enrichment.Intel;
using Hydrant.Events;

namespace Hydrant.Enrichment;

/// <summary>
/// Adds what is known of an event's addresses to it at ingest, so a query years later shows
/// what was known when it arrived: one reserved object, <c>enrichment</c>, with <c>geo</c>
/// (<c>country_iso_code</c>, <c>country_name</c>, <c>city_name</c>, <c>location</c> {<c>lat</c>,
/// <c>lon</c>}), <c>as</c> (<c>number</c>, <c>organization</c>) and <c>intel</c> (the names of the
/// lists that hold the address) for its sourceIP, and the same under <c>fields.{name}</c> for each
/// configured top-level field that holds an address (docs/enrichment.md), and, when a list holds
/// one of them, <c>intel_level</c>: the highest level of those lists, which the built-in "Connection
/// from a listed address" rules select on. Nothing known, nothing added. The intel lists can be
/// replaced while it runs (<see cref="Intel"/>); how often each list held an event's address is
/// counted (<see cref="HitsOf"/>).
/// </summary>
/// <remarks>
/// What is known of an address is kept, written as JSON, in a bounded cache valid for one version
/// of the lists and databases: a stream sends the same sources again and again, so most events
/// cost one dictionary lookup and a copy (BENCHMARKS.md "Enrichment").
/// </remarks>
public sealed class Enricher(GeoIpDatabase? city, GeoIpDatabase? asn, IntelMatcher intel, IReadOnlyList<string> fields) : IDisposable
{
    /// <summary>Addresses whose facts are kept; past it the cache starts again.</summary>
    public const int CacheSize = 65_536;

    /// <summary>The name no event may bring (it is refused by index): Hydrant's own.</summary>
    public static ReadOnlySpan<byte> ReservedField => "enrichment"u8;

    private readonly (byte[] Utf8, byte[] Key)[] _fields = [.. fields.Distinct(StringComparer.Ordinal)
        .Select(f => (System.Text.Encoding.UTF8.GetBytes(f), System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(f) + ":{")))];

    private static readonly byte[][] LevelsUtf8 = [.. SigmaLevels.All.Select(System.Text.Encoding.UTF8.GetBytes)];

    private readonly ConcurrentDictionary<string, StrongBox<long>> _hits = new(StringComparer.Ordinal);
    private volatile IntelState _intel = new(intel);
    private volatile FactCache _cache = new(null, -1, -1);

    public GeoIpDatabase? City => city;

    public GeoIpDatabase? Asn => asn;

    /// <summary>The lists matched now; replaced whole when a list changes, for the events after.</summary>
    public IntelMatcher Intel
    {
        get => _intel.Matcher;
        set => _intel = new IntelState(value);
    }

    public bool Enabled => city is not null || asn is not null || _intel.Matcher.Lists.Count > 0;

    /// <summary>Addresses of events the list held since start (an event's sourceIP and each of its configured fields count apart).</summary>
    public long HitsOf(string list) => _hits.TryGetValue(list, out var hits) ? Interlocked.Read(ref hits.Value) : 0;

    /// <summary>Writes the event (canonical JSON) with its enrichment object added; false (nothing written) when nothing is known of its addresses.</summary>
    public bool TryEnrich(ReadOnlySpan<byte> json, string sourceIP, ArrayBufferWriter<byte> output, ArrayBufferWriter<byte> scratch)
    {
        var state = _intel;
        var cache = CacheFor(state);
        var source = KnownOf(sourceIP, state, cache, scratch);
        List<(byte[] Key, Known Known)>? known = null;
        if (_fields.Length > 0)
        {
            foreach (var (key, address) in FieldAddresses(json))
            {
                if (KnownOf(address, state, cache, scratch) is { IsEmpty: false } facts)
                {
                    (known ??= []).Add((key, facts));
                }
            }
        }
        if (source.IsEmpty && known is null)
        {
            return false;
        }
        var level = source.Level;
        Count(source);
        foreach (var (_, facts) in known ?? [])
        {
            level = Math.Max(level, facts.Level);
            Count(facts);
        }
        // The canonical event is one object: the enrichment goes in before its closing brace.
        var end = json.LastIndexOf((byte)'}');
        output.Write(json[..end]);
        output.Write(",\"enrichment\":{"u8);
        output.Write(source.Json);
        if (known is not null)
        {
            output.Write(source.IsEmpty ? "\"fields\":{"u8 : ",\"fields\":{"u8);
            for (var i = 0; i < known.Count; i++)
            {
                output.Write(i == 0 ? [] : ","u8);
                output.Write(known[i].Key);
                output.Write(known[i].Known.Json);
                output.Write("}"u8);
            }
            output.Write("}"u8);
        }
        if (level >= 0)
        {
            output.Write(",\"intel_level\":\""u8);
            output.Write(LevelsUtf8[level]);
            output.Write("\""u8);
        }
        output.Write("}}"u8);
        return true;
    }

    private static void Count(Known known)
    {
        foreach (var counter in known.Counters)
        {
            Interlocked.Increment(ref counter.Value);
        }
    }

    /// <summary>The cache for the lists and databases as they are now: a new, empty one when any of them changed.</summary>
    private FactCache CacheFor(IntelState state)
    {
        var cache = _cache;
        var (cityGeneration, asnGeneration) = (city?.Generation ?? 0, asn?.Generation ?? 0);
        if (!ReferenceEquals(cache.State, state) || cache.CityGeneration != cityGeneration || cache.AsnGeneration != asnGeneration)
        {
            _cache = cache = new FactCache(state, cityGeneration, asnGeneration);
        }
        return cache;
    }

    private Known KnownOf(string address, IntelState state, FactCache cache, ArrayBufferWriter<byte> scratch)
    {
        if (cache.Facts.TryGetValue(address, out var known))
        {
            return known;
        }
        known = Look(address, state, scratch);
        // ConcurrentDictionary.Count takes every lock: the cache counts its own additions.
        if (cache.Facts.TryAdd(address, known) && Interlocked.Increment(ref cache.Added) >= CacheSize)
        {
            cache.Facts.Clear();
            Interlocked.Exchange(ref cache.Added, 0);
        }
        return known;
    }

    /// <summary>Asks the databases and the lists, and writes what they know as the members of one JSON object.</summary>
    private Known Look(string address, IntelState state, ArrayBufferWriter<byte> scratch)
    {
        var geo = city?.Lookup(address) ?? GeoFacts.None;
        if (asn?.Lookup(address) is { IsEmpty: false } network)
        {
            geo = geo with { AsNumber = network.AsNumber, AsOrganization = network.AsOrganization };
        }
        var lists = state.Matcher.ListsHolding(address);
        if (geo.IsEmpty && lists.Length == 0)
        {
            return Known.Nothing;
        }
        scratch.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(scratch))
        {
            // Members only: the caller puts them in the object they belong to.
            writer.WriteStartObject();
            if (geo.CountryIsoCode is not null || geo.CityName is not null || geo.Latitude is not null)
            {
                writer.WriteStartObject("geo");
                WriteIf(writer, "country_iso_code", geo.CountryIsoCode);
                WriteIf(writer, "country_name", geo.CountryName);
                WriteIf(writer, "city_name", geo.CityName);
                if (geo.Latitude is { } lat && geo.Longitude is { } lon)
                {
                    writer.WriteStartObject("location");
                    writer.WriteNumber("lat", lat);
                    writer.WriteNumber("lon", lon);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            if (geo.AsNumber is { } number)
            {
                writer.WriteStartObject("as");
                writer.WriteNumber("number", number);
                WriteIf(writer, "organization", geo.AsOrganization);
                writer.WriteEndObject();
            }
            if (lists.Length > 0)
            {
                writer.WriteStartArray("intel");
                foreach (var name in lists)
                {
                    writer.WriteStringValue(name);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        var members = scratch.WrittenSpan[1..^1].ToArray();
        var level = lists.Length == 0 ? -1 : lists.Max(l => state.Rank[l]);
        return new Known(members, level, [.. lists.Select(l => _hits.GetOrAdd(l, static _ => new StrongBox<long>()))]);
    }

    private static void WriteIf(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>The configured top-level fields that hold a string, with their values; names compared as UTF-8, nothing allocated for the others.</summary>
    private List<(byte[] Key, string Address)> FieldAddresses(ReadOnlySpan<byte> json)
    {
        List<(byte[], string)>? found = null;
        var reader = new Utf8JsonReader(json, EventShape.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = -1;
            for (var i = 0; i < _fields.Length && field < 0; i++)
            {
                field = reader.ValueTextEquals(_fields[i].Utf8) ? i : -1;
            }
            reader.Read();
            if (field >= 0 && reader.TokenType == JsonTokenType.String)
            {
                (found ??= []).Add((_fields[field].Key, reader.GetString()!));
            }
            else
            {
                reader.Skip();
            }
        }
        return found ?? [];
    }

    public void Dispose()
    {
        city?.Dispose();
        asn?.Dispose();
    }

    /// <summary>The lists matched now and each one's level (its <see cref="SigmaLevels.Rank"/>), swapped together.</summary>
    private sealed class IntelState(IntelMatcher matcher)
    {
        public IntelMatcher Matcher { get; } = matcher;

        public Dictionary<string, int> Rank { get; } = matcher.Lists.ToDictionary(l => l.Name, l => Math.Max(0, SigmaLevels.Rank(l.Options.Level)), StringComparer.Ordinal);
    }

    /// <summary>What is known of addresses, for one version of the lists and databases.</summary>
    private sealed class FactCache(IntelState? state, long cityGeneration, long asnGeneration)
    {
        public IntelState? State { get; } = state;

        public long CityGeneration { get; } = cityGeneration;

        public long AsnGeneration { get; } = asnGeneration;

        public ConcurrentDictionary<string, Known> Facts { get; } = new(StringComparer.Ordinal);

        /// <summary>Facts added since the cache was last emptied.</summary>
        public int Added;
    }

    /// <summary>An address's facts as the members of its enrichment object (empty: nothing known), the highest level of the lists holding it (-1: none), and their hit counters.</summary>
    private sealed record Known(byte[] Json, int Level, StrongBox<long>[] Counters)
    {
        public static Known Nothing { get; } = new([], -1, []);

        public bool IsEmpty => Json.Length == 0;
    }
}
