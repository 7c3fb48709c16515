namespace Hydrant.Storage;

/// <summary>One partition key's write units: in the last full second, and the most in any second.</summary>
public sealed record KeyRate(string Key, int UnitsLastSecond, int PeakUnitsPerSecond);

/// <summary>
/// Write units a store with per-key throughput limits (DynamoDB) sends per partition key, for
/// /v1/stats: the hottest keys against the store's cap on one key.
/// </summary>
public interface IKeyWriteRates
{
    /// <summary>The units one partition key takes per second before the store throttles it.</summary>
    int UnitsPerKeyPerSecondCap { get; }

    /// <summary>The most units any one key was sent in one second.</summary>
    int PeakUnitsPerSecond { get; }

    /// <summary>The keys sent the most units in the last full second, hottest first.</summary>
    IReadOnlyList<KeyRate> Hottest(int count);
}
