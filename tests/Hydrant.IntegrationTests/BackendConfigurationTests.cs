using Hydrant.Server.Hosting;

namespace Hydrant.IntegrationTests;

/// <summary>Each backend reads its own configuration section; what it needs and does not find stops the host with the key named.</summary>
public sealed class BackendConfigurationTests
{
    [Theory]
    [InlineData("--Hydrant:Cache:Kind=redis", "Hydrant:Redis:Configuration is not set")]
    [InlineData("--Hydrant:Analytics:Kind=postgres", "Hydrant:Postgres:ConnectionString is not set")]
    [InlineData("--Hydrant:Analytics:MemoryLimitMB=8", "Hydrant:Analytics:MemoryLimitMB must be 16 or more")]
    [InlineData("--Hydrant:Store:Kind=cassandra", "Hydrant:Store:Kind 'cassandra' is not available")]
    public void A_backend_missing_what_it_needs_stops_the_host_naming_the_setting(string flag, string expected)
    {
        using var data = new TempDirectory();
        var error = Assert.Throws<HydrantHost.ConfigurationException>(() => HydrantHost.Build(["--urls=http://127.0.0.1:0", $"--Hydrant:Data={data.Path}", flag]));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
