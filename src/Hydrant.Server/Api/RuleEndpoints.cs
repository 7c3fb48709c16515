using Hydrant.Detection;
using Hydrant.Server.Auth;

namespace Hydrant.Server.Api;

public static class RuleEndpoints
{
    public static void MapRules(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/rules", (RuleSet rules) => Results.Json(new
        {
            rules = rules.Rules.Select(Describe),
            refused = rules.Refusals.Select(r => new { source = r.Source, reason = r.Reason }),
        }, ApiJson.Options))
            .RequireScope(Scopes.Query)
            .WithName("ListRules")
            .WithSummary("Loaded rules with their source and status, and the rules that were refused");
        app.MapGet("/v1/rules/{id}", (string id, RuleSet rules) =>
                rules.Rules.FirstOrDefault(r => r.Rule.Id == id) is { } rule
                    ? Results.Json(Describe(rule), ApiJson.Options)
                    : Problems.Create(StatusCodes.Status404NotFound, "not found", $"no loaded rule has id '{id}'"))
            .RequireScope(Scopes.Query)
            .WithName("GetRule");
    }

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
