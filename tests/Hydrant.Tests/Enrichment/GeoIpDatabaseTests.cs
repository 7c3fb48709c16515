using Hydrant.Enrichment.GeoIp;
using Xunit.Abstractions;

namespace Hydrant.Tests.Enrichment;

/// <summary>MaxMind databases as a user supplies them: MaxMind's test databases, the corrupt ones beside them, and a file replaced under a running reader.</summary>
public sealed class GeoIpDatabaseTests(ITestOutputHelper output)
{
    private static readonly string[] BrokenTestData = ["MaxMind-DB-test-broken-pointers-24.mmdb", "GeoIP2-City-Test-Broken-Double-Format.mmdb", "GeoIP2-City-Test-Invalid-Node-Count.mmdb"];
    private static readonly string[] Addresses = ["1.1.1.1", "81.2.69.160", "::1", "2001:220::1", "255.255.255.255"];

    private static string TestData(string name) => Corpus.Path("geoip", "maxmind-test-data", "test-data", name);

    [Fact]
    public void A_city_and_an_asn_database_answer_what_they_know_of_an_address()
    {
        using var city = GeoIpDatabase.Open(TestData("GeoIP2-City-Test.mmdb"), GeoIpKind.City);
        using var asn = GeoIpDatabase.Open(TestData("GeoLite2-ASN-Test.mmdb"), GeoIpKind.Asn);

        var london = city.Lookup("81.2.69.142");
        Assert.Equal(("GB", "United Kingdom", "London"), (london.CountryIsoCode, london.CountryName, london.CityName));
        Assert.NotNull(london.Latitude);
        Assert.Equal(city.Lookup("81.2.69.142"), city.Lookup("::ffff:81.2.69.142"));
        Assert.Equal("SE", city.Lookup("89.160.20.129").CountryIsoCode);
        Assert.True(city.Lookup("8.8.8.8").IsEmpty);
        Assert.True(city.Lookup("not an address").IsEmpty);
        Assert.Equal((1221L, "Telstra Pty Ltd"), (asn.Lookup("1.128.0.1").AsNumber, asn.Lookup("1.128.0.1").AsOrganization));
        Assert.True(asn.Lookup("10.0.0.1").IsEmpty);
        Assert.Equal(0, city.FailedLookups + asn.FailedLookups);
    }

    [Fact]
    public void A_database_of_the_wrong_kind_or_no_database_is_refused_naming_the_file()
    {
        var wrong = Assert.Throws<InvalidDataException>(() => GeoIpDatabase.Open(TestData("GeoLite2-ASN-Test.mmdb"), GeoIpKind.City));
        Assert.Contains("GeoLite2-ASN-Test.mmdb is a GeoLite2-ASN database, not a City or Country one", wrong.Message, StringComparison.Ordinal);
        var text = Assert.Throws<InvalidDataException>(() => GeoIpDatabase.Open(Corpus.Path("geoip", "maxmind-test-data", "SOURCE.md"), GeoIpKind.City));
        Assert.Contains("SOURCE.md is not a MaxMind database that can be read", text.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => GeoIpDatabase.Open("/nonexistent/GeoLite2-City.mmdb", GeoIpKind.City));
    }

    [Fact]
    public void Every_corrupt_database_is_refused_at_open_or_answers_nothing_never_a_crash()
    {
        var corrupt = Directory.GetFiles(Corpus.Path("geoip", "maxmind-test-data", "bad-data"), "*.mmdb", SearchOption.AllDirectories)
            .Concat(BrokenTestData.Select(TestData));
        foreach (var path in corrupt)
        {
            foreach (var kind in new[] { GeoIpKind.City, GeoIpKind.Asn })
            {
                try
                {
                    using var database = GeoIpDatabase.Open(path, kind);
                    foreach (var address in Addresses)
                    {
                        database.Lookup(address);
                    }
                    output.WriteLine($"{Path.GetFileName(path)} ({kind}): opened, {database.FailedLookups} lookups failed");
                }
                catch (InvalidDataException e)
                {
                    Assert.Contains(Path.GetFileName(path), e.Message, StringComparison.Ordinal);
                    output.WriteLine($"{Path.GetFileName(path)} ({kind}): refused: {e.Message}");
                }
            }
        }
    }

    [Fact]
    public void A_replaced_file_is_reloaded_and_a_corrupt_replacement_is_refused_keeping_what_was_loaded()
    {
        var path = Path.Combine(Path.GetTempPath(), "hydrant-geo-" + Guid.NewGuid().ToString("N") + ".mmdb");
        try
        {
            File.Copy(TestData("GeoLite2-Country-Test.mmdb"), path);
            using var database = GeoIpDatabase.Open(path, GeoIpKind.City);
            Assert.Null(database.Lookup("81.2.69.142").CityName);
            Assert.False(database.ReloadIfChanged(out _));

            File.Copy(TestData("GeoIP2-City-Test.mmdb"), path, overwrite: true);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
            Assert.True(database.ReloadIfChanged(out var none));
            Assert.Null(none);
            Assert.Equal("London", database.Lookup("81.2.69.142").CityName);

            File.Copy(TestData("GeoLite2-ASN-Test.mmdb"), path, overwrite: true);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(2));
            Assert.False(database.ReloadIfChanged(out var refusal));
            Assert.Contains("not a City or Country one; the database loaded before is kept", refusal, StringComparison.Ordinal);
            Assert.Equal("London", database.Lookup("81.2.69.142").CityName);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
