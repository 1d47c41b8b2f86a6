using System.Threading.Channels;
using PldrGen.Runtime.Generation;

namespace PldrGen.Runtime.Engine;

/// <summary>One caller's request: its sequence, the channel its tokens stream through, its result, its cancellation.</summary>
sealed class Request(GenerationSequence sequence, Action wakeScheduler)
{
    volatile bool _cancelled;
    CancellationTokenRegistration _registration;

    public GenerationSequence Sequence { get; } = sequence;
    public Channel<GeneratedToken> Output { get; } = Channel.CreateUnbounded<GeneratedToken>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    public TaskCompletionSource<GenerateResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set by the caller's token or an abandoned stream; the scheduler ends the sequence at its next step.</summary>
    public bool Cancelled => _cancelled;

    public void Cancel()
    {
        if (_cancelled) return;
        _cancelled = true;
        wakeScheduler();
    }

    public void CancelWhen(CancellationToken cancellationToken) => _registration = cancellationToken.Register(Cancel);

    /// <summary>The request left its slot: stop listening to the caller's token.</summary>
    public void Release() => _registration.Dispose();
}
