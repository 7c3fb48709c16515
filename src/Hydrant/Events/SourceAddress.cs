using System.Net;
using System.Net.Sockets;

namespace Hydrant.Events;

/// <summary>Validation and normalization of the sourceIP field.</summary>
public static class SourceAddress
{
    /// <summary>
    /// Accepts IPv4 dotted quads written the one unambiguous way (no leading zeros, four parts) and
    /// IPv6 text without a zone. IPv4-mapped IPv6 becomes IPv4; IPv6 comes out in RFC 5952 form.
    /// </summary>
    public static bool TryNormalizeIp(ReadOnlySpan<char> text, out string normalized)
    {
        normalized = string.Empty;
        if (text.IsEmpty || text.Length > 45 || text.Contains('%') || !IPAddress.TryParse(text, out var address))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            // IPAddress.TryParse also takes "1", "1.2.3" and octal parts ("010.1.1.1"); only the canonical
            // dotted quad round-trips, so anything else is ambiguous and refused.
            normalized = address.ToString();
            return text.SequenceEqual(normalized);
        }
        if (!text.Contains(':'))
        {
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        normalized = address.ToString();
        return true;
    }
}
