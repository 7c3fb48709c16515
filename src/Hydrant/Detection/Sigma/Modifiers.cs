namespace Hydrant.Detection.Sigma;

internal enum ValueType
{
    String,
    Regex,
    Cidr,
    Numeric,
    Exists,
    FieldRef,
}

internal enum Position
{
    Exact,
    Contains,
    StartsWith,
    EndsWith,
}

internal enum Comparison
{
    Equal,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// <summary>The value modifiers of one field (sigma-appendix-modifiers.md), checked for combinations that make sense.</summary>
internal sealed class Modifiers
{
    private static readonly HashSet<string> TimeParts = new(["minute", "hour", "day", "week", "month", "year"], StringComparer.Ordinal);

    public ValueType Type { get; private set; } = ValueType.String;
    public Position Position { get; private set; } = Position.Exact;
    public Comparison Comparison { get; private set; } = Comparison.Equal;
    public string? TimePart { get; private set; }
    public bool All { get; private set; }
    public bool Cased { get; private set; }
    public bool Negate { get; private set; }
    public bool Windash { get; private set; }
    public bool Expand { get; private set; }
    public bool RegexIgnoreCase { get; private set; }
    public bool RegexMultiline { get; private set; }
    public bool RegexSingleline { get; private set; }
    public List<string> Encodings { get; } = [];

    public static Modifiers Parse(IReadOnlyList<string> names)
    {
        var spec = new Modifiers();
        foreach (var name in names)
        {
            switch (name)
            {
                case "contains":
                    spec.SetPosition(Position.Contains, name);
                    break;
                case "startswith":
                    spec.SetPosition(Position.StartsWith, name);
                    break;
                case "endswith":
                    spec.SetPosition(Position.EndsWith, name);
                    break;
                case "all":
                    spec.All = true;
                    break;
                case "cased":
                    spec.Cased = true;
                    break;
                case "neq":
                    spec.Negate = true;
                    break;
                case "windash":
                    spec.Windash = true;
                    break;
                case "expand":
                    spec.Expand = true;
                    break;
                case "base64" or "base64offset" or "utf16le" or "utf16be" or "utf16" or "wide":
                    spec.Encodings.Add(name);
                    break;
                case "re":
                    spec.SetType(ValueType.Regex, name);
                    break;
                case "i" or "m" or "s":
                    if (spec.Type != ValueType.Regex)
                    {
                        throw new SigmaException($"modifier '{name}' applies only after 're'");
                    }
                    spec.RegexIgnoreCase |= name == "i";
                    spec.RegexMultiline |= name == "m";
                    spec.RegexSingleline |= name == "s";
                    break;
                case "cidr":
                    spec.SetType(ValueType.Cidr, name);
                    break;
                case "exists":
                    spec.SetType(ValueType.Exists, name);
                    break;
                case "fieldref":
                    spec.SetType(ValueType.FieldRef, name);
                    break;
                case "lt" or "lte" or "gt" or "gte":
                    if (spec.Type != ValueType.Numeric || spec.TimePart is null)
                    {
                        spec.SetType(ValueType.Numeric, name);
                    }
                    spec.Comparison = name switch
                    {
                        "lt" => Comparison.Less,
                        "lte" => Comparison.LessOrEqual,
                        "gt" => Comparison.Greater,
                        _ => Comparison.GreaterOrEqual,
                    };
                    break;
                case var part when TimeParts.Contains(part):
                    if (spec.Type == ValueType.Numeric && spec.TimePart is null)
                    {
                        throw new SigmaException($"time modifier '{part}' must come before the comparison");
                    }
                    spec.SetType(ValueType.Numeric, name);
                    spec.TimePart = part;
                    break;
                default:
                    throw new SigmaException($"unsupported modifier '{name}'");
            }
        }
        if (spec.Position != Position.Exact && spec.Type is not (ValueType.String))
        {
            throw new SigmaException($"'{spec.Position.ToString().ToLowerInvariant()}' does not combine with '{spec.Type.ToString().ToLowerInvariant()}'");
        }
        return spec;
    }

    private void SetPosition(Position position, string name)
    {
        if (Position != Position.Exact)
        {
            throw new SigmaException($"'{name}' conflicts with another of contains, startswith, endswith");
        }
        Position = position;
    }

    private void SetType(ValueType type, string name)
    {
        if (Type != ValueType.String && Type != type)
        {
            throw new SigmaException($"'{name}' conflicts with the '{Type.ToString().ToLowerInvariant()}' modifier");
        }
        Type = type;
    }
}
