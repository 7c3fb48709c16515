using Hydrant.Enrichment;

namespace Hydrant.Server.Hosting;

/// <summary>Keeps the enrichment current: the lists from the cache at start, then every second the files, the databases and the cache's version.</summary>
public sealed partial class EnrichmentRefresher(EnrichmentSources sources, TimeProvider time, ILogger<EnrichmentRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(EnrichmentSources.RefreshInterval, time);
        do
        {
            try
            {
                await sources.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogRefreshFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Enrichment refresh failed; what was loaded stays in force")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
