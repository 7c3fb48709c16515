using System.CommandLine;
using Hydrant.Server.Hosting;

namespace Hydrant.Cli.Commands;

internal static class CommonOptions
{
    public const string KeyVariable = "HYDRANT_KEY";

    public static Option<string> Url() => new("--url")
    {
        Description = $"Base address of the Hydrant server (default {HydrantHost.DefaultUrl})",
        DefaultValueFactory = _ => HydrantHost.DefaultUrl,
    };

    public static Option<string?> Key() => new("--key") { Description = $"API key (default: the {KeyVariable} environment variable)" };

    public static string? KeyValue(ParseResult result, Option<string?> key) =>
        result.GetValue(key) ?? Environment.GetEnvironmentVariable(KeyVariable);
}
