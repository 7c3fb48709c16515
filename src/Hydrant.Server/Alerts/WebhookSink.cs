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

    private static string SlackText(Alert alert)
    {
        var first = alert.Events[0];
        return $"*[{alert.Level}] {alert.Title}*: {alert.Count} event(s) {alert.FirstSeen} - {alert.LastSeen}, e.g. {first.EventType} from {first.SourceIP}"
            + (alert.GroupKey is null ? string.Empty : $" (group {alert.GroupKey})");
    }
}
