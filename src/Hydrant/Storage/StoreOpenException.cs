namespace Hydrant.Storage;

/// <summary>A store could not be opened (the data folder is held by another process, unreadable, damaged): what the operator must fix before the node can start.</summary>
public sealed class StoreOpenException(string message, Exception inner) : Exception(message, inner);
