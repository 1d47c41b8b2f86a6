namespace PldrGen.Runtime.Engine;

/// <summary>How many sequences an engine runs at once, and how many more may wait.</summary>
public sealed record EngineOptions
{
    /// <summary>Sequences generated at once (≥ 1); each slot holds its own KV-cache, frozen A and G-cache.</summary>
    public int Slots { get; init; } = 4;

    /// <summary>Requests that may wait for a slot (≥ 0); one more is refused with <see cref="EngineQueueFullException"/>.</summary>
    public int QueueCapacity { get; init; } = 256;

    public void Validate()
    {
        if (Slots < 1) throw new PldrException($"slots must be ≥ 1, got {Slots}");
        if (QueueCapacity < 0) throw new PldrException($"queue capacity must be ≥ 0, got {QueueCapacity}");
    }
}

/// <summary>Every slot is busy and the queue holds <see cref="EngineOptions.QueueCapacity"/> requests already.</summary>
public sealed class EngineQueueFullException(string message) : InvalidOperationException(message);
