using System.Text;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Server.Auth;

namespace Hydrant.Server.Api;

public static class RuleEndpoints
{
    private const int MaxRuleBytes = RuleLimits.MaxRuleBytes;

    public static void MapRules(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/rules", async (RuleRegistry registry, CancellationToken cancellationToken) =>
            {
                var current = await registry.LookupAsync(cancellationToken);
                return Results.Json(new RuleListAnswer([.. Describe(current, withYaml: false)], [.. current.Refusals.Select(r => new RuleRefusalAnswer(r.Source, r.Reason))]), ApiJson.Options);
            })
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("ListRules")
            .Answers<RuleListAnswer>()
            .WithSummary("Loaded rules with their source and status, and the rules that were refused");
        app.MapGet("/v1/rules/{id}", async (string id, RuleRegistry registry, CancellationToken cancellationToken) =>
                Describe(await registry.LookupAsync(cancellationToken), withYaml: true).FirstOrDefault(r => r.Id == id) is { } rule
                    ? Results.Json(rule, ApiJson.Options)
                    : Problems.Create(StatusCodes.Status404NotFound, "not found", $"no loaded rule has id '{id}'"))
            .Takes()
            .RequireScope(Scopes.Query)
            .WithName("GetRule")
            .Answers<RuleDescription>(problems: StatusCodes.Status404NotFound)
            .WithSummary("One loaded rule: what it detects and why (description, ATT&CK techniques and tactics, references, false positives) and its YAML");
        app.MapPost("/v1/rules", AddAsync)
            .Takes()
            .RequireScope(Scopes.Admin)
            .WithName("AddRule")
            .Reads<string>("application/yaml", "text/plain")
            .Answers<RuleAdded>(StatusCodes.Status201Created, problems: [StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge])
            .Produces<RuleAdded>(StatusCodes.Status200OK)
            .Produces<RuleProblem>(StatusCodes.Status400BadRequest, "application/problem+json")
            .WithSummary("Add (or replace, by id) a Sigma rule, filter or correlation sent as YAML (a correlation may bring its rules as further documents); it is stored and survives restarts");
        app.MapDelete("/v1/rules/{id}", RemoveAsync)
            .Takes()
            .RequireScope(Scopes.Admin)
            .WithName("DeleteRule")
            .Produces(StatusCodes.Status204NoContent)
            .Refuses(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
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
                RuleChange.Replaced => Results.Json(new RuleAdded(rule.Id) { Replaced = true }, ApiJson.Options, statusCode: StatusCodes.Status200OK),
                _ => Results.Json(new RuleAdded(rule.Id), ApiJson.Options, statusCode: StatusCodes.Status201Created),
            };
        }
        catch (SigmaException e)
        {
            return Results.Json(new RuleProblem("invalid rule", e.Reason, e.Line, e.Column, StatusCodes.Status400BadRequest),
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

    /// <summary>One loaded rule as <c>GET /v1/rules/{id}</c> shows it, or null.</summary>
    internal static RuleDescription? DescribeOne(RuleSet rules, string id) => Describe(rules, withYaml: true).FirstOrDefault(r => r.Id == id);

    private static IEnumerable<RuleDescription> Describe(RuleSet rules, bool withYaml)
    {
        RuleDescription About(RuleDescription description, SigmaDocument document) => description with
        {
            Description = document.About.Description,
            Author = document.About.Author,
            Date = document.About.Date,
            References = document.About.References,
            FalsePositives = document.About.FalsePositives,
            Tags = document.About.Tags,
            Attack = new AttackDescription(RuleAbout.Techniques(document.About.Tags), RuleAbout.Tactics(document.About.Tags)),
            Yaml = withYaml ? document.About.Yaml : null,
        };
        return
        [
            .. rules.Rules.Select(r => About(new RuleDescription(
                r.Rule.Id, r.Rule.Title, "detection", r.Rule.Level, r.Rule.Status, r.Source, rules.Plan.RaisesAlerts(r.Rule),
                new LogsourceDescription(r.Rule.Logsource.Product, r.Rule.Logsource.Service, r.Rule.Logsource.Category), r.Rule.Tags, null), r.Rule)),
            .. rules.Correlations.Select(c => About(new RuleDescription(
                c.Correlation.Id, c.Correlation.Title, "correlation", c.Correlation.Level, c.Correlation.Status, c.Source,
                rules.Plan.Nodes.First(n => ReferenceEquals(n.Correlation, c.Correlation)).RaisesAlerts, null, null,
                new CorrelationDescription(Snake(c.Correlation.Type), c.Correlation.Rules, c.Correlation.GroupBy, c.Correlation.Timespan.TotalSeconds, c.Correlation.Field,
                    c.Correlation.Condition.ToDictionary(b => b.Operator, b => b.Value))), c.Correlation)),
            .. rules.Filters.Select(f => About(new RuleDescription(
                f.Document.Id, f.Document.Title, "filter", null, null, f.Source, false, null, null, null) { Filters = ((SigmaFilter)f.Document).Rules }, f.Document)),
        ];
    }

    private static string Snake(CorrelationType type) => string.Concat(type.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
