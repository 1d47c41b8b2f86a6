using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using PldrGen.Runtime;
using PldrGen.Runtime.Engine;

namespace PldrGen.Server;

/// <summary>
/// An OpenAI-compatible server for one PldrGen model: <c>/v1/completions</c>, <c>/v1/chat/completions</c>,
/// <c>/v1/models</c>, <c>/v1/pldr/gcache</c>, <c>/health</c>, <c>/metrics</c> (Prometheus) and a playground at
/// <c>/</c>. From an app, one call: <c>await PldrServer.RunAsync(new PldrServerOptions { Model = MyModel.ModelInfo, ModelDirectory = dir });</c>
/// </summary>
public static class PldrServer
{
    /// <summary>Serves until <paramref name="cancel"/> fires or the process gets SIGTERM/Ctrl+C, then drains in-flight requests.</summary>
    /// <param name="options">The model and the limits.</param>
    /// <param name="cancel">Stops the server (after draining) when it fires.</param>
    /// <param name="started">Called with the address once the server listens (port 0 has become a real port).</param>
    /// <exception cref="PldrException">A bad option, a non-loopback address without an API key, or a checkpoint that does not load.</exception>
    public static async Task RunAsync(PldrServerOptions options, CancellationToken cancel = default, Action<string>? started = null)
    {
        await using var app = Create(options);
        await app.StartAsync(cancel);
        started?.Invoke(app.Urls.First());
        await app.WaitForShutdownAsync(cancel);
    }

    /// <summary>The server as an unstarted <see cref="WebApplication"/>, for an app that hosts it itself.</summary>
    public static WebApplication Create(PldrServerOptions options)
    {
        var address = ListenAddress(options);
        var tokenizerPath = Path.Combine(options.ModelDirectory, "tokenizer.model");
        if (!File.Exists(tokenizerPath)) throw new PldrException($"{tokenizerPath}: not found; the server needs the model's tokenizer");
        // One model, its weights shared by every slot; one decode step advances every running sequence.
        var engineOptions = new EngineOptions { Slots = options.Slots, QueueCapacity = options.QueueLimit };
        engineOptions.Validate();
        var engine = PldrEngine.Load(options.Model, options.ModelDirectory, engineOptions);
        if (options.WarmUp) engine.WarmUp();
        var served = new ServedModel(options, engine);

        // The content root is the program's folder, not the working directory, and nothing is watched for changes:
        // started from /, the default would watch the whole file system for appsettings.json.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(address, options.Port);
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.DrainTimeout);
        builder.Services.AddSingleton(served);
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(ServerMetrics.MeterName).AddPrometheusExporter());

        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(served.Dispose);
        if (options.ApiKey is { } key) app.Use(new ApiKeyCheck(key).Handle);
        app.Use(ApiErrors.Handle);
        app.MapGet("/", InfoEndpoints.PlaygroundAsync);
        app.MapGet("/health", InfoEndpoints.HealthAsync);
        app.MapGet("/v1/models", InfoEndpoints.ModelsAsync);
        app.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync);
        app.MapPost("/v1/chat/completions", ChatEndpoint.HandleAsync);
        app.MapPost("/v1/pldr/gcache", GCacheEndpoint.HandleAsync);
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>127.0.0.1 and other loopback addresses are always allowed; anything else needs an API key.</summary>
    static IPAddress ListenAddress(PldrServerOptions options)
    {
        var address = options.Host == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(options.Host, out var parsed) ? parsed
            : throw new PldrException($"--host {options.Host}: not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or a local interface's address)");
        if (!IPAddress.IsLoopback(address) && string.IsNullOrEmpty(options.ApiKey))
            throw new PldrException($"--host {options.Host}: refusing to listen beyond this machine without --api-key (anyone who reaches the port could use the model)");
        if (options.Port is < 0 or > 65535) throw new PldrException($"--port must be in 0..65535, got {options.Port}");
        return address;
    }
}
