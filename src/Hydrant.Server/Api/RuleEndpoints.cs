using System.Text;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Server.Auth;

namespace Hydrant.Server.Api;

public static class RuleEndpoints
{
    private const int MaxRuleBytes = 1024 * 1024;

    public static void MapRules(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/rules", (RuleRegistry registry) => Results.Json(new
        {
            rules = registry.Current.Rules.Select(Describe),
            refused = registry.Current.Refusals.Select(r => new { source = r.Source, reason = r.Reason }),
        }, ApiJson.Options))
            .RequireScope(Scopes.Query)
            .WithName("ListRules")
            .WithSummary("Loaded rules with their source and status, and the rules that were refused");
        app.MapGet("/v1/rules/{id}", (string id, RuleRegistry registry) =>
                registry.Current.Rules.FirstOrDefault(r => r.Rule.Id == id) is { } rule
                    ? Results.Json(Describe(rule), ApiJson.Options)
                    : Problems.Create(StatusCodes.Status404NotFound, "not found", $"no loaded rule has id '{id}'"))
            .RequireScope(Scopes.Query)
            .WithName("GetRule");
        app.MapPost("/v1/rules", AddAsync)
            .RequireScope(Scopes.Admin)
            .WithName("AddRule")
            .WithSummary("Add (or replace, by id) a Sigma rule sent as YAML; it is stored and survives restarts");
        app.MapDelete("/v1/rules/{id}", RemoveAsync)
            .RequireScope(Scopes.Admin)
            .WithName("DeleteRule")
            .WithSummary("Remove a rule that was added through the API");
    }

    private static async Task<IResult> AddAsync(HttpContext context, RuleRegistry registry)
    {
        if (context.Request.ContentLength > MaxRuleBytes)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "rule too large", $"a rule may be at most {MaxRuleBytes} bytes");
        }
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var buffer = new char[MaxRuleBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, context.RequestAborted);
        if (read > MaxRuleBytes)
        {
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, "rule too large", $"a rule may be at most {MaxRuleBytes} bytes");
        }
        try
        {
            var (change, rule) = await registry.AddAsync(new string(buffer, 0, read), context.RequestAborted);
            return change switch
            {
                RuleChange.NotAnApiRule => Problems.Create(StatusCodes.Status409Conflict, "rule exists", $"rule '{rule.Id}' is loaded from the rules folder; change it there"),
                RuleChange.Replaced => Results.Json(new { id = rule.Id, replaced = true }, ApiJson.Options, statusCode: StatusCodes.Status200OK),
                _ => Results.Json(new { id = rule.Id }, ApiJson.Options, statusCode: StatusCodes.Status201Created),
            };
        }
        catch (SigmaException e)
        {
            return Results.Json(new { error = "invalid rule", detail = e.Reason, line = e.Line, column = e.Column, status = 400 },
                ApiJson.Options, "application/problem+json", StatusCodes.Status400BadRequest);
        }
    }

    private static async Task<IResult> RemoveAsync(string id, RuleRegistry registry, CancellationToken cancellationToken) =>
        await registry.RemoveAsync(id, cancellationToken) switch
        {
            RuleChange.Removed => Results.NoContent(),
            RuleChange.NotAnApiRule => Problems.Create(StatusCodes.Status409Conflict, "not an API rule", $"rule '{id}' is loaded from the rules folder; remove it there"),
            _ => Problems.Create(StatusCodes.Status404NotFound, "not found", $"no rule added through the API has id '{id}'"),
        };

    private static object Describe(LoadedRule loaded) => new
    {
        id = loaded.Rule.Id,
        title = loaded.Rule.Title,
        level = loaded.Rule.Level,
        status = loaded.Rule.Status,
        logsource = new { product = loaded.Rule.Logsource.Product, service = loaded.Rule.Logsource.Service, category = loaded.Rule.Logsource.Category },
        tags = loaded.Rule.Tags,
        source = loaded.Source,
    };
}
