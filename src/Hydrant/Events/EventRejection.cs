namespace Hydrant.Events;

/// <summary>One record of a request that was not accepted, by its 0-based position in the request.</summary>
public readonly record struct EventRejection(int Index, string Error);
