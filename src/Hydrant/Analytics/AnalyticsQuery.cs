using System.Data.Common;

namespace Hydrant.Analytics;

/// <summary>An ad-hoc read-only query with its limits: rows, bytes of the answer, and time.</summary>
public sealed record AnalyticsQuery(string Sql, int MaxRows, TimeSpan Timeout)
{
    public const int DefaultMaxRows = 10_000;
    public const long DefaultMaxBytes = 16L * 1024 * 1024;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>About how many bytes of values the answer may hold; the row that passes it is the last.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;
}

/// <summary>What cut a query's answer short.</summary>
public enum QueryLimit
{
    None,
    Rows,
    Bytes,
}

/// <summary>
/// A query's answer (CONTRACT "Shapes"): column names, rows of plain values (numbers, text,
/// booleans, times, nested lists and maps) and whether rows past a limit were left out.
/// </summary>
public sealed record QueryAnswer(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, QueryLimit TruncatedBy)
{
    public bool Truncated => TruncatedBy != QueryLimit.None;

    /// <summary>
    /// Reads a query's rows as the engine gives them, up to the query's row limit (one more says
    /// the answer is truncated) and until the values read reach its byte limit: a few huge values
    /// cannot grow the answer (and the server) without bound.
    /// </summary>
    public static async Task<QueryAnswer> ReadAsync(DbDataReader reader, AnalyticsQuery query, CancellationToken cancellationToken)
    {
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        long bytes = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            if (rows.Count == query.MaxRows)
            {
                return new QueryAnswer(columns, rows, QueryLimit.Rows);
            }
            if (bytes >= query.MaxBytes)
            {
                return new QueryAnswer(columns, rows, QueryLimit.Bytes);
            }
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                bytes += SizeOf(row[i]);
            }
            rows.Add(row);
        }
        return new QueryAnswer(columns, rows, QueryLimit.None);
    }

    /// <summary>About what a value takes in the answer.</summary>
    private static long SizeOf(object? value) => value switch
    {
        null => 4,
        string s => s.Length + 2,
        byte[] b => (b.Length * 4L / 3) + 2,
        System.Collections.IDictionary map => map.Keys.Cast<object?>().Sum(SizeOf) + map.Values.Cast<object?>().Sum(SizeOf) + 2,
        System.Collections.IEnumerable items => items.Cast<object?>().Sum(SizeOf) + 2,
        _ => 16,
    };
}

/// <summary>Why a query got no answer.</summary>
public enum QueryFailure
{
    /// <summary>Not a single read-only query.</summary>
    Refused,

    /// <summary>The engine could not run it (syntax, unknown column, a forbidden function).</summary>
    Failed,

    /// <summary>It ran past its time limit and was stopped.</summary>
    TimedOut,
}

/// <summary>A query the analytics engine refused or could not finish; the message says why, for the user.</summary>
public sealed class AnalyticsQueryException(QueryFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public QueryFailure Failure { get; } = failure;
}
