using System.CommandLine;
using Hydrant.Server.Hosting;
using Hydrant.Storage;
using Microsoft.Extensions.Hosting;

namespace Hydrant.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Data folder for the embedded engines and the spool (default ./hydrant-data)" };
        var rules = new Option<string?>("--rules") { Description = "Folder of Sigma rules, searched recursively (default: the built-in rule pack)" };
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default {HydrantHost.DefaultUrl})" };
        var config = new Option<FileInfo?>("--config") { Description = "A JSON settings file, read after appsettings.json and before environment variables" };
        var command = new Command("serve", "Run the Hydrant server") { data, rules, urls, config };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (result, cancellationToken) =>
        {
            var hostArgs = new List<string>(result.UnmatchedTokens);
            if (result.GetValue(data) is { } dataPath)
            {
                hostArgs.Add($"--Hydrant:Data={dataPath}");
            }
            if (result.GetValue(rules) is { } rulesPath)
            {
                hostArgs.Add($"--Hydrant:Rules={rulesPath}");
            }
            if (result.GetValue(urls) is { } urlList)
            {
                hostArgs.Add($"--urls={urlList}");
            }
            var configFile = result.GetValue(config);
            if (configFile is { Exists: false })
            {
                await Console.Error.WriteLineAsync($"hydrant: config file {configFile.FullName} does not exist");
                return ExitCodes.BadInput;
            }
            try
            {
                await using var app = HydrantHost.Build([.. hostArgs], configFile?.FullName);
                await ((IHost)app).RunAsync(cancellationToken);
                // The host sets 2 when it stopped itself over an unsafe binding it found once listening.
                return Environment.ExitCode == ExitCodes.BadInput ? ExitCodes.BadInput : ExitCodes.Success;
            }
            catch (HydrantHost.ConfigurationException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (StoreOpenException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
