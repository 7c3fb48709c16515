using System.Globalization;
using System.Net;

namespace Hydrant.Enrichment.Intel;

/// <summary>How a list's text is laid out.</summary>
public enum IntelListFormat
{
    /// <summary>One address or network per line, <c>#</c> comments (FireHOL <c>.ipset</c> / <c>.netset</c>, most plain feeds).</summary>
    Lines,

    /// <summary>Comma-separated, the address or network in one column (<see cref="IntelListOptions.Column"/>), a header line allowed.</summary>
    Csv,

    /// <summary>One domain per line, <c>#</c> comments; a listed domain also covers its subdomains.</summary>
    Domains,
}

/// <summary>What to read from a list, how much of it to accept, and what an address on it means.</summary>
public sealed record IntelListOptions
{
    public IntelListFormat Format { get; init; } = IntelListFormat.Lines;

    /// <summary>The level (one of <see cref="Detection.Sigma.SigmaLevels"/>) of the built-in "Connection from a listed address" alert an address on the list raises.</summary>
    public string Level { get; init; } = "medium";

    /// <summary>For <see cref="IntelListFormat.Csv"/>: the column (from 0) that holds the address.</summary>
    public int Column { get; init; }

    /// <summary>Entries at most: a list past it is refused, not cut (a cut list would miss addresses silently).</summary>
    public int MaxEntries { get; init; } = 2_000_000;

    public const int MaxLineChars = 1024;
}

/// <summary>
/// A threat-intel list as read: its networks (an address is a /32 or /128) and domains, and the
/// lines it could not read, each named by its number. A line that is not an address, a network
/// or a domain is skipped and named, never a reason to refuse the whole list; too many entries is.
/// </summary>
public sealed class IntelList
{
    private IntelList(string name, IntelListOptions options, List<IPNetwork> networks, HashSet<string> domains, List<string> problems)
    {
        Name = name;
        Options = options;
        Networks = networks;
        Domains = domains;
        Problems = problems;
    }

    public string Name { get; }

    public IntelListOptions Options { get; }

    public IReadOnlyList<IPNetwork> Networks { get; }

    public IReadOnlySet<string> Domains { get; }

    /// <summary>Lines skipped, as <c>line N: why</c> (the first 100).</summary>
    public IReadOnlyList<string> Problems { get; }

    public int Count => Networks.Count + Domains.Count;

    /// <summary>Reads a list; throws <see cref="InvalidDataException"/> naming the limit when it holds more than <see cref="IntelListOptions.MaxEntries"/>.</summary>
    public static IntelList Parse(string name, TextReader text, IntelListOptions options)
    {
        var networks = new List<IPNetwork>();
        var domains = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var problems = new List<string>();
        var skipped = 0;
        var number = 0;
        void Skip(string why)
        {
            if (++skipped <= 100)
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"line {number}: {why}"));
            }
        }
        while (text.ReadLine() is { } line)
        {
            number++;
            var entry = line.AsSpan();
            var comment = entry.IndexOf('#');
            if (comment >= 0)
            {
                entry = entry[..comment];
            }
            entry = entry.Trim();
            if (entry.IsEmpty)
            {
                continue;
            }
            if (line.Length > IntelListOptions.MaxLineChars)
            {
                Skip($"longer than {IntelListOptions.MaxLineChars} characters");
                continue;
            }
            if (options.Format == IntelListFormat.Csv && !Column(entry, options.Column, out entry))
            {
                Skip($"no column {options.Column}");
                continue;
            }
            if (options.Format == IntelListFormat.Domains)
            {
                if (!IsDomain(entry))
                {
                    Skip("not a domain name");
                    continue;
                }
                domains.Add(entry.TrimEnd('.').ToString());
            }
            else if (TryNetwork(entry, out var network))
            {
                networks.Add(network);
            }
            else if (options.Format == IntelListFormat.Csv && number == 1)
            {
                continue; // a header
            }
            else
            {
                Skip("not an IP address or network");
                continue;
            }
            if (networks.Count + domains.Count > options.MaxEntries)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"the list '{name}' holds more than {options.MaxEntries} entries"));
            }
        }
        if (skipped > problems.Count)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"... and {skipped - problems.Count} more lines skipped"));
        }
        return new IntelList(name, options, networks, domains, problems);
    }

    private static bool Column(ReadOnlySpan<char> line, int column, out ReadOnlySpan<char> value)
    {
        var index = 0;
        foreach (var range in line.Split(','))
        {
            if (index++ == column)
            {
                value = line[range].Trim().Trim('"');
                return true;
            }
        }
        value = default;
        return false;
    }

    private static bool TryNetwork(ReadOnlySpan<char> text, out IPNetwork network)
    {
        if (text.Contains('/'))
        {
            // IPNetwork.TryParse refuses set bits past the prefix ("10.1.2.3/8"); lists do have them, so mask.
            var slash = text.IndexOf('/');
            if (IPAddress.TryParse(text[..slash], out var address) && int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var prefix)
                && prefix <= (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            {
                network = new IPNetwork(Masked(address, prefix), prefix);
                return true;
            }
            network = default;
            return false;
        }
        if (IPAddress.TryParse(text, out var single))
        {
            network = new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        network = default;
        return false;
    }

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
        return new IPAddress(bytes);
    }

    /// <summary>Letters, digits, hyphens and dots, at least two labels, each 1 to 63 long (RFC 1035's shape; IDNs as punycode).</summary>
    private static bool IsDomain(ReadOnlySpan<char> text)
    {
        text = text.TrimEnd('.');
        if (text.Length is 0 or > 253 || !text.Contains('.'))
        {
            return false;
        }
        foreach (var range in text.Split('.'))
        {
            var label = text[range];
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }
            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
                {
                    return false;
                }
            }
        }
        return true;
    }
}
