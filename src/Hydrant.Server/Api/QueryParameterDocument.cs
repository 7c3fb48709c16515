using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Hydrant.Server.Api;

/// <summary>Puts the query parameters each endpoint declares (<see cref="QueryParameters"/>) into the OpenAPI document, so it lists exactly what the API accepts.</summary>
internal static class QueryParameterDocument
{
    public static OpenApiOptions DescribeQueryParameters(this OpenApiOptions options) => options.AddOperationTransformer((operation, context, _) =>
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<QueryParameters>().FirstOrDefault() is { } declared)
        {
            operation.Parameters ??= [];
            foreach (var name in declared.Names.Where(n => operation.Parameters.All(p => p.Name != n)))
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name.EndsWith('*') ? name[..^1] + "{name}" : name,
                    In = ParameterLocation.Query,
                    Description = name.EndsWith('*') ? $"any name after '{name[..^1]}': repeatable, see the endpoint's summary" : null,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
        }
        return Task.CompletedTask;
    });
}
