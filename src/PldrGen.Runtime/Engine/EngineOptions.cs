namespace PldrGen.Runtime.Engine;

/// <summary>How many sequences an engine runs at once, and how many more may wait.</summary>
public sealed record EngineOptions
{
    /// <summary>Sequences generated at once (≥ 1); each slot holds its own KV-cache, frozen A and G-cache.</summary>
    public int Slots { get; init; } = 4;

    /// <summary>Requests that may wait for a slot (≥ 0); one more is refused with <see cref="EngineQueueFullException"/>.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>
    /// Prefill work per scheduler turn while streams decode, in prompt tokens × layers (≥ 1): a layered (CPU) model
    /// prefills admitted prompts a layer at a time, oldest first, until this much is done, then every decoding slot
    /// steps once. A layer of one prompt always runs, so a prompt longer than the budget still advances. The default,
    /// 1536, is a 128-token prompt through the 110M shape's 12 layers: running streams wait at most that long per
    /// step however long the prompt (a 1,024-token one is spread over 8 turns), and a burst of short prompts fills the
    /// batch about as fast as prefilling them whole. Smaller budgets bound the step time tighter at the cost of the
    /// waiting prompts' first token; <see cref="int.MaxValue"/> prefills every admitted prompt before the next step, as
    /// llama.cpp's batched examples do.
    /// </summary>
    public int PrefillBudget { get; init; } = 1536;

    public void Validate()
    {
        if (Slots < 1) throw new PldrException($"slots must be ≥ 1, got {Slots}");
        if (PrefillBudget < 1) throw new PldrException($"prefill budget must be ≥ 1 prompt token × layer, got {PrefillBudget}");
        if (QueueCapacity < 0) throw new PldrException($"queue capacity must be ≥ 0, got {QueueCapacity}");
    }
}

/// <summary>Every slot is busy and the queue holds <see cref="EngineOptions.QueueCapacity"/> requests already.</summary>
public sealed class EngineQueueFullException(string message) : InvalidOperationException(message);
