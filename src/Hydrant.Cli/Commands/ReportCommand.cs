using System.CommandLine;
using System.Globalization;
using System.Net;
using Hydrant.Cli.Client;

namespace Hydrant.Cli.Commands;

/// <summary>
/// A day's report from a running server (the analytics store belongs to the server process): the
/// stored one, or, when the day has none yet or --rebuild says so, built first (that needs the
/// admin scope). The server rebuilds reports that events arrived for after they were built on its
/// own, every ten minutes; --rebuild does it now.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var date = new Option<string>("--date") { Description = "The UTC day, yyyy-MM-dd", Required = true };
        var format = new Option<string>("--format") { Description = "json, html (one page with charts) or md", DefaultValueFactory = _ => "json" };
        format.AcceptOnlyFromAmong("json", "html", "md");
        var output = new Option<FileInfo?>("--out") { Description = "Write the report to this file instead of stdout" };
        var rebuild = new Option<bool>("--rebuild") { Description = "Build the report again from what the analytics store holds now" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("report", "Print or save the daily report of a UTC day") { date, format, output, rebuild, url, key };
        command.SetAction(async (result, cancellationToken) =>
        {
            var day = result.GetValue(date)!;
            if (!DateOnly.TryParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            {
                await Console.Error.WriteLineAsync($"hydrant: --date '{day}' is not a date as yyyy-MM-dd");
                return ExitCodes.BadInput;
            }
            using var client = new HydrantClient(result.GetValue(url)!, CommonOptions.KeyValue(result, key));
            var path = $"v1/reports/daily/{day}?format={result.GetValue(format)}";
            try
            {
                var response = await client.GetAsync(path, cancellationToken);
                if (response.StatusCode == HttpStatusCode.NotFound || result.GetValue(rebuild))
                {
                    response.Dispose();
                    using var built = await client.PostAsync($"v1/reports/daily/{day}", null, cancellationToken);
                    if (!built.IsSuccessStatusCode)
                    {
                        return await HydrantClient.ReportFailureAsync(built, cancellationToken, "building the report failed");
                    }
                    response = await client.GetAsync(path, cancellationToken);
                }
                using (response)
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        return await HydrantClient.ReportFailureAsync(response, cancellationToken);
                    }
                    var text = await response.Content.ReadAsStringAsync(cancellationToken);
                    if (result.GetValue(output) is { } file)
                    {
                        await File.WriteAllTextAsync(file.FullName, text, cancellationToken);
                        await Console.Error.WriteLineAsync($"hydrant: report {day} written to {file.FullName}");
                    }
                    else
                    {
                        await Console.Out.WriteAsync(text);
                    }
                }
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: cannot reach {result.GetValue(url)}: {e.Message}");
                return ExitCodes.Failure;
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
