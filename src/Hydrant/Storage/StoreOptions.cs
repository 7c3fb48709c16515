namespace Hydrant.Storage;

/// <summary>Settings shared by every store and spool backend. Built once from configuration.</summary>
public sealed record StoreOptions
{
    /// <summary>Data folder for the embedded engines and the spool.</summary>
    public string DataPath { get; init; } = "./hydrant-data";

    /// <summary>Main data older than this is dropped, by whole months.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(90);

    /// <summary>Events younger than this also get the hot copy.</summary>
    public static TimeSpan HotWindow { get; } = TimeSpan.FromHours(24);

    /// <summary>Spool depth (entries) above which ingest answers 429.</summary>
    public long SpoolHighWaterMark { get; init; } = 5_000_000;

    /// <summary>Most events one page of a search by field examines; past it the page ends early, with a cursor that goes on.</summary>
    public int MaxExaminedPerPage { get; init; } = 100_000;
}
