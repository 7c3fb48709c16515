namespace Hydrant.Cli.Commands;

/// <summary>
/// The lines of an input as the bytes they are (no decoding, so nothing is changed on the way),
/// each with its 1-based number, carriage return trimmed. A line is valid until the next is read.
/// </summary>
internal static class LineReader
{
    /// <summary>A line longer than this cannot be one event of any request: reading stops with an error.</summary>
    public const int MaxLineBytes = 64 * 1024 * 1024;

    public static async IAsyncEnumerable<(ReadOnlyMemory<byte> Line, long Number)> ReadAsync(
        ReadOnlyMemory<byte> head, Stream rest, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Max(1 << 20, head.Length)];
        head.CopyTo(buffer);
        var (start, end) = (0, head.Length);
        var ended = false;
        long number = 0;
        while (true)
        {
            var newline = Array.IndexOf(buffer, (byte)'\n', start, end - start);
            if (newline >= 0)
            {
                yield return (Trim(buffer.AsMemory(start, newline - start)), ++number);
                start = newline + 1;
                continue;
            }
            if (ended)
            {
                if (start < end)
                {
                    yield return (Trim(buffer.AsMemory(start, end - start)), ++number);
                }
                yield break;
            }
            // Keep the partial line at the front, growing the buffer for a line longer than it.
            if (start > 0)
            {
                Array.Copy(buffer, start, buffer, 0, end - start);
                (start, end) = (0, end - start);
            }
            if (end == buffer.Length)
            {
                if (buffer.Length >= MaxLineBytes)
                {
                    throw new IOException($"line {number + 1} is longer than {MaxLineBytes} bytes");
                }
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            var read = await rest.ReadAsync(buffer.AsMemory(end), cancellationToken);
            ended = read == 0;
            end += read;
        }
    }

    private static ReadOnlyMemory<byte> Trim(ReadOnlyMemory<byte> line) => line.Span.EndsWith("\r"u8) ? line[..^1] : line;
}
