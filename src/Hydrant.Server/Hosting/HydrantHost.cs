using System.Net;
using Hydrant.Analytics;
using Hydrant.Detection;
using Hydrant.Detection.Alerts;
using Hydrant.Detection.Sigma;
using Hydrant.DuckDb;
using Hydrant.DynamoDb;
using Hydrant.Enrichment;
using Hydrant.Events;
using Hydrant.Postgres;
using Hydrant.Redis;
using Hydrant.Reports;
using Hydrant.RocksDb;
using Hydrant.Server.Alerts;
using Hydrant.Server.Api;
using Hydrant.Server.Auth;
using Hydrant.Server.Monitoring;
using Hydrant.Server.Reports;
using Hydrant.Server.WebConsole;
using Hydrant.Spool;
using Hydrant.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Prometheus;

namespace Hydrant.Server.Hosting;

/// <summary>Wires the configured backends and the HTTP API into one web application. Nothing else lives here.</summary>
public static class HydrantHost
{
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>Thrown when the configuration cannot run (an unsafe binding, an unknown backend).</summary>
    public sealed class ConfigurationException(string message) : Exception(message);

    public static WebApplication Build(string[] args, string? configFile = null, Action<IServiceCollection>? configureServices = null)
    {
        HydrantMetrics.LeaveHydrantMeterToUs();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        if (configFile is not null)
        {
            // After appsettings.json, before environment variables and flags, which are added again to keep their precedence.
            builder.Configuration.AddJsonFile(configFile, optional: false).AddEnvironmentVariables().AddCommandLine(args);
        }
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });

        HydrantSettings settings;
        Enricher enricher;
        IReadOnlyList<IntelListFileRead> intelFiles;
        try
        {
            settings = HydrantSettings.From(builder.Configuration);
            (enricher, intelFiles) = settings.Enrichment.Open();
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException(e.Message);
        }
        var bindings = Bindings(builder.Configuration);
        if (bindings.Count == 0)
        {
            builder.WebHost.UseUrls(DefaultUrl);
            bindings = [DefaultUrl];
        }
        var exposed = bindings.Where(u => !IsLoopback(u)).ToList();
        if (settings.Keys.Count == 0 && exposed.Count > 0)
        {
            throw new ConfigurationException(
                $"refusing to start: bound to {string.Join(", ", exposed)} with no API keys; configure Hydrant:Auth:Keys or bind to 127.0.0.1");
        }

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = settings.Limits.MaxBodyBytes);

        var services = builder.Services;
        services.AddSingleton(settings);
        services.AddSingleton(settings.Store);
        services.AddSingleton(settings.Limits);
        services.AddSingleton(settings.Analytics);
        services.AddSingleton<AnalyticsEndpoints.QuerySlots>();
        services.AddSingleton(new ApiKeyAuthorization(settings.Keys));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<EventParser>();
        services.AddSingleton(enricher);
        services.AddSingleton(sp => new EnrichmentSources(enricher, intelFiles, sp.GetRequiredService<Hydrant.Enrichment.Intel.IIntelListCache>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<EnrichmentSources>>()));
        services.AddHostedService<EnrichmentRefresher>();
        services.AddSingleton<IngestStats>();
        services.AddSingleton<HydrantMetrics>();
        try
        {
            AddBackends(services, settings, builder.Configuration.GetSection("Hydrant"));
        }
        catch (InvalidOperationException e)
        {
            throw new ConfigurationException(e.Message);
        }
        services.AddHealthChecks().AddCheck<SpoolHealthCheck>("spool").AddCheck<AnalyticsHealthCheck>("analytics");
        if (settings.AnalyticsLoading)
        {
            services.AddSingleton<ISpoolConsumer, AnalyticsLoader>();
        }
        if (AlertsToAnalytics(settings))
        {
            services.AddHostedService<AlertAnalytics>();
        }
        services.AddSingleton<DailyReports>();
        if (settings.RulesPath is { } rulesPath && !Directory.Exists(rulesPath))
        {
            throw new ConfigurationException($"rules folder {Path.GetFullPath(rulesPath)} does not exist");
        }
        services.AddSingleton(settings.Detection);
        services.AddSingleton(new SigmaCompiler(SigmaOptions.Default));
        // Without a rules folder the team's default pack runs, so a fresh node detects something.
        services.AddSingleton(sp => RuleSet.Load(settings.RulesPath, sp.GetRequiredService<SigmaCompiler>(), includeDefaultPack: settings.RulesPath is null));
        services.AddSingleton<RuleRegistry>();
        services.AddSingleton<AlertFeed>();
        if (settings.DetectionEnabled)
        {
            // Unless a backend shares detection state between nodes, this node keeps its own.
            services.TryAddSingleton<ISharedDetectionState, SingleNodeDetectionState>();
            services.AddSingleton<ISpoolConsumer, Detector>();
        }
        services.AddHttpClient("webhooks", c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton(sp => new WebhookDispatcher(
            sp.GetRequiredService<AlertFeed>(),
            [.. settings.Webhooks.Select(w => new WebhookSink(sp.GetRequiredService<IHttpClientFactory>().CreateClient("webhooks"), w))],
            sp.GetRequiredService<ILogger<WebhookDispatcher>>()));
        // Before the spool runner: the dispatcher subscribes to the feed before detection starts.
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDispatcher>());
        services.AddSingleton<SpoolConsumerRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<SpoolConsumerRunner>());
        // After the spool runner: it waits for the loader the runner drives.
        services.AddHostedService<ReportScheduler>();
        services.AddHostedService<RetentionService>();
        var sampleSeconds = builder.Configuration.GetValue("Hydrant:Stats:SampleSeconds", 5.0);
        if (sampleSeconds is < 1 or > 3600)
        {
            throw new ConfigurationException("Hydrant:Stats:SampleSeconds must be from 1 to 3600");
        }
        services.AddSingleton(sp => new PipelineHistory(sp.GetRequiredService<IngestStats>(), sp.GetRequiredService<ISpool>(), sp.GetRequiredService<SpoolConsumerRunner>(),
            sp.GetServices<ISpoolConsumer>(), sp.GetRequiredService<TimeProvider>(), TimeSpan.FromSeconds(sampleSeconds)));
        services.AddHostedService(sp => sp.GetRequiredService<PipelineHistory>());
        services.AddOpenApi(options => options.DescribeQueryParameters().DescribeAnswers());
        // The document's number types as the API writes them: numbers, never strings.
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict);
        configureServices?.Invoke(services);

        var app = builder.Build();
        if (settings.Keys.Count == 0)
        {
            // However the node came to listen beyond loopback, an open node answers only there.
            app.Use(async (context, next) =>
            {
                if (context.Connection.LocalIpAddress is { } local && !IPAddress.IsLoopback(local))
                {
                    await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "loopback only", "this node has no API keys and answers only on loopback");
                    return;
                }
                await next();
            });
        }
        app.UseExceptionHandler(error => error.Run(context =>
            // Kestrel's own refusals of a request (a body arriving too slowly: 408) keep their status.
            context.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException bad
                ? Problems.WriteAsync(context, bad.StatusCode, ReasonOf(bad.StatusCode), bad.Message)
                : Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, "internal error", "the request failed on the server; its log has the cause")));
        app.UseStatusCodePages(context => context.HttpContext.Response.HasStarted || context.HttpContext.Response.ContentLength > 0
            ? Task.CompletedTask
            : Problems.WriteAsync(context.HttpContext, context.HttpContext.Response.StatusCode, ReasonOf(context.HttpContext.Response.StatusCode)));
        app.UseHttpMetrics();
        app.UseKnownQueryParameters();

        app.MapIngest();
        app.MapQuery();
        app.MapStats();
        app.MapAlerts();
        app.MapRules();
        app.MapReports();
        app.MapAnalytics();
        app.MapDeadLetters();
        app.MapIntel();
        app.MapConsole();
        app.MapGet("/healthz", () => Results.Json(new Liveness("ok"), ApiJson.Options)).Takes().WithName("Liveness").Produces<Liveness>();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { ResponseWriter = WriteReadinessAsync }).Takes();
        app.Services.GetRequiredService<HydrantMetrics>();
        app.MapMetrics("/metrics").Takes();
        app.MapOpenApi().Takes();

        // Open the store now, so a locked or unreadable data folder fails the start, not the first request.
        app.Services.GetRequiredService<ISpool>();
        app.Services.GetRequiredService<IEventStore>();
        var rules = app.Services.GetRequiredService<RuleSet>(); // from files or the built-in pack; API rules load with the detector
        var startup = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Hydrant");
        foreach (var refusal in rules.Refusals)
        {
            startup.LogWarning("Rule refused: {Source}: {Reason}", refusal.Source, refusal.Reason);
        }

        app.Lifetime.ApplicationStarted.Register(() => Announce(app, settings));
        return app;
    }

    /// <summary>
    /// The backends configuration chose: each registers itself from its own section
    /// (Hydrant:RocksDb, Hydrant:DynamoDb, Hydrant:Redis, Hydrant:Analytics, Hydrant:Postgres); the
    /// host only picks which.
    /// </summary>
    /// <summary>Alerts are copied to the analytics store as they are committed when there are both.</summary>
    private static bool AlertsToAnalytics(HydrantSettings settings) => settings.DetectionEnabled && settings.AnalyticsLoading;

    private static void AddBackends(IServiceCollection services, HydrantSettings settings, IConfigurationSection hydrant)
    {
        switch (settings.StoreKind)
        {
            case "rocksdb":
                services.AddHydrantRocksDb(hydrant.GetSection("RocksDb"), alertsToAnalytics: AlertsToAnalytics(settings));
                services.AddSingleton<IAlertView>(sp => sp.GetRequiredService<IAlertStore>());
                break;
            case "dynamodb":
                // The spool, the detector's commits and its alerts stay on the node; the events
                // and a shared copy of every node's alerts go to the table.
                services.AddHydrantRocksDb(hydrant.GetSection("RocksDb"), asEventStore: false, shareAlerts: true, alertsToAnalytics: AlertsToAnalytics(settings));
                services.AddHydrantDynamoDb(hydrant.GetSection("DynamoDb"));
                services.AddSingleton<IAlertView>(sp => sp.GetRequiredService<ISharedAlertStore>());
                services.AddSingleton<AlertSharing>();
                services.AddHostedService(sp => sp.GetRequiredService<AlertSharing>());
                break;
            default:
                throw new ConfigurationException($"Hydrant:Store:Kind '{settings.StoreKind}' is not available; use 'rocksdb' or 'dynamodb'");
        }
        switch (settings.Analytics.Kind)
        {
            case "duckdb":
                services.AddHydrantDuckDb(hydrant.GetSection("Analytics"));
                break;
            case "postgres":
                services.AddHydrantPostgres(hydrant.GetSection("Postgres"));
                break;
            default:
                throw new ConfigurationException($"Hydrant:Analytics:Kind '{settings.Analytics.Kind}' is not available; use 'duckdb' or 'postgres'");
        }
        switch (settings.CacheKind)
        {
            case "memory":
                services.AddRocksDbRuleCache();
                break;
            case "redis":
                services.AddHydrantRedis(hydrant.GetSection("Redis"), settings.Detection);
                services.AddHostedService<AlertRelaying>();
                break;
            default:
                throw new ConfigurationException($"Hydrant:Cache:Kind '{settings.CacheKind}' is not available; use 'memory' or 'redis'");
        }
    }

    /// <summary>
    /// Every address the configuration asks Kestrel to bind, from every source that can: urls
    /// (--urls, ASPNETCORE_URLS), http_ports and https_ports (every interface), and the endpoints
    /// of the Kestrel section (Kestrel:Endpoints:NAME:Url, from flags, files or Kestrel__ variables).
    /// </summary>
    private static List<string> Bindings(ConfigurationManager configuration)
    {
        static IEnumerable<string> Split(string? list) => (list ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return
        [
            .. Split(configuration["urls"]),
            .. Split(configuration["http_ports"]).Select(port => $"http://*:{port}"),
            .. Split(configuration["https_ports"]).Select(port => $"https://*:{port}"),
            .. configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>(),
        ];
    }

    private static void Announce(WebApplication app, HydrantSettings settings)
    {
        app.Services.GetRequiredService<HydrantMetrics>().Prime();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Hydrant");
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        if (settings.Keys.Count == 0 && addresses.FirstOrDefault(a => !IsLoopback(a)) is { } bound)
        {
            // A way of binding no check above foresaw: stop rather than serve open beyond loopback.
            logger.LogCritical("Refusing to run: listening on {Address} with no API keys; configure Hydrant:Auth:Keys or bind to 127.0.0.1", bound);
            Console.Error.WriteLine($"hydrant: refusing to start: bound to {bound} with no API keys; configure Hydrant:Auth:Keys or bind to 127.0.0.1");
            Environment.ExitCode = 2;
            app.Lifetime.StopApplication();
            return;
        }
        if (settings.Keys.Count == 0)
        {
            logger.LogWarning("No API keys configured: running OPEN (no authentication), which is allowed only on loopback");
        }
        logger.LogInformation("Hydrant data in {Data}, store {Store}", Path.GetFullPath(settings.Store.DataPath), settings.StoreKind);
        foreach (var address in addresses)
        {
            // A fixed line on stdout that scripts and tests wait for.
            Console.Out.WriteLine($"hydrant: listening on {address}");
        }
        Console.Out.Flush();
    }

    private static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri))
        {
            return false;
        }
        return uri.Host == "localhost" || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    private static string ReasonOf(int status) => ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } reason
        ? reason.ToLowerInvariant()
        : "error";

    private static Task WriteReadinessAsync(HttpContext context, Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport report) =>
        context.Response.WriteAsJsonAsync(new Readiness(
            report.Status.ToString().ToLowerInvariant(),
            report.Entries.ToDictionary(e => e.Key, e => new BackendHealth(e.Value.Status.ToString().ToLowerInvariant(), e.Value.Description, e.Value.Data))), ApiJson.Options);
}
