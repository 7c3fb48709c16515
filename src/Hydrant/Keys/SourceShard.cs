using System.IO.Hashing;
using System.Text;

namespace Hydrant.Keys;

/// <summary>
/// The stable shard of a source: XxHash3 (64-bit, seed 0) of the UTF-8 bytes of the normalized
/// source text, taken modulo the partition count. Documented in docs/keys.md with test vectors
/// so other tools compute the same numbers.
/// </summary>
public static class SourceShard
{
    public const int MainShards = 100;
    public const int HotShards = 50;

    public static ulong Hash(string normalizedSource)
    {
        var max = Encoding.UTF8.GetMaxByteCount(normalizedSource.Length);
        Span<byte> buffer = max <= 256 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(normalizedSource, buffer);
        return XxHash3.HashToUInt64(buffer[..length]);
    }

    public static int Main(ulong hash) => (int)(hash % MainShards);

    public static int Hot(ulong hash) => (int)(hash % HotShards);
}
