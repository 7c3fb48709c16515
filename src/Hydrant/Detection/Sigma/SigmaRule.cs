using Hydrant.Events.Formats.Windows;

namespace Hydrant.Detection.Sigma;

/// <summary>Which events a rule is about: the logsource block of the rule.</summary>
public sealed record Logsource(string? Product, string? Service, string? Category)
{
    /// <summary>Every attribute the rule names must equal the event's (case-insensitive); a Windows event's category also stands for those that see it (registry_event for a registry_set).</summary>
    public bool Covers(EventView e) =>
        Same(Product, e.Product) && Same(Service, e.Service) && (Same(Category, e.Category) || SeenToo(Category, e));

    private static bool SeenToo(string? wanted, EventView e) =>
        e.Category is { } category && string.Equals(e.Product, "windows", StringComparison.OrdinalIgnoreCase)
        && Array.Exists(WindowsLogsources.Default.AlsoOf(category.ToLowerInvariant()), c => string.Equals(c, wanted, StringComparison.OrdinalIgnoreCase));

    private static bool Same(string? wanted, string? actual) =>
        wanted is null || string.Equals(wanted, actual, StringComparison.OrdinalIgnoreCase);
}

/// <summary>One YAML document of a rule file: a detection rule, a filter or a correlation.</summary>
public abstract class SigmaDocument(string id, string? name, string title)
{
    public string Id { get; } = id;

    /// <summary>The optional unique name by which filters and correlations may refer to it.</summary>
    public string? Name { get; } = name;

    public string Title { get; } = title;

    /// <summary>Its description, references, false positives and YAML, as the compiler read them.</summary>
    public RuleAbout About { get; internal set; } = RuleAbout.None;

    /// <summary>True when <paramref name="reference"/> (from a filter or correlation) names this document by id or name.</summary>
    public bool IsNamed(string reference) => Id == reference || Name == reference;
}

/// <summary>One document of a rule file: compiled, or refused with the error; the id and title as far as they could be read.</summary>
public sealed record CompiledDocument(SigmaDocument? Document, SigmaException? Error, string? Id, string? Title);

/// <summary>One search identifier of a rule's detection: its name, its test, and the fields it compares.</summary>
public sealed record RuleSelection(string Name, Func<EventView, bool> Matches, IReadOnlyList<string> Fields);

/// <summary>A Sigma detection rule, parsed once and compiled to a predicate over events.</summary>
public sealed class SigmaRule : SigmaDocument
{
    internal SigmaRule(string id, string? name, string title, string level, string? status, Logsource logsource, IReadOnlyList<string> tags, Func<EventView, bool> detection, Requirement? requirement)
        : base(id, name, title)
    {
        Requirement = requirement;
        Level = level;
        Status = status;
        Logsource = logsource;
        Tags = tags;
        _detection = detection;
    }

    private readonly Func<EventView, bool> _detection;

    /// <summary>informational, low, medium, high or critical.</summary>
    public string Level { get; }

    public string? Status { get; }
    public Logsource Logsource { get; }
    public IReadOnlyList<string> Tags { get; }

    /// <summary>Its search identifiers (selections and filters) as compiled, to say which matched an event.</summary>
    public IReadOnlyList<RuleSelection> Selections { get; internal init; } = [];

    /// <summary>A field value the rule cannot match without, when its detection has one (the literal index uses it).</summary>
    public Requirement? Requirement { get; }

    /// <summary>True when the event is of the rule's logsource and its detection matches.</summary>
    public bool Matches(EventView e) => Logsource.Covers(e) && _detection(e);

    /// <summary>This rule tuned by a filter: events the filter matches no longer match the rule.</summary>
    public SigmaRule FilteredBy(SigmaFilter filter) =>
        new(Id, Name, Title, Level, Status, Logsource, Tags, e => _detection(e) && !filter.Matches(e), Requirement) { About = About, Selections = Selections };
}

/// <summary>
/// A Sigma filter (sigma-filters-specification): tuning for the rules it names, kept apart from
/// them so it survives rule updates. Its condition is added to each named rule as "and not".
/// </summary>
public sealed class SigmaFilter : SigmaDocument
{
    private readonly Func<EventView, bool> _detection;

    internal SigmaFilter(string id, string? name, string title, Logsource logsource, IReadOnlyList<string> rules, Func<EventView, bool> detection)
        : base(id, name, title)
    {
        Logsource = logsource;
        Rules = rules;
        _detection = detection;
    }

    public Logsource Logsource { get; }

    /// <summary>Ids or names of the rules the filter tunes.</summary>
    public IReadOnlyList<string> Rules { get; }

    public bool Matches(EventView e) => Logsource.Covers(e) && _detection(e);
}

/// <summary>Settings of the rule compiler. Built once.</summary>
public sealed record SigmaOptions
{
    /// <summary>Values of <c>%placeholders%</c> for the <c>expand</c> modifier; a rule naming any other is refused.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Placeholders { get; init; } =
        new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);

    public static SigmaOptions Default { get; } = new();
}
