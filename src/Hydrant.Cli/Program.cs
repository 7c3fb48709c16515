using System.CommandLine;
using Hydrant.Cli;
using Hydrant.Cli.Commands;

var root = new RootCommand("Hydrant: security event store and detection service")
{
    ServeCommand.Create(),
    IngestCommand.Create(),
    QueryCommand.Create(),
    GenerateCommand.Create(),
    RulesCommand.Create(),
    AlertsCommand.Create(),
    HuntCommand.Create(),
    ReportCommand.Create(),
    SqlCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"hydrant: {error.Message}");
    }
    await Console.Error.WriteLineAsync("Run 'hydrant --help' for usage.");
    return ExitCodes.BadInput;
}
return await parsed.InvokeAsync();
