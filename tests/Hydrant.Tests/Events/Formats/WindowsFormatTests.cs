using System.Text;
using System.Text.Json;
using Hydrant.Detection;
using Hydrant.Detection.Sigma;
using Hydrant.Events;
using Hydrant.Events.Formats;

namespace Hydrant.Tests.Events.Formats;

public sealed class WindowsFormatTests
{
    private static readonly ParseOptions Windows = new() { Format = InputFormat.Windows };
    private static readonly EventParser Parser = new(EventLimits.Default with { MaxBodyBytes = long.MaxValue }, new FixedClock(new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero)));

    private static JsonElement Json(SecurityEvent e) => JsonDocument.Parse(e.Json).RootElement.Clone();

    private static string[] OtrfFiles => Directory.GetFiles(Corpus.Path("logs", "windows", "otrf-atomic"), "*.json", SearchOption.AllDirectories);

    [Fact]
    public void Every_otrf_record_is_accepted_with_the_logsource_its_channel_and_event_id_give()
    {
        var (records, sysmonProcesses) = (0, 0);
        foreach (var file in OtrfFiles)
        {
            using var batch = Parser.Parse(File.ReadAllBytes(file), Windows);
            Assert.Empty(batch.Rejections);
            records += batch.Events.Count;
            foreach (var e in batch.Events)
            {
                var json = Json(e);
                Assert.Equal("windows", e.Logsource!.Product);
                Assert.Equal(JsonValueKind.Number, json.GetProperty("EventID").ValueKind);
                var channel = json.GetProperty("Channel").GetString()!;
                if (string.Equals(channel, "security", StringComparison.OrdinalIgnoreCase))
                {
                    // Both spellings OTRF exports: one service.
                    Assert.Equal("security", e.Logsource.Service);
                }
                if (channel == "Microsoft-Windows-Sysmon/Operational" && json.GetProperty("EventID").GetInt32() == 1)
                {
                    sysmonProcesses++;
                    Assert.Equal(("sysmon", "process_creation", "win.sysmon.1"), (e.Logsource.Service, e.Logsource.Category, e.EventType));
                    // Sysmon's UtcTime is the event time, not the export's local TimeCreated.
                    var utc = DateTime.SpecifyKind(DateTime.Parse(json.GetProperty("UtcTime").GetString()!, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
                    Assert.Equal(new DateTimeOffset(utc).ToUnixTimeMilliseconds(), e.TimestampMs);
                    Assert.True(json.TryGetProperty("Image", out _));
                }
                Assert.False(string.IsNullOrEmpty(json.GetProperty("Computer").GetString()));
                Assert.False(string.IsNullOrEmpty(json.GetProperty("Provider_Name").GetString()));
            }
        }
        // The corpus: 4,613 lines, one of them blank; 15 Sysmon process creations.
        Assert.Equal(4_612, records);
        Assert.Equal(15, sysmonProcesses);
    }

    private const string Flattened = """
        {"SourceName":"Microsoft-Windows-Security-Auditing","Channel":"Security","EventID":4688,"Hostname":"WS5","TimeCreated":"2020-10-18 10:56:18.799","SystemTime":"2020-10-19T02:56:18.7990000Z","NewProcessName":"C:\\Windows\\System32\\cmd.exe","ParentProcessName":"C:\\Windows\\explorer.exe","CommandLine":"cmd.exe /c whoami","IpAddress":"-"}
        """;

    private const string Nested = """
        {"Event":{"#attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"54849625-5478-4994-A5BA-3E3B0328C30D"}},"EventID":4688,"TimeCreated":{"#attributes":{"SystemTime":"2020-10-19T02:56:18.799000Z"}},"EventRecordID":123,"Channel":"Security","Computer":"WS5"},"EventData":{"NewProcessName":"C:\\Windows\\System32\\cmd.exe","ParentProcessName":"C:\\Windows\\explorer.exe","CommandLine":"cmd.exe /c whoami","IpAddress":"-"}}}
        """;

    private const string Winlogbeat = """
        {"@timestamp":"2020-10-19T02:56:18.799Z","message":"A new process has been created.","winlog":{"channel":"Security","event_id":"4688","computer_name":"WS5","provider_name":"Microsoft-Windows-Security-Auditing","event_data":{"NewProcessName":"C:\\Windows\\System32\\cmd.exe","ParentProcessName":"C:\\Windows\\explorer.exe","CommandLine":"cmd.exe /c whoami","IpAddress":"-"}}}
        """;

    [Theory]
    [InlineData(Flattened)]
    [InlineData(Nested)]
    [InlineData(Winlogbeat)]
    public void Each_exported_shape_of_a_4688_gives_the_fields_sigma_rules_read(string record)
    {
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes(record), Windows);
        Assert.Empty(batch.Rejections);
        var e = Assert.Single(batch.Events);
        var json = Json(e);
        Assert.Equal(("win.security.4688", "WS5", 1_603_076_178_799L), (e.EventType, e.SourceIP, e.TimestampMs));
        Assert.Equal(new EventLogsource("windows", "security", "process_creation"), e.Logsource);
        Assert.Equal(("Security", 4688, "WS5", "Microsoft-Windows-Security-Auditing"),
            (json.GetProperty("Channel").GetString(), json.GetProperty("EventID").GetInt32(), json.GetProperty("Computer").GetString(), json.GetProperty("Provider_Name").GetString()));
        // Sysmon's names beside Security's own.
        Assert.Equal(@"C:\Windows\System32\cmd.exe", json.GetProperty("Image").GetString());
        Assert.Equal(@"C:\Windows\explorer.exe", json.GetProperty("ParentImage").GetString());
        Assert.Equal(@"C:\Windows\System32\cmd.exe", json.GetProperty("NewProcessName").GetString());
        Assert.Equal("cmd.exe /c whoami", json.GetProperty("CommandLine").GetString());
    }

    [Fact]
    public void A_remote_address_is_the_source_and_fields_named_like_canonical_ones_keep_their_values()
    {
        const string Logon = """
            {"Channel":"Security","EventID":4625,"Hostname":"DC1","@timestamp":"2020-10-19T02:56:18.799Z","IpAddress":"203.0.113.9","TargetUserName":"admin","id":"theirs","timestamp":"not ours","EventData_x":1,"x":2}
            """;
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes(Logon), Windows);
        var e = Assert.Single(batch.Events);
        var json = Json(e);
        Assert.Equal(("203.0.113.9", "win.security.4625"), (e.SourceIP, e.EventType));
        Assert.Equal(("theirs", "not ours"), (json.GetProperty("win_id").GetString(), json.GetProperty("win_timestamp").GetString()));
        Assert.NotEqual("theirs", e.Id);
        Assert.Null(EventShape.Check(e.Json.Span));
    }

    [Theory]
    [InlineData("""{"EventID":1,"UtcTime":"2020-10-19 02:56:18.799","Hostname":"a"}""", "missing Channel")]
    [InlineData("""{"Channel":"Security","UtcTime":"2020-10-19 02:56:18.799","Hostname":"a"}""", "missing EventID")]
    [InlineData("""{"Channel":"Security","EventID":70000,"UtcTime":"2020-10-19 02:56:18.799","Hostname":"a"}""", "missing EventID")]
    [InlineData("""{"Channel":"Security","EventID":"12x","UtcTime":"2020-10-19 02:56:18.799","Hostname":"a"}""", "missing EventID")]
    [InlineData("""{"Channel":"Security","EventID":1,"Hostname":"a"}""", "no event time")]
    [InlineData("""{"Channel":"Security","EventID":1,"UtcTime":"yesterday","Hostname":"a"}""", "no event time")]
    [InlineData("""{"Channel":"Security","EventID":1,"UtcTime":"2020-10-19 02:56:18.799"}""", "no source")]
    [InlineData("""["Channel"]""", "must be a JSON object")]
    public void A_record_without_what_a_windows_event_needs_is_refused_by_index_naming_it(string record, string reason)
    {
        var good = """{"Channel":"System","EventID":7045,"Hostname":"a","@timestamp":"2020-10-19T02:56:18.799Z"}""";
        using var batch = Parser.Parse(Encoding.UTF8.GetBytes(good + "\n" + record + "\n" + good), Windows);
        Assert.Equal(2, batch.Events.Count);
        var rejection = Assert.Single(batch.Rejections);
        Assert.Equal(1, rejection.Index);
        Assert.Contains(reason, rejection.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sigmahq_windows_rules_raise_alerts_on_the_otrf_attacks()
    {
        var compiler = new SigmaCompiler(SigmaOptions.Default);
        var rules = RuleSet.Load(Corpus.Path("sigmahq", "rules", "windows"), compiler, includeDefaultPack: false);
        var fired = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in OtrfFiles.Where(f => f.Contains("lsass", StringComparison.Ordinal)))
        {
            using var batch = Parser.Parse(File.ReadAllBytes(file), Windows);
            foreach (var e in batch.Events)
            {
                using var view = new EventView(e.Json);
                foreach (var rule in rules.Matching(view))
                {
                    fired.Add(rule.Title);
                }
            }
        }
        // The comsvcs.dll MiniDump of lsass (psh_lsass_memory_dump_comsvcs) is what SigmaHQ names.
        Assert.Contains(fired, t => t.Contains("Comsvcs", StringComparison.OrdinalIgnoreCase) || t.Contains("LSASS", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void A_sysmon_registry_event_is_seen_by_the_rules_of_every_category_sigma_gives_it()
    {
        static string Rule(string category, string title, string eventType) => $$"""
            title: {{title}}
            logsource:
                product: windows
                category: {{category}}
            detection:
                selection:
                    EventType: {{eventType}}
                    TargetObject|contains: '\Run\'
                condition: selection
            """;
        string[] yaml = [Rule("registry_delete", "deleted", "DeleteValue"), Rule("registry_add", "added", "CreateKey"),
            Rule("registry_event", "any deletion", "DeleteValue"), Rule("registry_set", "set", "DeleteValue"), Rule("registry_event", "any set", "SetValue")];
        var compiler = new SigmaCompiler(SigmaOptions.Default);
        var rules = new RuleSet(yaml.Select(d => new LoadedDocument(compiler.Compile(d), "test")), []);
        string[] Fired(int eventId, string eventType)
        {
            var record = $$"""{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":{{eventId}},"Hostname":"WS5","UtcTime":"2020-10-19 02:56:18.799","EventType":"{{eventType}}","TargetObject":"HKU\\S-1\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\x"}""";
            using var batch = Parser.Parse(Encoding.UTF8.GetBytes(record), Windows);
            using var view = new EventView(Assert.Single(batch.Events).Json);
            return [.. rules.Matching(view).Select(r => r.Title).Order(StringComparer.Ordinal)];
        }

        // EventID 12 is registry_add, and registry_delete and registry_event too; its EventType tells them apart.
        Assert.Equal(["any deletion", "deleted"], Fired(12, "DeleteValue"));
        Assert.Equal(["added"], Fired(12, "CreateKey"));
        // 13 is registry_set and registry_event, never registry_delete.
        Assert.Equal(["any set"], Fired(13, "SetValue"));
        Assert.Equal(["any deletion", "set"], Fired(13, "DeleteValue"));
    }
}
