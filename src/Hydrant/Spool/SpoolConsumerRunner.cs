using Hydrant.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Hydrant.Spool;

/// <summary>
/// Drives every registered <see cref="ISpoolConsumer"/>: batches, back-off after failures, and
/// progress reports to the spool. Consumers are registered before the host serves requests, so
/// nothing they have not read can be trimmed.
/// </summary>
public sealed class SpoolConsumerRunner(IIngestLog spool, IEnumerable<ISpoolConsumer> consumers, ILogger<SpoolConsumerRunner> logger)
    : IHostedService, IAsyncDisposable
{
    private const int BatchSize = 4096;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var consumer in consumers)
        {
            var position = await consumer.LoadPositionAsync(cancellationToken);
            spool.RegisterConsumer(consumer.Name, position);
            _loops.Add(Task.Run(() => RunAsync(consumer, position, _stopping.Token), CancellationToken.None));
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    private async Task RunAsync(ISpoolConsumer consumer, long position, CancellationToken stopping)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await spool.WaitForEntriesAsync(position, stopping);
                var entries = spool.Read(position, BatchSize);
                if (entries.Count == 0)
                {
                    // Entries below the spool's trim point are gone; resume at the first kept one.
                    position = Math.Max(position, spool.NextSequence);
                    continue;
                }
                await consumer.ConsumeAsync(entries, stopping);
                position = entries[^1].Sequence + 1;
                spool.ReportProgress(consumer.Name, position);
                backoff = TimeSpan.FromMilliseconds(100);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Spool consumer {Consumer} failed at position {Position}; retrying in {Backoff}", consumer.Name, position, backoff);
                await Task.Delay(backoff, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
    }
}
