using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using PldrGen.Runtime.Generation;

namespace PldrGen.Server;

/// <summary>One sequence a request asks for: its prompt's token ids and what the engine does with them.</summary>
sealed record SequenceRequest(int[] Prompt, GenerateOptions Options);

/// <summary>A token of sequence <see cref="Index"/> in a request's set of sequences.</summary>
readonly record struct SequenceEvent(int Index, GeneratedToken Token);

/// <summary>
/// Runs a request's sequences (prompts × n) on the engine at once and merges their tokens in the order they come.
/// The first failure ends the set and cancels the rest; each sequence's timings go to the metrics.
/// </summary>
static class SequenceSet
{
    public static async IAsyncEnumerable<SequenceEvent> RunAsync(ServedModel served, IReadOnlyList<SequenceRequest> sequences, [EnumeratorCancellation] CancellationToken cancel)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        var events = Channel.CreateUnbounded<SequenceEvent>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = sequences.Select((request, index) => Pump(served, index, request, events.Writer, stop.Token)).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(_ => events.Writer.TryComplete(), TaskScheduler.Default);
        try
        {
            await foreach (var e in events.Reader.ReadAllAsync(cancel)) yield return e;
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(pumps); // every sequence has finished or been cancelled (its slot is free by the engine's next step)
        }
    }

    static async Task Pump(ServedModel served, int index, SequenceRequest request, ChannelWriter<SequenceEvent> events, CancellationToken cancel)
    {
        long start = Stopwatch.GetTimestamp(), first = 0;
        int generated = 0;
        try
        {
            await foreach (var token in served.Engine.GenerateAsync(request.Prompt, request.Options, cancel))
            {
                if (generated++ == 0) first = Stopwatch.GetTimestamp();
                events.TryWrite(new SequenceEvent(index, token));
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // cancelled with the rest of the set: not a failure of this sequence
        }
        catch (Exception e)
        {
            events.TryComplete(e); // the reader sees the first failure at once
        }
        finally
        {
            served.Metrics.Sequence(request.Prompt.Length, generated,
                Stopwatch.GetElapsedTime(start, first == 0 ? start : first), first == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(first));
        }
    }
}
