namespace Hydrant.Redis;

/// <summary>The Lua scripts compiled into this assembly from Scripts/*.lua.</summary>
internal static class RedisScripts
{
    public static string Load(string name)
    {
        using var stream = typeof(RedisScripts).Assembly.GetManifestResourceStream("Hydrant.Redis.Scripts." + name)
            ?? throw new InvalidOperationException($"the script {name} is not compiled in");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
