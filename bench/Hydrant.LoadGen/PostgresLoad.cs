using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Hydrant.LoadGen;

/// <summary>
/// The same events into PostgreSQL, as a side-by-side: a table partitioned by day with a primary
/// key on (id, ts), one binary COPY per request-sized batch, committed with synchronous_commit on
/// (durable, like Hydrant's ack), as many connections as Hydrant had requests in flight.
/// </summary>
public static class PostgresLoad
{
    public static async Task<LoadResult> RunAsync(string connectionString, LoadSettings settings, Workload workload, CancellationToken cancellationToken)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await PrepareAsync(source, workload, cancellationToken);

        var requests = settings.Requests;
        var latencies = new double[requests];
        long next = -1, events = 0, bytes = 0;
        var clock = Stopwatch.StartNew();

        async Task WorkerAsync()
        {
            await using var connection = await source.OpenConnectionAsync(cancellationToken);
            while (true)
            {
                var n = Interlocked.Increment(ref next);
                if (n >= requests)
                {
                    return;
                }
                var batch = workload.Events[(int)(n % workload.Events.Count)];
                var started = Stopwatch.GetTimestamp();
                await using (var copy = await connection.BeginBinaryImportAsync(
                    "COPY hydrant_bench_events (id, ts, event_type, source_ip, raw) FROM STDIN (FORMAT BINARY)", cancellationToken))
                {
                    foreach (var e in batch)
                    {
                        await copy.StartRowAsync(cancellationToken);
                        // Fresh ids per request, as Hydrant assigns a ULID to each event without one.
                        await copy.WriteAsync(Ulid.NewUlid().ToString(), NpgsqlDbType.Text, cancellationToken);
                        await copy.WriteAsync(DateTime.UnixEpoch.AddMilliseconds(e.TimestampMs), NpgsqlDbType.TimestampTz, cancellationToken);
                        await copy.WriteAsync(e.EventType, NpgsqlDbType.Text, cancellationToken);
                        await copy.WriteAsync(e.SourceIP, NpgsqlDbType.Text, cancellationToken);
                        await copy.WriteAsync(System.Text.Encoding.UTF8.GetString(e.Json.Span), NpgsqlDbType.Jsonb, cancellationToken);
                        Interlocked.Add(ref bytes, e.Json.Length);
                    }
                    await copy.CompleteAsync(cancellationToken);
                }
                latencies[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                Interlocked.Add(ref events, batch.Count);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, settings.Connections).Select(_ => Task.Run(WorkerAsync, cancellationToken)));
        return new LoadResult(events, bytes, clock.Elapsed, latencies, 0, 0);
    }

    private static async Task PrepareAsync(NpgsqlDataSource source, Workload workload, CancellationToken cancellationToken)
    {
        var days = workload.Events.SelectMany(b => b).Select(e => DateTime.UnixEpoch.AddMilliseconds(e.TimestampMs).Date).Distinct().Order().ToList();
        var sql = new System.Text.StringBuilder("""
            DROP TABLE IF EXISTS hydrant_bench_events;
            CREATE TABLE hydrant_bench_events (
              id text NOT NULL, ts timestamptz NOT NULL, event_type text NOT NULL, source_ip text NOT NULL, raw jsonb NOT NULL,
              PRIMARY KEY (id, ts)
            ) PARTITION BY RANGE (ts);
            """);
        foreach (var day in days)
        {
            sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"CREATE TABLE hydrant_bench_events_{day:yyyyMMdd} PARTITION OF hydrant_bench_events FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}');\n");
        }
        sql.Append("CREATE INDEX ON hydrant_bench_events (source_ip, ts);");
        await using var command = source.CreateCommand(sql.ToString());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
