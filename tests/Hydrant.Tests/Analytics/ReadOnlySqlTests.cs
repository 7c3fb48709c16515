using Hydrant.Analytics;

namespace Hydrant.Tests.Analytics;

public sealed class ReadOnlySqlTests
{
    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("select count(*) from events;")]
    [InlineData("  WITH x AS (SELECT 1) SELECT * FROM x ;  -- done")]
    [InlineData("(SELECT 1) UNION (SELECT 2)")]
    [InlineData("-- leading comment; with a semicolon\nSELECT 1")]
    [InlineData("/* a; b */ SELECT ';', \"odd;name\" FROM events")]
    [InlineData("SELECT 'it''s; fine'")]
    [InlineData("SELECT $$a;b$$, $tag$c;d$tag$")]
    [InlineData("SELECT * FROM events WHERE id = $1")]
    public void One_select_or_with_query_passes(string sql) => Assert.Null(ReadOnlySql.Check(sql));

    [Theory]
    [InlineData("INSERT INTO events VALUES (1)", "not INSERT")]
    [InlineData("delete from events", "not DELETE")]
    [InlineData("DROP TABLE events", "not DROP")]
    [InlineData("COPY events TO 'x.csv'", "not COPY")]
    [InlineData("PRAGMA database_list", "not PRAGMA")]
    [InlineData("SELECT 1; SELECT 2", "only one statement")]
    [InlineData("SELECT 1; DELETE FROM events", "only one statement")]
    [InlineData("SELECT 1;; ", "only one statement")]
    [InlineData("SELECT ';' ; DROP TABLE events", "only one statement")]
    [InlineData("", "empty")]
    [InlineData("  -- nothing\n ", "empty")]
    [InlineData("SELECT 'open", "unterminated string")]
    [InlineData("SELECT 1 /* open", "unterminated comment")]
    [InlineData("1 + 1", "must start with SELECT or WITH")]
    public void Anything_else_is_refused_with_the_reason(string sql, string reason) =>
        Assert.Contains(reason, ReadOnlySql.Check(sql), StringComparison.Ordinal);
}
