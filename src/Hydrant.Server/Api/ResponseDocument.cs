using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Hydrant.Server.Api;

/// <summary>Declares, for the OpenAPI document, what an endpoint answers: its shape on success and the problems it can answer with.</summary>
public static class ResponseDocument
{
    /// <summary>
    /// The answer's shape on <paramref name="status"/>, and the problems (application/problem+json)
    /// it may answer with; every endpoint behind a scope also answers 401 and 403.
    /// </summary>
    public static RouteHandlerBuilder Answers<T>(this RouteHandlerBuilder builder, int status = StatusCodes.Status200OK, string contentType = "application/json", params int[] problems) =>
        builder.Produces<T>(status, contentType).Refuses(problems);

    /// <summary>Problems the endpoint may answer with, each as <see cref="Problems.ProblemBody"/>; 401 and 403 always (scopes are checked on every endpoint that has one).</summary>
    public static RouteHandlerBuilder Refuses(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses.Append(StatusCodes.Status401Unauthorized).Append(StatusCodes.Status403Forbidden).Distinct())
        {
            builder.Produces<Problems.ProblemBody>(status, "application/problem+json");
        }
        return builder;
    }

    /// <summary>Text the endpoint also answers with on a status (a report as HTML, an answer as CSV), beside the JSON shape declared for it.</summary>
    public static RouteHandlerBuilder AlsoAnswersText(this RouteHandlerBuilder builder, int status, params string[] contentTypes) =>
        builder.WithMetadata(new TextAnswer(status, contentTypes));

    private sealed record TextAnswer(int Status, IReadOnlyList<string> ContentTypes);

    /// <summary>
    /// The request body the endpoint reads, for the document only: unlike Accepts, it does not make
    /// routing refuse other content types (the endpoints read their bodies whatever the header says:
    /// curl -d sends a form type).
    /// </summary>
    public static RouteHandlerBuilder Reads<T>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.WithMetadata(new BodyRead(typeof(T), contentTypes));

    private sealed record BodyRead(Type Type, IReadOnlyList<string> ContentTypes);

    /// <summary>
    /// Completes the document's answers: the text alternatives endpoints declare, and the objects
    /// that keep every field they arrived with (a stored event) say so (additionalProperties).
    /// </summary>
    public static OpenApiOptions DescribeAnswers(this OpenApiOptions options) => options
        .AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<BodyRead>().FirstOrDefault() is { } body)
            {
                var schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken);
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = body.ContentTypes.ToDictionary(t => t, _ => new OpenApiMediaType { Schema = schema }),
                };
            }
            foreach (var text in context.Description.ActionDescriptor.EndpointMetadata.OfType<TextAnswer>())
            {
                if (operation.Responses?.TryGetValue(text.Status.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) == true && response.Content is { } content)
                {
                    foreach (var type in text.ContentTypes)
                    {
                        content[type] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
                    }
                }
            }
        })
        .AddSchemaTransformer((schema, context, _) =>
        {
            if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object && context.JsonTypeInfo.Properties.Any(p => p.IsExtensionData))
            {
                schema.AdditionalProperties = new OpenApiSchema();
            }
            return Task.CompletedTask;
        });
}
