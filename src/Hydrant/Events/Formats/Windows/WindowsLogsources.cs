using YamlDotNet.Serialization;

namespace Hydrant.Events.Formats.Windows;

/// <summary>
/// The Sigma logsource of a Windows event (product windows, a service by channel, a category by
/// channel and EventID, and the categories whose rules see it too) and the field names added for its category, read once from the embedded
/// logsources.yml (the taxonomy appendix of the Sigma specification, as data).
/// </summary>
internal sealed class WindowsLogsources
{
    public static WindowsLogsources Default { get; } = Load();

    private readonly Dictionary<string, string> _services;
    private readonly Dictionary<string, Dictionary<long, string>> _categories;
    private readonly Dictionary<string, Dictionary<long, Dictionary<string, string>>> _fields;
    private readonly Dictionary<string, string[]> _also;
    private readonly Dictionary<(string Channel, long EventId), EventLogsource> _logsources = [];
    private readonly Lock _gate = new();

    private WindowsLogsources(Document document)
    {
        _services = new(document.Services, StringComparer.OrdinalIgnoreCase);
        _categories = new(document.Categories, StringComparer.OrdinalIgnoreCase);
        _fields = new(document.Fields, StringComparer.OrdinalIgnoreCase);
        _also = document.Also.ToDictionary(p => p.Key.ToLowerInvariant(), p => p.Value.Select(c => c.ToLowerInvariant()).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The other categories (lower case) whose rules see events of <paramref name="category"/> (lower case) too; empty for most.</summary>
    public string[] AlsoOf(string category) => _also.GetValueOrDefault(category) ?? [];

    /// <summary>The Sigma service of a channel, or null for a channel the taxonomy does not name.</summary>
    public string? ServiceOf(string channel) => _services.GetValueOrDefault(channel);

    /// <summary>The event's logsource; one instance per channel and EventID seen (a file repeats a few).</summary>
    public EventLogsource LogsourceOf(string channel, long eventId)
    {
        lock (_gate)
        {
            if (!_logsources.TryGetValue((channel, eventId), out var logsource))
            {
                var category = _categories.TryGetValue(channel, out var byId) ? byId.GetValueOrDefault(eventId) : null;
                logsource = new EventLogsource("windows", ServiceOf(channel), category);
                // Bounded: a hostile stream of made-up channels must not grow it without end.
                if (_logsources.Count < 10_000)
                {
                    _logsources[(channel, eventId)] = logsource;
                }
            }
            return logsource;
        }
    }

    /// <summary>Every logsource a Windows event can have: each channel's service, each category with its channel's service and the categories that see it too, and an unknown channel's bare product.</summary>
    public IEnumerable<EventLogsource> All()
    {
        yield return new EventLogsource("windows", null);
        foreach (var service in _services.Values.Distinct(StringComparer.Ordinal))
        {
            yield return new EventLogsource("windows", service);
        }
        foreach (var (channel, byId) in _categories)
        {
            foreach (var category in byId.Values.Distinct(StringComparer.Ordinal))
            {
                foreach (var seen in AlsoOf(category).Prepend(category))
                {
                    yield return new EventLogsource("windows", ServiceOf(channel), seen);
                }
            }
        }
    }

    /// <summary>Names to add beside the event's own (own name -> added name), or none.</summary>
    public IReadOnlyDictionary<string, string>? AddedFieldsOf(string channel, long eventId) =>
        _fields.TryGetValue(channel, out var byId) && byId.TryGetValue(eventId, out var names) ? names : null;

    private static WindowsLogsources Load()
    {
        using var stream = typeof(WindowsLogsources).Assembly.GetManifestResourceStream("Hydrant.Events.Formats.Windows.logsources.yml")
            ?? throw new InvalidOperationException("the Windows logsource mapping is not embedded");
        using var reader = new StreamReader(stream);
        return new WindowsLogsources(new DeserializerBuilder().Build().Deserialize<Document>(reader));
    }

    private sealed class Document
    {
        [YamlMember(Alias = "services")]
        public Dictionary<string, string> Services { get; set; } = [];

        [YamlMember(Alias = "categories")]
        public Dictionary<string, Dictionary<long, string>> Categories { get; set; } = [];

        [YamlMember(Alias = "also")]
        public Dictionary<string, List<string>> Also { get; set; } = [];

        [YamlMember(Alias = "fields")]
        public Dictionary<string, Dictionary<long, Dictionary<string, string>>> Fields { get; set; } = [];
    }
}
