using Hydrant.Detection.Alerts;
using Hydrant.Server.Api;

namespace Hydrant.Server.Alerts;

/// <summary>A configured webhook: where alerts go, and as what (the alert JSON, or Slack-compatible text).</summary>
public sealed record WebhookOptions(Uri Url, bool Slack);

/// <summary>Posts one alert to one webhook. It only sends and throws; retries belong to the dispatcher.</summary>
internal sealed class WebhookSink(HttpClient http, WebhookOptions options)
{
    public Uri Url => options.Url;

    public async Task SendAsync(Alert alert, CancellationToken cancellationToken)
    {
        using var response = options.Slack
            ? await http.PostAsJsonAsync(options.Url, new { text = SlackText(alert) }, ApiJson.Options, cancellationToken)
            : await http.PostAsJsonAsync(options.Url, alert, ApiJson.Options, cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Slack's mrkdwn. Event fields are written by whoever sent the event, so they go in code spans
    /// (no links, no mentions, no formatting), with Slack's own escapes for &amp;, &lt; and &gt;:
    /// an event cannot page a channel with &lt;!channel&gt; or plant a link.
    /// </summary>
    internal static string SlackText(Alert alert)
    {
        var first = alert.Events[0];
        return $"*[{Escape(alert.Level)}] {Escape(alert.Title)}*: {alert.Count} event(s) {alert.FirstSeen} - {alert.LastSeen}, e.g. {Code(first.EventType)} from {Code(first.SourceIP)}"
            + (alert.GroupKey is null ? string.Empty : $" (group {Code(alert.GroupKey)})");
    }

    private static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)
            .Replace('\n', ' ').Replace('\r', ' ');

    private static string Code(string text) => "`" + Escape(text).Replace('`', '\'') + "`";
}
