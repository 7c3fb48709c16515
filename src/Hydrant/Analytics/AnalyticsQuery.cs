using System.Data.Common;

namespace Hydrant.Analytics;

/// <summary>An ad-hoc read-only query with its limits.</summary>
public sealed record AnalyticsQuery(string Sql, int MaxRows, TimeSpan Timeout)
{
    public const int DefaultMaxRows = 10_000;
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
}

/// <summary>
/// A query's answer (CONTRACT "Shapes"): column names, rows of plain values (numbers, text,
/// booleans, times, nested lists and maps) and whether rows past the limit were left out.
/// </summary>
public sealed record QueryAnswer(IReadOnlyList<string> Columns, IReadOnlyList<object?[]> Rows, bool Truncated)
{
    /// <summary>Reads a query's rows as the engine gives them, up to <paramref name="maxRows"/>; one more says the answer is truncated.</summary>
    public static async Task<QueryAnswer> ReadAsync(DbDataReader reader, int maxRows, CancellationToken cancellationToken)
    {
        var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToList();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (rows.Count == maxRows)
            {
                return new QueryAnswer(columns, rows, Truncated: true);
            }
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }
            rows.Add(row);
        }
        return new QueryAnswer(columns, rows, Truncated: false);
    }
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
