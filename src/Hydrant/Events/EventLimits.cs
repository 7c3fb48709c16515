namespace Hydrant.Events;

/// <summary>Bounds applied to every incoming event. Built once from configuration.</summary>
public sealed record EventLimits
{
    public const int DefaultMaxEventBytes = 256 * 1024;
    public const long DefaultMaxBodyBytes = 32L * 1024 * 1024;
    public const int MaxFieldChars = 128;

    public int MaxEventBytes { get; init; } = DefaultMaxEventBytes;
    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>How far ahead of the server clock a timestamp may be.</summary>
    public TimeSpan MaxFutureSkew { get; init; } = TimeSpan.FromMinutes(15);

    public static EventLimits Default { get; } = new();
}
