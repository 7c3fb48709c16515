using System.CommandLine;
using System.Text.Json;
using Hydrant.Cli.Client;
using Spectre.Console;

namespace Hydrant.Cli.Commands;

/// <summary>One read-only query over the analytics store of a running server (admin scope).</summary>
internal static class SqlCommand
{
    public static Command Create()
    {
        var sql = new Argument<string>("query") { Description = "One SELECT or WITH query" };
        var format = new Option<string>("--format") { Description = "table, json (the API's answer) or csv", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong("table", "json", "csv");
        var maxRows = new Option<int?>("--max-rows") { Description = "Most rows to return (the server caps it)" };
        var url = CommonOptions.Url();
        var key = CommonOptions.Key();
        var command = new Command("sql", "Run one read-only SQL query over the analytics store") { sql, format, maxRows, url, key };
        command.SetAction(async (result, cancellationToken) =>
        {
            var wanted = result.GetValue(format)!;
            var path = "v1/analytics/query?format=" + (wanted == "csv" ? "csv" : "json")
                + (result.GetValue(maxRows) is { } rows ? $"&maxRows={rows}" : string.Empty);
            using var client = new HydrantClient(result.GetValue(url)!, CommonOptions.KeyValue(result, key));
            try
            {
                using var response = await client.PostAsync(path, new { sql = result.GetValue(sql) }, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return await HydrantClient.ReportFailureAsync(response, cancellationToken);
                }
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                if (wanted != "table")
                {
                    await Console.Out.WriteAsync(text);
                    return ExitCodes.Success;
                }
                using var answer = JsonDocument.Parse(text);
                var table = new Table();
                foreach (var column in answer.RootElement.GetProperty("columns").EnumerateArray())
                {
                    table.AddColumn(Markup.Escape(column.GetString() ?? string.Empty));
                }
                var count = 0;
                foreach (var row in answer.RootElement.GetProperty("rows").EnumerateArray())
                {
                    table.AddRow([.. row.EnumerateArray().Select(v => Markup.Escape(v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()))]);
                    count++;
                }
                AnsiConsole.Write(table);
                AnsiConsole.WriteLine($"{count} rows{(answer.RootElement.GetProperty("truncated").GetBoolean() ? " (truncated at the row limit)" : string.Empty)}");
                return ExitCodes.Success;
            }
            catch (HttpRequestException e)
            {
                await Console.Error.WriteLineAsync($"hydrant: cannot reach {result.GetValue(url)}: {e.Message}");
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
