using System.Text.Json;
using Hydrant.Detection.Alerts;
using StackExchange.Redis;

namespace Hydrant.Redis;

/// <summary>
/// Alerts between nodes over Redis pub/sub: one channel per deployment, each message the sending
/// node's name and the alert's JSON, so a node skips what it sent itself.
/// </summary>
internal sealed class RedisAlertRelay(IConnectionMultiplexer redis, string node, string prefix = RedisKeys.DefaultPrefix) : IAlertRelay
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly RedisChannel _channel = RedisChannel.Literal(prefix + "alerts");

    public async ValueTask SendAsync(Alert alert, CancellationToken cancellationToken) =>
        await redis.GetSubscriber().PublishAsync(_channel, node + "\n" + JsonSerializer.Serialize(alert, Json));

    public async ValueTask<IAsyncDisposable> ReceiveAsync(Action<Alert> received, CancellationToken cancellationToken)
    {
        var subscriber = redis.GetSubscriber();
        Action<RedisChannel, RedisValue> handler = (_, message) =>
        {
            var text = (string)message!;
            var split = text.IndexOf('\n', StringComparison.Ordinal);
            if (split > 0 && text.AsSpan(0, split).SequenceEqual(node))
            {
                return;
            }
            if (split > 0 && JsonSerializer.Deserialize<Alert>(text.AsSpan(split + 1), Json) is { } alert)
            {
                received(alert);
            }
        };
        await subscriber.SubscribeAsync(_channel, handler);
        return new Subscription(subscriber, _channel, handler);
    }

    private sealed class Subscription(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> handler) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await subscriber.UnsubscribeAsync(channel, handler);
    }
}
