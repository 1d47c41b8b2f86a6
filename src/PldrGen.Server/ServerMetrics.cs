using System.Diagnostics.Metrics;
using PldrGen.Runtime.Engine;

namespace PldrGen.Server;

/// <summary>
/// The server's instruments (meter <c>PldrGen.Server</c>), scraped at <c>/metrics</c> in Prometheus format: tokens
/// (rate = tokens/s), requests by outcome, slots busy, queue depth, time to first token and per-token latency.
/// </summary>
sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "PldrGen.Server";
    readonly Meter _meter = new(MeterName);
    readonly Counter<long> _promptTokens, _generatedTokens, _requests;
    readonly Histogram<double> _firstToken, _perToken;

    /// <summary>Buckets from 0.1 ms to 30 s: a decode step on the demo model is ~0.1 ms, a long prefill seconds.</summary>
    static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30] };

    public ServerMetrics(PldrEngine engine)
    {
        _promptTokens = _meter.CreateCounter<long>("pldr.prompt_tokens", "{token}", "Prompt tokens prefilled");
        _generatedTokens = _meter.CreateCounter<long>("pldr.generated_tokens", "{token}", "Tokens generated");
        _requests = _meter.CreateCounter<long>("pldr.requests", "{request}", "Requests finished, by endpoint and outcome");
        _firstToken = _meter.CreateHistogram("pldr.time_to_first_token", "s", "From a sequence's request to its first token", advice: Seconds);
        _perToken = _meter.CreateHistogram("pldr.time_per_output_token", "s", "Between consecutive tokens of a sequence", advice: Seconds);
        _meter.CreateObservableGauge("pldr.slots", () => engine.Options.Slots, "{slot}", "Sequences that can run at once");
        _meter.CreateObservableGauge("pldr.slots_busy", () => engine.SlotsBusy, "{slot}", "Slots running a sequence");
        _meter.CreateObservableGauge("pldr.queue_depth", () => engine.Queued, "{request}", "Requests waiting for a slot");
    }

    public void Sequence(int promptTokens, int generatedTokens, TimeSpan firstToken, TimeSpan decode)
    {
        _promptTokens.Add(promptTokens);
        _generatedTokens.Add(generatedTokens);
        if (generatedTokens == 0) return;
        _firstToken.Record(firstToken.TotalSeconds);
        if (generatedTokens > 1) _perToken.Record(decode.TotalSeconds / (generatedTokens - 1));
    }

    public void Request(string endpoint, int status) =>
        _requests.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("status", status));

    public void Dispose() => _meter.Dispose();
}
