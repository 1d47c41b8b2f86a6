using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace PldrGen.Server;

/// <summary>
/// <c>POST /v1/pldr/gcache</c> (PLDR extension): the G-cache (A, A_LM, G_LM per layer) of a prompt's prefill, as the
/// safetensors file <c>pldr gcache</c> writes, to be passed to <c>pldr serve --g-cache</c> or <c>pldr generate --g-cache</c>.
/// </summary>
static class GCacheEndpoint
{
    public static async Task HandleAsync(HttpContext http)
    {
        var served = http.RequestServices.GetRequiredService<ServedModel>();
        var request = await RequestReader.ReadAsync(http, ServerJson.Default.GCacheRequest);
        served.CheckModel(request.Model);
        var prompts = RequestReader.Prompts(request.Prompt, served);
        if (prompts.Count != 1) throw new ApiException(400, $"prompt: one prompt per G-cache, got {prompts.Count}", "prompt");
        var cache = await served.Engine.CaptureGCacheAsync(prompts[0], http.RequestAborted);
        // GCache writes files; a temporary one keeps a single definition of the format.
        string file = Path.Combine(Path.GetTempPath(), $"pldr-gcache-{Guid.NewGuid():N}.safetensors");
        try
        {
            cache.Save(file, new Dictionary<string, string> { ["model"] = served.Options.Model.TypeName, ["prompt_tokens"] = string.Join(",", prompts[0]) });
            http.Response.ContentType = "application/octet-stream";
            http.Response.Headers.ContentDisposition = "attachment; filename=\"gcache.safetensors\"";
            await http.Response.SendFileAsync(file, http.RequestAborted);
        }
        finally { File.Delete(file); }
    }
}
