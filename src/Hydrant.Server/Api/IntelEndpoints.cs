using System.Globalization;
using System.Text;
using Hydrant.Enrichment;
using Hydrant.Enrichment.Intel;
using Hydrant.Server.Auth;
using Microsoft.AspNetCore.Http.Features;

namespace Hydrant.Server.Api;

/// <summary>The threat-intel lists: those of the configured files, shown, and those sent through the API, added, replaced and removed while the server runs.</summary>
public static class IntelEndpoints
{
    /// <summary>A list's text at most: room for <see cref="IntelListOptions.MaxEntries"/> addresses.</summary>
    public const int MaxListBytes = 32 * 1024 * 1024;

    public static void MapIntel(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/intel/lists", (EnrichmentSources sources) => Results.Json(new IntelListsAnswer(sources.Describe()), ApiJson.Options))
            .Takes()
            .RequireScope(Scopes.Admin)
            .WithName("ListIntelLists")
            .Answers<IntelListsAnswer>()
            .WithSummary("The threat-intel lists in force (from files and from the API): format, level, networks and domains held, hits since start, lines skipped");
        app.MapGet("/v1/intel/lists/{name}", (string name, EnrichmentSources sources) =>
                sources.Describe().FirstOrDefault(l => l.Name == name) is { } list
                    ? Results.Json(list, ApiJson.Options)
                    : Problems.Create(StatusCodes.Status404NotFound, "not found", $"no intel list is named '{name}'"))
            .Takes()
            .RequireScope(Scopes.Admin)
            .WithName("GetIntelList")
            .Answers<IntelListSummary>(problems: StatusCodes.Status404NotFound)
            .WithSummary("One threat-intel list in force");
        app.MapPut("/v1/intel/lists/{name}", PutAsync)
            .Takes("format", "column", "level")
            .RequireScope(Scopes.Admin)
            .WithName("PutIntelList")
            .Reads<string>("text/plain")
            .Answers<IntelListSummary>(StatusCodes.Status201Created, problems: [StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge])
            .Produces<IntelListSummary>(StatusCodes.Status200OK)
            .WithSummary("Add or replace a threat-intel list sent as the body (?format=lines|csv|domains, ?column= for csv, ?level= of its alerts); matched on every node from the next second, kept across restarts");
        app.MapDelete("/v1/intel/lists/{name}", DeleteAsync)
            .Takes()
            .RequireScope(Scopes.Admin)
            .WithName("DeleteIntelList")
            .Produces(StatusCodes.Status204NoContent)
            .Refuses(StatusCodes.Status404NotFound, StatusCodes.Status409Conflict)
            .WithSummary("Remove a threat-intel list that was added through the API");
    }

    private static async Task<IResult> PutAsync(string name, HttpContext context, EnrichmentSources sources)
    {
        if (!EnrichmentSources.IsValidName(name))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad list name", "a list name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        IntelListOptions options;
        try
        {
            var q = context.Request.Query;
            var column = 0;
            if (q["column"].ToString() is { Length: > 0 } columnText && (!int.TryParse(columnText, NumberStyles.None, CultureInfo.InvariantCulture, out column) || column > 1000))
            {
                throw new FormatException("column must be a whole number from 0 to 1000");
            }
            options = new IntelListOptions
            {
                Format = IntelListDocument.ParseFormat(q["format"].ToString() is { Length: > 0 } f ? f : null),
                Column = column,
                Level = IntelListDocument.ParseLevel(q["level"].ToString() is { Length: > 0 } l ? l : null),
            };
        }
        catch (FormatException e)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "bad query", e.Message);
        }
        if (context.Request.ContentLength > MaxListBytes)
        {
            return TooLarge();
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = MaxListBytes;
        }
        string text;
        try
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var buffer = new char[Math.Min(MaxListBytes + 1, (int)(context.Request.ContentLength ?? 64 * 1024) + 1)];
            var builder = new StringBuilder();
            int read;
            while ((read = await reader.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                builder.Append(buffer, 0, read);
                if (builder.Length > MaxListBytes)
                {
                    return TooLarge();
                }
            }
            text = builder.ToString();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge();
        }
        try
        {
            var (change, list) = await sources.PutAsync(name, text, options, context.RequestAborted);
            return change switch
            {
                IntelListChange.FromFile => Problems.Create(StatusCodes.Status409Conflict, "list from a file", $"the list '{name}' is read from a configured file (Hydrant:Enrichment:Intel:Lists); change the file"),
                IntelListChange.Replaced => Results.Json(list, ApiJson.Options, statusCode: StatusCodes.Status200OK),
                _ => Results.Json(list, ApiJson.Options, statusCode: StatusCodes.Status201Created),
            };
        }
        catch (InvalidDataException e)
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "list refused", e.Message);
        }
    }

    private static IResult TooLarge() =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge, "list too large", $"a list may be at most {MaxListBytes} bytes");

    private static async Task<IResult> DeleteAsync(string name, EnrichmentSources sources, CancellationToken cancellationToken) =>
        await sources.DeleteAsync(name, cancellationToken) switch
        {
            IntelListChange.Removed => Results.NoContent(),
            IntelListChange.FromFile => Problems.Create(StatusCodes.Status409Conflict, "list from a file", $"the list '{name}' is read from a configured file; remove it from Hydrant:Enrichment:Intel:Lists"),
            _ => Problems.Create(StatusCodes.Status404NotFound, "not found", $"no list added through the API is named '{name}'"),
        };
}
