using System.Text.Json;

namespace Hydrant.Events.Fields;

/// <summary>
/// One value of an indexed event: a view into its bytes. Its text is made (and kept) only when
/// something asks for it, so fields no rule reads cost no string.
/// </summary>
public readonly struct FieldValue
{
    private readonly EventFields _fields;
    private readonly int _index;

    internal FieldValue(EventFields fields, int index)
    {
        _fields = fields;
        _index = index;
    }

    public JsonValueKind Kind => _fields.KindOf(_index);

    /// <summary>The text a value is compared as: strings as they are, numbers and booleans as written; null for null, objects and arrays.</summary>
    public string? Text => _fields.TextOf(_index);

    /// <summary>The value as it is written in the event (a string with its quotes).</summary>
    public string RawText => _fields.RawTextOf(_index);

    /// <summary>A number, or a string that reads as one.</summary>
    public bool TryNumber(out double number) => _fields.TryNumberOf(_index, out number);

    /// <summary>The items of an array (none for anything else).</summary>
    public Items Elements => new(_fields, Kind == JsonValueKind.Array ? _fields.FirstChildOf(_index) : -1);

    /// <summary>The items of an array, in order, without allocating.</summary>
    public readonly struct Items(EventFields fields, int first)
    {
        public Enumerator GetEnumerator() => new(fields, first);

        public struct Enumerator(EventFields fields, int first)
        {
            private int _next = first;

            public FieldValue Current { get; private set; }

            public bool MoveNext()
            {
                if (_next < 0)
                {
                    return false;
                }
                Current = new FieldValue(fields, _next);
                _next = fields.NextSiblingOf(_next);
                return true;
            }
        }
    }
}
