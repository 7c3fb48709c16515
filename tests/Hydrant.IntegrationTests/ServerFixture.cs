namespace Hydrant.IntegrationTests;

/// <summary>One `hydrant serve` shared by the tests of the "server" collection; each test uses its own sources and ids.</summary>
public sealed class ServerFixture : IAsyncLifetime, IDisposable
{
    public const long MaxBodyBytes = 2 * 1024 * 1024;
    public const int MaxExaminedPerPage = 50;

    private readonly TempDirectory _data = new();

    public HydrantProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        // A century of retention, so the corpus's old events (2018-2025) can be queried back; a
        // small bound of events a search by field examines per page, so paging past it is tried.
        Server = await HydrantProcess.ServeAsync(_data.Path, [$"--Hydrant:Ingest:MaxBodyBytes={MaxBodyBytes}", "--Hydrant:Retention:Days=36500", $"--Hydrant:Query:MaxExaminedPerPage={MaxExaminedPerPage}", "--Hydrant:Stats:SampleSeconds=1"]);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Dispose();
    }

    public void Dispose() => _data.Dispose();
}

[CollectionDefinition("server")]
public sealed class ServerGroup : ICollectionFixture<ServerFixture>;
