using System.Globalization;
using System.Text.RegularExpressions;
using Hydrant.Enrichment.Intel;

namespace Hydrant.Tests.Enrichment;

/// <summary>Threat-intel lists read and matched: the corpus's four FireHOL lists, and hostile or odd lists beside them.</summary>
public sealed partial class IntelMatcherTests
{
    private static readonly string[] FireHol = ["firehol_level1.netset", "spamhaus_drop.netset", "feodo.ipset", "dshield.netset"];

    private static IntelList Read(string file)
    {
        using var text = File.OpenText(Corpus.Path("threat-intel", "firehol", file));
        return IntelList.Parse(Path.GetFileNameWithoutExtension(file), text, new IntelListOptions());
    }

    private static IntelList List(string name, string text, IntelListOptions? options = null) =>
        IntelList.Parse(name, new StringReader(text), options ?? new IntelListOptions());

    [GeneratedRegex(@"^# Entries\s*:\s*(?:(\d+) subnets, )?(\d+) unique IPs", RegexOptions.Multiline)]
    private static partial Regex EntriesLine();

    [Theory]
    [InlineData("firehol_level1.netset")]
    [InlineData("spamhaus_drop.netset")]
    [InlineData("feodo.ipset")]
    [InlineData("dshield.netset")]
    public void A_firehol_list_reads_whole_and_covers_the_addresses_its_header_counts(string file)
    {
        var list = Read(file);
        var header = EntriesLine().Match(File.ReadAllText(Corpus.Path("threat-intel", "firehol", file)));
        Assert.True(header.Success);
        Assert.Empty(list.Problems);
        Assert.Equal(long.Parse(header.Groups[2].Value, CultureInfo.InvariantCulture), IntelMatcher.Build([list]).IPv4Covered);
        var lines = File.ReadLines(Corpus.Path("threat-intel", "firehol", file)).Count(l => l.Length > 0 && l[0] != '#');
        Assert.Equal(lines, list.Count);
    }

    [Fact]
    public void The_firehol_lists_answer_which_hold_an_address_level1_holding_the_private_ranges()
    {
        var matcher = IntelMatcher.Build([.. FireHol.Select(Read)]);

        // firehol_level1 includes the bogons: every private lab address is "listed".
        Assert.Equal(["firehol_level1"], matcher.ListsHolding("10.47.1.2"));
        Assert.Equal(["firehol_level1"], matcher.ListsHolding("192.168.0.1"));
        Assert.Empty(matcher.ListsHolding("8.8.8.8"));
        // feodo's first entry: also in level1, which includes feodo.
        Assert.Equal(["firehol_level1", "feodo"], matcher.ListsHolding("1.178.179.217"));
        Assert.Empty(matcher.ListsHolding("not an address"));
        Assert.Empty(matcher.ListsHolding("1.178.179.256"));
        // Every entry of the other three lies inside level1.
        foreach (var list in FireHol.Skip(1).Select(Read))
        {
            Assert.All(list.Networks, n => Assert.Contains("firehol_level1", matcher.ListsHolding(n.BaseAddress.ToString())));
        }
    }

    [Fact]
    public void Overlapping_networks_answer_every_list_that_holds_the_address_up_to_their_edges()
    {
        var matcher = IntelMatcher.Build([List("wide", "10.0.0.0/8\n"), List("narrow", "10.1.0.0/16\n10.1.0.5\n"), List("v6", "2001:db8::/32\n::ffff:203.0.113.0/120\n")]);

        Assert.Equal(["wide", "narrow"], matcher.ListsHolding("10.1.2.3"));
        Assert.Equal(["wide", "narrow"], matcher.ListsHolding("10.1.0.5"));
        Assert.Equal(["wide"], matcher.ListsHolding("10.2.0.0"));
        Assert.Equal(["wide"], matcher.ListsHolding("10.255.255.255"));
        Assert.Empty(matcher.ListsHolding("11.0.0.0"));
        Assert.Empty(matcher.ListsHolding("9.255.255.255"));
        Assert.Equal(["v6"], matcher.ListsHolding("2001:db8:1::7"));
        Assert.Empty(matcher.ListsHolding("2001:db9::1"));
        // An IPv4-mapped address is its IPv4 address.
        Assert.Equal(["wide", "narrow"], matcher.ListsHolding("::ffff:10.1.2.3"));
    }

    [Fact]
    public void A_hostile_list_has_its_bad_lines_named_and_too_many_entries_refused_whole()
    {
        var list = List("odd", "# header\n1.2.3.4 # trailing comment\n\n1.2.3.999\nnot-an-ip\n10.1.2.3/8\n" + new string('x', 2000) + "\n300.1.1.1/24\n1.2.3.4/33\n");
        Assert.Equal(2, list.Count);
        Assert.Equal(["line 4: not an IP address or network", "line 5: not an IP address or network", "line 7: longer than 1024 characters", "line 8: not an IP address or network", "line 9: not an IP address or network"], list.Problems);
        // A network with bits set past its prefix is taken as the network.
        Assert.Equal(["odd"], IntelMatcher.Build([list]).ListsHolding("10.200.0.1"));

        var error = Assert.Throws<InvalidDataException>(() => List("huge", string.Concat(Enumerable.Range(0, 11).Select(i => $"10.0.0.{i}\n")), new IntelListOptions { MaxEntries = 10 }));
        Assert.Contains("'huge' holds more than 10 entries", error.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => IntelMatcher.Build([.. Enumerable.Range(0, 65).Select(i => List($"l{i}", "1.1.1.1\n"))]));
    }

    [Fact]
    public void Csv_lists_read_their_column_and_domain_lists_cover_subdomains()
    {
        var csv = List("c2", "first_seen,dst_ip,port\n2024-01-01,198.51.100.7,443\n\"2024-01-02\",\"198.51.100.8\",80\n2024-01-03\n", new IntelListOptions { Format = IntelListFormat.Csv, Column = 1 });
        Assert.Equal(2, csv.Count);
        Assert.Equal(["line 4: no column 1"], csv.Problems);

        var domains = List("phish", "evil.example\nEVIL2.example.\nbad domain\n-x.example\n", new IntelListOptions { Format = IntelListFormat.Domains });
        Assert.Equal(["line 3: not a domain name", "line 4: not a domain name"], domains.Problems);
        var matcher = IntelMatcher.Build([csv, domains]);
        Assert.Equal(["c2"], matcher.ListsHolding("198.51.100.8"));
        Assert.Equal(["phish"], matcher.ListsHoldingDomain("login.evil.example"));
        Assert.Equal(["phish"], matcher.ListsHoldingDomain("evil2.EXAMPLE"));
        Assert.Empty(matcher.ListsHoldingDomain("notevil.example"));
        Assert.Empty(matcher.ListsHoldingDomain("example"));
    }
}
