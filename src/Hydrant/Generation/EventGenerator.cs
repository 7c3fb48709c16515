using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Hydrant.Events;

namespace Hydrant.Generation;

/// <summary>Settings for synthetic events. Built once; the same settings and seed give the same events.</summary>
public sealed record GeneratorOptions
{
    public long Count { get; init; } = 1000;

    /// <summary>Events are spread over this many days ending at <see cref="EndMs"/>.</summary>
    public double Days { get; init; } = 1;

    /// <summary>Distinct source addresses; their traffic follows a heavy-tailed (Zipf) distribution.</summary>
    public int Sources { get; init; } = 1000;

    /// <summary>An address that also runs an SSH brute force and a port scan through the data.</summary>
    public string? Attacker { get; init; }

    /// <summary>Approximate size of each event's JSON in bytes.</summary>
    public int SizeBytes { get; init; } = 1024;

    public int Seed { get; init; } = 1;

    /// <summary>The newest possible timestamp (epoch ms); defaults to now.</summary>
    public long? EndMs { get; init; }

    /// <summary>Give each event a deterministic id (gen-{seed}-{n}), so re-sending a file stores it once.</summary>
    public bool WithIds { get; init; } = true;
}

/// <summary>
/// Realistic security events: sshd and web logins, firewall decisions, DNS lookups, HTTP requests
/// and process starts, from sources whose volumes follow a Zipf law, with an optional attacker.
/// Timestamps ascend, as a live feed's would.
/// </summary>
public sealed class EventGenerator
{
    private static readonly string[] Users = ["root", "admin", "alice", "bob", "carol", "deploy", "ubuntu", "svc-backup", "oracle", "postgres"];
    private static readonly string[] Hosts = ["web-01", "web-02", "bastion", "db-01", "build-7", "vpn-gw", "mail-01", "k8s-node-3"];
    private static readonly string[] Domains = ["example.com", "updates.vendor.net", "cdn.assets.io", "login.corp.local", "api.payments.test", "x9f3k.top"];
    private static readonly string[] Paths = ["/", "/login", "/api/v1/orders", "/wp-login.php", "/static/app.js", "/admin", "/.env", "/health"];
    private static readonly string[] Agents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "curl/8.5.0", "python-requests/2.32", "Go-http-client/1.1", "sqlmap/1.8"];
    private static readonly string[] Processes = ["/usr/bin/bash", "/usr/bin/curl", "/usr/sbin/sshd", "/usr/bin/python3", "/tmp/.x/kworker", "/usr/bin/nc"];
    private static readonly int[] Ports = [22, 80, 443, 3389, 445, 8080, 5432, 6379, 53, 25];

    private static readonly (string Type, double Weight)[] Mix =
    [
        ("auth.failure", 0.12), ("auth.success", 0.10), ("firewall.deny", 0.18), ("firewall.allow", 0.20),
        ("dns.query", 0.20), ("http.request", 0.15), ("process.start", 0.05),
    ];

    private readonly GeneratorOptions _options;
    private readonly string[] _sources;
    private readonly double[] _sourceCdf;

    public EventGenerator(GeneratorOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Sources, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.Count);
        _options = options;
        var random = new Random(options.Seed);
        _sources = new string[options.Sources];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < _sources.Length; i++)
        {
            string ip;
            do
            {
                ip = random.Next(4) switch
                {
                    0 => $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)}",
                    1 => $"192.168.{random.Next(256)}.{random.Next(1, 255)}",
                    2 => $"2001:db8:{random.Next(0x10000):x}::{random.Next(1, 0x10000):x}",
                    _ => $"{random.Next(11, 223)}.{random.Next(256)}.{random.Next(256)}.{random.Next(1, 255)}",
                };
                SourceAddress.TryNormalizeIp(ip, out ip);
            }
            while (!seen.Add(ip));
            _sources[i] = ip;
        }
        // Zipf with exponent 1.1: a few sources send most of the traffic, as on a real network.
        _sourceCdf = new double[_sources.Length];
        var total = 0.0;
        for (var i = 0; i < _sources.Length; i++)
        {
            total += 1.0 / Math.Pow(i + 1, 1.1);
            _sourceCdf[i] = total;
        }
        for (var i = 0; i < _sourceCdf.Length; i++)
        {
            _sourceCdf[i] /= total;
        }
    }

    public IReadOnlyList<string> Sources => _sources;

    /// <summary>Writes the events as NDJSON (one object and a newline each).</summary>
    public void WriteNdjson(IBufferWriter<byte> output, long firstIndex = 0, long? count = null)
    {
        var random = new Random(unchecked((_options.Seed * 1_000_003) + (int)firstIndex));
        var endMs = _options.EndMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var spanMs = (long)(_options.Days * 86_400_000);
        var total = Math.Max(_options.Count, 1);
        var last = Math.Min(_options.Count, firstIndex + (count ?? _options.Count));
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        for (var n = firstIndex; n < last; n++)
        {
            // Ascending times with jitter inside each event's slot.
            var ts = endMs - spanMs + (long)((n + random.NextDouble()) * spanMs / total);
            json.Reset(output);
            WriteEvent(json, random, n, Math.Min(ts, endMs));
            json.Flush();
            output.GetSpan(1)[0] = (byte)'\n';
            output.Advance(1);
        }
    }

    private void WriteEvent(Utf8JsonWriter json, Random random, long n, long ts)
    {
        var attack = _options.Attacker is not null && random.NextDouble() < 0.05;
        var source = attack ? _options.Attacker! : _sources[PickSource(random.NextDouble())];
        var type = attack ? (random.Next(2) == 0 ? "auth.failure" : "firewall.deny") : PickType(random.NextDouble());

        json.WriteStartObject();
        if (_options.WithIds)
        {
            json.WriteString("id", string.Create(CultureInfo.InvariantCulture, $"gen-{_options.Seed}-{n}"));
        }
        json.WriteString("timestamp", Timestamps.ToText(ts));
        json.WriteString("eventType", type);
        json.WriteString("sourceIP", source);
        json.WriteStartObject("logsource");
        json.WriteString("product", "hydrant");
        json.WriteString("service", type[..type.IndexOf('.', StringComparison.Ordinal)]);
        json.WriteEndObject();
        var host = Hosts[random.Next(Hosts.Length)];
        json.WriteString("host", host);
        string message;
        switch (type)
        {
            case "auth.failure":
            case "auth.success":
                var user = Users[random.Next(Users.Length)];
                var ok = type == "auth.success";
                json.WriteString("user", user);
                json.WriteString("method", random.Next(3) == 0 ? "publickey" : "password");
                json.WriteString("service", "sshd");
                json.WriteNumber("sourcePort", random.Next(1024, 65536));
                message = ok
                    ? $"Accepted password for {user} from {source} port {random.Next(1024, 65536)} ssh2"
                    : $"Failed password for {(random.Next(4) == 0 ? "invalid user " : string.Empty)}{user} from {source} port {random.Next(1024, 65536)} ssh2";
                break;
            case "firewall.deny":
            case "firewall.allow":
                var port = attack ? random.Next(1, 65536) : Ports[random.Next(Ports.Length)];
                var destination = $"172.16.{random.Next(256)}.{random.Next(1, 255)}";
                json.WriteString("destinationIP", destination);
                json.WriteNumber("destinationPort", port);
                json.WriteString("protocol", random.Next(5) == 0 ? "udp" : "tcp");
                json.WriteString("action", type == "firewall.deny" ? "deny" : "allow");
                json.WriteNumber("bytes", random.Next(40, 1_500_000));
                json.WriteString("rule", $"fw-{random.Next(1, 300):000}");
                message = $"{(type == "firewall.deny" ? "DENY" : "ALLOW")} {source} -> {destination}:{port}";
                break;
            case "dns.query":
                var domain = Domains[random.Next(Domains.Length)];
                json.WriteString("query", domain);
                json.WriteString("qtype", random.Next(4) == 0 ? "AAAA" : "A");
                json.WriteString("rcode", random.Next(10) == 0 ? "NXDOMAIN" : "NOERROR");
                message = $"query {domain} from {source}";
                break;
            case "http.request":
                var path = Paths[random.Next(Paths.Length)];
                var status = random.Next(10) switch { 0 => 404, 1 => 401, 2 => 500, _ => 200 };
                json.WriteString("method", random.Next(4) == 0 ? "POST" : "GET");
                json.WriteString("path", path);
                json.WriteNumber("status", status);
                json.WriteString("userAgent", Agents[random.Next(Agents.Length)]);
                message = $"\"GET {path} HTTP/1.1\" {status}";
                break;
            default:
                var image = Processes[random.Next(Processes.Length)];
                json.WriteString("image", image);
                json.WriteString("commandLine", $"{image} -c 'id; uname -a'");
                json.WriteNumber("pid", random.Next(300, 99999));
                json.WriteString("user", Users[random.Next(Users.Length)]);
                message = $"process started: {image}";
                break;
        }
        json.WriteString("message", message);
        var pad = _options.SizeBytes - (int)json.BytesPending - 20;
        if (pad > 0)
        {
            json.WriteString("raw", Filler(random, pad));
        }
        json.WriteEndObject();
    }

    private int PickSource(double u)
    {
        var index = Array.BinarySearch(_sourceCdf, u);
        return Math.Min(index < 0 ? ~index : index, _sources.Length - 1);
    }

    private static string PickType(double u)
    {
        foreach (var (type, weight) in Mix)
        {
            if (u < weight)
            {
                return type;
            }
            u -= weight;
        }
        return Mix[^1].Type;
    }

    private static string Filler(Random random, int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 =:/.-";
        return string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = alphabet[r.Next(alphabet.Length)];
            }
        });
    }
}
