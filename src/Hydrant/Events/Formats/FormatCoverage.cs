using Hydrant.Events.Formats.Windows;

namespace Hydrant.Events.Formats;

/// <summary>
/// Which input formats give events of a Sigma logsource, so <c>hydrant rules check</c> can say of
/// each rule whether anything Hydrant reads can ever make it fire. A format's events have the
/// logsources its mapping gives (docs/formats.md); a JSON event has its own, so any logsource can
/// come as JSON, and that is said apart ("only JSON events that name it").
/// </summary>
public static class FormatCoverage
{
    /// <summary>Stands for any value: a Zeek event's service is its log's path, whatever it is.</summary>
    private const string Any = "*";

    private static readonly (string Format, EventLogsource Logsource)[] Produced =
    [
        ("json", new EventLogsource("hydrant", Any)),
        ("cloudtrail", new EventLogsource("aws", "cloudtrail")),
        ("zeek", new EventLogsource("zeek", Any)),
        ("syslog", new EventLogsource("linux", "sshd")),
        ("syslog", new EventLogsource("linux", "syslog")),
        ("web", new EventLogsource(null, null, "webserver")),
        .. WindowsLogsources.Default.All().SelectMany(l => new[] { ("windows", l), ("evtx", l) }),
    ];

    /// <summary>The formats (in <see cref="ParseOptions.Names"/> order) whose events a rule of this logsource can see; empty when only JSON events naming it can feed it.</summary>
    public static IReadOnlyList<string> FormatsFeeding(string? product, string? service, string? category) =>
        [.. Produced.Where(p => Covers(product, p.Logsource.Product) && Covers(service, p.Logsource.Service) && Covers(category, p.Logsource.Category))
            .Select(p => p.Format).Distinct(StringComparer.Ordinal)];

    /// <summary>A rule's attribute covers the event's when it names none, or the same (case-insensitive).</summary>
    private static bool Covers(string? wanted, string? produced) =>
        wanted is null || produced == Any || string.Equals(wanted, produced, StringComparison.OrdinalIgnoreCase);
}
