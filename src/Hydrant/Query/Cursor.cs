using System.Buffers.Text;
using System.Text;
using Hydrant.Events;

namespace Hydrant.Query;

/// <summary>Page cursors: the sort key of the last event returned, base64url-encoded.</summary>
public static class Cursor
{
    public static string Encode(string sortKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(sortKey));

    public static bool TryDecode(string cursor, out string sortKey)
    {
        sortKey = string.Empty;
        if (cursor.Length > 1024)
        {
            return false;
        }
        try
        {
            sortKey = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(cursor));
        }
        catch (FormatException)
        {
            return false;
        }
        return sortKey.Length > Timestamps.Width && Timestamps.TryParse(sortKey[..Timestamps.Width], out _);
    }
}
