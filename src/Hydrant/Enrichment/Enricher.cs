using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
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
public sealed class Enricher(GeoIpDatabase? city, GeoIpDatabase? asn, IntelMatcher intel, IReadOnlyList<string> fields) : IDisposable
{
    /// <summary>The name no event may bring (it is refused by index): Hydrant's own.</summary>
    public static ReadOnlySpan<byte> ReservedField => "enrichment"u8;

    private readonly HashSet<string> _fields = new(fields, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _hits = new(StringComparer.Ordinal);
    private volatile IntelState _intel = new(intel);

    public static Enricher None { get; } = new(null, null, IntelMatcher.Empty, []);

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
        var intel = _intel;
        var source = Facts(sourceIP, intel.Matcher);
        var others = _fields.Count == 0 ? [] : FieldAddresses(json);
        var known = others.Select(f => (f.Name, Facts: Facts(f.Address, intel.Matcher))).Where(f => !f.Facts.IsEmpty).ToList();
        if (source.IsEmpty && known.Count == 0)
        {
            return false;
        }
        var level = -1;
        foreach (var list in source.Intel.Concat(known.SelectMany(k => k.Facts.Intel)))
        {
            level = Math.Max(level, intel.Rank[list]);
            Interlocked.Increment(ref _hits.GetOrAdd(list, static _ => new StrongBox<long>()).Value);
        }
        scratch.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(scratch))
        {
            writer.WriteStartObject();
            Write(writer, source);
            if (known.Count > 0)
            {
                writer.WriteStartObject("fields");
                foreach (var (name, facts) in known)
                {
                    writer.WriteStartObject(name);
                    Write(writer, facts);
                    writer.WriteEndObject();
                }
                writer.WriteEndObject();
            }
            if (level >= 0)
            {
                writer.WriteString("intel_level", IntelListOptions.Levels[level]);
            }
            writer.WriteEndObject();
        }
        // The canonical event is one object: the enrichment goes in before its closing brace.
        var end = json.LastIndexOf((byte)'}');
        output.Write(json[..end]);
        output.Write(",\"enrichment\":"u8);
        output.Write(scratch.WrittenSpan);
        output.Write("}"u8);
        return true;
    }

    private Known Facts(string address, IntelMatcher intel)
    {
        var geo = city?.Lookup(address) ?? GeoFacts.None;
        if (asn?.Lookup(address) is { IsEmpty: false } network)
        {
            geo = geo with { AsNumber = network.AsNumber, AsOrganization = network.AsOrganization };
        }
        return new Known(geo, intel.ListsHolding(address));
    }

    private static void Write(Utf8JsonWriter writer, Known known)
    {
        var geo = known.Geo;
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
        if (known.Intel.Length > 0)
        {
            writer.WriteStartArray("intel");
            foreach (var name in known.Intel)
            {
                writer.WriteStringValue(name);
            }
            writer.WriteEndArray();
        }
    }

    private static void WriteIf(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }

    /// <summary>The configured top-level fields that hold a string, with their values.</summary>
    private List<(string Name, string Address)> FieldAddresses(ReadOnlySpan<byte> json)
    {
        var found = new List<(string, string)>();
        var reader = new Utf8JsonReader(json, EventShape.ReaderOptions);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String && _fields.Contains(name))
            {
                found.Add((name, reader.GetString()!));
            }
            else
            {
                reader.Skip();
            }
        }
        return found;
    }

    public void Dispose()
    {
        city?.Dispose();
        asn?.Dispose();
    }

    /// <summary>The lists matched now and each one's level (its rank in <see cref="IntelListOptions.Levels"/>), swapped together.</summary>
    private sealed class IntelState(IntelMatcher matcher)
    {
        public IntelMatcher Matcher { get; } = matcher;

        public Dictionary<string, int> Rank { get; } = matcher.Lists.ToDictionary(l => l.Name, l => Math.Max(0, IntelListOptions.Levels.IndexOf(l.Options.Level)), StringComparer.Ordinal);
    }

    private sealed record Known(GeoFacts Geo, string[] Intel)
    {
        public bool IsEmpty => Geo.IsEmpty && Intel.Length == 0;
    }
}
