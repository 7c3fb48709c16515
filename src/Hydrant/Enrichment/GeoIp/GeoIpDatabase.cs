using System.Net;
using MaxMind.Db;
using MaxMind.GeoIP2;

namespace Hydrant.Enrichment.GeoIp;

/// <summary>Which MaxMind database a path is for: a City (or Country) database, or an ASN one.</summary>
public enum GeoIpKind
{
    City,
    Asn,
}

/// <summary>What a MaxMind database knows of an address; null where it knows nothing.</summary>
public sealed record GeoFacts(string? CountryIsoCode, string? CountryName, string? CityName, double? Latitude, double? Longitude, long? AsNumber, string? AsOrganization)
{
    public static GeoFacts None { get; } = new(null, null, null, null, null, null, null);

    public bool IsEmpty => this == None;
}

/// <summary>
/// One MaxMind (.mmdb) database a user supplies, read with MaxMind's own reader (MaxMind.GeoIP2),
/// held in memory so that a file replaced under it changes nothing until it is reloaded. A file
/// that is no database of its kind, or that fails a probe of a few lookups, is refused with the
/// reason (at start, or at reload, which then keeps the database it had); a lookup the reader
/// still fails on (a corrupt record the probe did not reach) answers nothing and is counted,
/// never thrown into ingest.
/// </summary>
public sealed class GeoIpDatabase : IDisposable
{
    private static readonly string[] Probes = ["1.1.1.1", "8.8.8.8", "81.2.69.142", "89.160.20.128", "175.16.199.0", "2001:db8::1", "2a02:d280::1"];

    private readonly string _path;
    private readonly GeoIpKind _kind;
    private (DatabaseReader Reader, FileStamp Stamp) _current;
    private FileStamp? _refused;
    private long _failedLookups;
    private long _generation;

    private GeoIpDatabase(string path, GeoIpKind kind, (DatabaseReader, FileStamp) current)
    {
        _path = path;
        _kind = kind;
        _current = current;
    }

    /// <summary>The database's type as its metadata says (GeoLite2-City, GeoIP2-ASN, ...).</summary>
    public string DatabaseType => _current.Reader.Metadata.DatabaseType;

    /// <summary>Lookups the reader failed on since start (each answered with nothing).</summary>
    public long FailedLookups => Interlocked.Read(ref _failedLookups);

    /// <summary>Opens the database, or throws <see cref="InvalidDataException"/> naming the file and why it cannot be used.</summary>
    public static GeoIpDatabase Open(string path, GeoIpKind kind) => new(path, kind, Load(path, kind));

    /// <summary>How many times the database was reloaded: what a cache of its answers is valid for.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The file the database is read from.</summary>
    public string Path => _path;

    /// <summary>
    /// Reloads the file when its time or length changed; a file that cannot be used is refused
    /// (the reason answered, once per version of the file) and the database kept.
    /// </summary>
    public bool ReloadIfChanged(out string? refusal)
    {
        refusal = null;
        if (FileStamp.Of(_path) is not { } stamp || stamp == _current.Stamp || stamp == _refused)
        {
            return false;
        }
        try
        {
            var old = _current;
            _current = Load(_path, _kind);
            Interlocked.Increment(ref _generation);
            old.Reader.Dispose();
            return true;
        }
        catch (InvalidDataException e)
        {
            _refused = stamp;
            refusal = e.Message + "; the database loaded before is kept";
            return false;
        }
    }

    /// <summary>What the database knows of the address (text, IPv4 or IPv6); nothing for an address it does not hold or cannot read.</summary>
    public GeoFacts Lookup(string address)
    {
        if (!IPAddress.TryParse(address, out var ip))
        {
            return GeoFacts.None;
        }
        try
        {
            return Lookup(_current.Reader, _kind, ip);
        }
        catch (Exception e) when (IsReaderFailure(e))
        {
            Interlocked.Increment(ref _failedLookups);
            return GeoFacts.None;
        }
    }

    public void Dispose() => _current.Reader.Dispose();

    /// <summary>What MaxMind's reader throws on bytes that are not the database they claim to be (each seen on the corpus's corrupt databases).</summary>
    private static bool IsReaderFailure(Exception e) =>
        e is InvalidDatabaseException or DeserializationException or MaxMind.GeoIP2.Exceptions.GeoIP2Exception
            or InvalidOperationException or ArgumentException or IndexOutOfRangeException or OverflowException or InvalidCastException;

    private static GeoFacts Lookup(DatabaseReader reader, GeoIpKind kind, IPAddress ip)
    {
        if (kind == GeoIpKind.Asn)
        {
            return reader.TryAsn(ip, out var asn) && asn is not null
                ? GeoFacts.None with { AsNumber = asn.AutonomousSystemNumber, AsOrganization = asn.AutonomousSystemOrganization }
                : GeoFacts.None;
        }
        if (reader.Metadata.DatabaseType.Contains("City", StringComparison.OrdinalIgnoreCase) || reader.Metadata.DatabaseType.Contains("Enterprise", StringComparison.OrdinalIgnoreCase))
        {
            return reader.TryCity(ip, out var city) && city is not null
                ? new GeoFacts(city.Country.IsoCode, city.Country.Name, city.City.Name, city.Location.Latitude, city.Location.Longitude, null, null)
                : GeoFacts.None;
        }
        return reader.TryCountry(ip, out var country) && country is not null
            ? GeoFacts.None with { CountryIsoCode = country.Country.IsoCode, CountryName = country.Country.Name }
            : GeoFacts.None;
    }

    /// <summary>The database and the file's stamp taken before it was read, so a change while it is read is seen at the next check.</summary>
    private static (DatabaseReader, FileStamp) Load(string path, GeoIpKind kind)
    {
        if (FileStamp.Of(path) is not { } stamp)
        {
            throw new InvalidDataException($"the GeoIP database {path} does not exist");
        }
        DatabaseReader reader;
        try
        {
            reader = new DatabaseReader(path, FileAccessMode.Memory);
        }
        catch (Exception e) when (e is IOException || IsReaderFailure(e))
        {
            throw new InvalidDataException($"{path} is not a MaxMind database that can be read: {e.Message}", e);
        }
        var type = reader.Metadata.DatabaseType ?? string.Empty;
        var fits = kind == GeoIpKind.Asn
            ? type.Contains("ASN", StringComparison.OrdinalIgnoreCase) || type.Contains("ISP", StringComparison.OrdinalIgnoreCase)
            : type.Contains("City", StringComparison.OrdinalIgnoreCase) || type.Contains("Country", StringComparison.OrdinalIgnoreCase) || type.Contains("Enterprise", StringComparison.OrdinalIgnoreCase);
        if (!fits)
        {
            reader.Dispose();
            throw new InvalidDataException($"{path} is a {(type.Length == 0 ? "database of no type" : type)} database, not {(kind == GeoIpKind.Asn ? "an ASN" : "a City or Country")} one");
        }
        try
        {
            foreach (var probe in Probes)
            {
                Lookup(reader, kind, IPAddress.Parse(probe));
            }
        }
        catch (Exception e) when (IsReaderFailure(e))
        {
            reader.Dispose();
            throw new InvalidDataException($"{path} is corrupt: {e.Message}", e);
        }
        return (reader, stamp);
    }
}
