using Npgsql;

namespace Hydrant.Testing;

/// <summary>
/// The real servers the scale-out backends are tested against. ./build.sh test starts them on
/// 127.0.0.1 and passes their addresses in HYDRANT_TEST_* variables; without one, a test that
/// needs it fails, saying how to get it (never skips).
/// </summary>
public static class TestServers
{
    public static string Postgres => Address("HYDRANT_TEST_POSTGRES", "PostgreSQL");

    public static string Redis => Address("HYDRANT_TEST_REDIS", "Redis");

    public static string DynamoDb => Address("HYDRANT_TEST_DYNAMODB", "dynalite");

    /// <summary>The browser the console is tested in (Debian's chromium).</summary>
    public static string Chromium => Address("HYDRANT_TEST_CHROMIUM", "chromium (installed if missing)");

    private static string Address(string variable, string server) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } address
            ? address
            : throw new InvalidOperationException(
                $"{variable} is not set: run the tests with ./build.sh test, which starts {server} on 127.0.0.1, or set it to a {server} of your own");
}

/// <summary>A database of its own on the test PostgreSQL, dropped afterwards, so tests never see each other's rows.</summary>
public sealed class PostgresDatabase : IDisposable
{
    private readonly string _name = "hydrant_test_" + Guid.NewGuid().ToString("N")[..12];

    public PostgresDatabase()
    {
        Execute($"CREATE DATABASE {_name}");
        ConnectionString = new NpgsqlConnectionStringBuilder(TestServers.Postgres) { Database = _name }.ConnectionString;
    }

    public string ConnectionString { get; }

    public void Dispose() => Execute($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");

    private static void Execute(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestServers.Postgres) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
