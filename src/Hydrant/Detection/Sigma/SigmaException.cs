namespace Hydrant.Detection.Sigma;

/// <summary>
/// A rule that cannot be parsed or compiled: the reason, and where in the YAML it is (1-based
/// line and column, 0 when unknown). Expected for bad input, so callers report it, not crash.
/// </summary>
public sealed class SigmaException(string reason, int line = 0, int column = 0)
    : Exception(line > 0 ? $"line {line}, column {column}: {reason}" : reason)
{
    public string Reason { get; } = reason;
    public int Line { get; } = line;
    public int Column { get; } = column;
}
