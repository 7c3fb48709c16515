using System.Diagnostics.Metrics;
using Hydrant.Storage;
using Prometheus;

namespace Hydrant.Server.Hosting;

/// <summary>
/// Hydrant's own instruments (the "Hydrant" meter of this host) on /metrics with their Prometheus
/// types: counters as counters, gauges as gauges. prometheus-net's own adapter, which publishes
/// every .NET counter as a gauge, is kept to the framework's meters.
/// </summary>
internal sealed class HydrantMetrics : IDisposable
{
    private readonly MeterListener _listener = new();
    private volatile bool _disposed;

    public HydrantMetrics(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this host's meter: tests run several hosts in one process.
            if (instrument.Meter.Name == IngestStats.MeterName && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
        Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
        {
            if (!_disposed)
            {
                _listener.RecordObservableInstruments();
            }
        });
    }

    /// <summary>Before the first host touches prometheus-net's default registry: its adapter leaves the Hydrant meter to this class.</summary>
    public static void LeaveHydrantMeterToUs() =>
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = instrument => instrument.Meter.Name != IngestStats.MeterName);

    /// <summary>
    /// Reads every instrument once, once they all exist (at start): a metric first created while
    /// a scrape is collected is listed without its value in that scrape.
    /// </summary>
    public void Prime() => _listener.RecordObservableInstruments();

    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();
    }

    private static void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var sorted = tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).ToArray();
        var names = sorted.Select(t => t.Key).ToArray();
        var values = sorted.Select(t => t.Value?.ToString() ?? string.Empty).ToArray();
        var name = "hydrant_" + instrument.Name;
        var help = instrument.Description ?? instrument.Name;
        switch (instrument)
        {
            case ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>:
                Metrics.CreateCounter(name, help, names).WithLabels(values).IncTo(value);
                break;
            case Counter<long> or Counter<int> or Counter<double>:
                Metrics.CreateCounter(name, help, names).WithLabels(values).Inc(value);
                break;
            default:
                Metrics.CreateGauge(name, help, names).WithLabels(values).Set(value);
                break;
        }
    }
}
