namespace Hydrant.Events.Fields;

/// <summary>The names of the canonical event's own fields (docs/formats.md), for lookups in an index.</summary>
public static class CanonicalFields
{
    public static FieldName Id { get; } = FieldName.Of("id");
    public static FieldName Timestamp { get; } = FieldName.Of("timestamp");
    public static FieldName EventType { get; } = FieldName.Of("eventType");
    public static FieldName SourceIP { get; } = FieldName.Of("sourceIP");
}
