namespace Hydrant.Query;

/// <summary>A historical query: optional source and type, the time range [From, To), newest first.</summary>
public sealed record EventQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 10_000;

    public string? SourceIP { get; init; }
    public string? EventType { get; init; }
    public required long FromMs { get; init; }
    public required long ToMs { get; init; }
    public int Limit { get; init; } = DefaultLimit;

    /// <summary>Sort key of the last event of the previous page; this page starts strictly below it.</summary>
    public string? AfterSortKey { get; init; }
}
