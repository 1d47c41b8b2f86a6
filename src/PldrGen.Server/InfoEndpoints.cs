using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PldrGen.Server;

/// <summary><c>GET /v1/models</c>, <c>GET /health</c> and the playground page at <c>/</c>.</summary>
static class InfoEndpoints
{
    public static Task ModelsAsync(HttpContext http)
    {
        var served = http.RequestServices.GetRequiredService<ServedModel>();
        var card = new ModelCard(served.Name, "model", served.Created, "pldrgen", served.ContextSize, served.Engine.Options.Slots);
        return http.Response.WriteAsJsonAsync(new ModelList("list", [card]), ServerJson.Default.ModelList);
    }

    /// <summary>Slots free and busy and the queue, so a load balancer or a test can see that nothing leaked.</summary>
    public static Task HealthAsync(HttpContext http)
    {
        var engine = http.RequestServices.GetRequiredService<ServedModel>().Engine;
        return http.Response.WriteAsJsonAsync(new Health("ok", engine.Options.Slots, engine.SlotsBusy, engine.Queued, engine.Options.QueueCapacity), ServerJson.Default.Health);
    }

    public static async Task PlaygroundAsync(HttpContext http)
    {
        http.Response.ContentType = "text/html; charset=utf-8";
        await using var page = typeof(InfoEndpoints).Assembly.GetManifestResourceStream("playground.html")!;
        await page.CopyToAsync(http.Response.Body, http.RequestAborted);
    }
}
