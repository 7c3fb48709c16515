namespace Hydrant.Events;

/// <summary>Bounds applied to every incoming event. Built once from configuration.</summary>
public sealed record EventLimits
{
    public const int DefaultMaxEventBytes = 256 * 1024;
    public const long DefaultMaxBodyBytes = 32L * 1024 * 1024;
    public const int MaxFieldChars = 128;

    /// <summary>The most MaxEventBytes may be set to.</summary>
    public const int MaxEventBytesAllowed = 1024 * 1024;

    /// <summary>With DynamoDB: its items hold at most 400 KB, keys and attributes included.</summary>
    public const int MaxEventBytesForDynamoDb = 380 * 1024;

    public int MaxEventBytes { get; init; } = DefaultMaxEventBytes;

    /// <summary>
    /// The most the store keeps of one event (<see cref="MaxEventBytesAllowed"/>, or
    /// <see cref="MaxEventBytesForDynamoDb"/>): an event its enrichment would take past it is
    /// stored without it.
    /// </summary>
    public int MaxStoredEventBytes { get; init; } = MaxEventBytesAllowed;
    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>How far ahead of the server clock a timestamp may be.</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How old an event may be: the retention period. An older one would be dropped by the next
    /// retention pass, so it is refused at ingest instead of accepted and then lost.
    /// </summary>
    public TimeSpan? MaxAge { get; init; }

    public static EventLimits Default { get; } = new();
}
