using System.CommandLine;
using System.Net;
using System.Text.Json;
using Hydrant.Cli.Client;

namespace Hydrant.Cli.Commands;

/// <summary>One request of a command to the running server: its answer printed, or why it failed said on stderr with the exit code for it.</summary>
internal static class ServerRequest
{
    /// <summary>A property of an answer as text, empty when it is missing or null.</summary>
    public static string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind is not JsonValueKind.Null ? v.ToString() : string.Empty;

    public static async Task<int> SendAsync(ParseResult result, Option<string> url, Option<string?> key, Func<HydrantClient, Task<HttpResponseMessage>> send, Func<JsonElement, Task> print, CancellationToken cancellationToken)
    {
        using var client = new HydrantClient(result.GetValue(url)!, CommonOptions.KeyValue(result, key));
        try
        {
            using var response = await send(client);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return await HydrantClient.ReportFailureAsync(response, cancellationToken);
            }
            using var answer = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            await print(answer.RootElement);
            return ExitCodes.Success;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"hydrant: cannot reach {result.GetValue(url)}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

}
