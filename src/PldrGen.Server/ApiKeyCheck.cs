using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace PldrGen.Server;

/// <summary>
/// With an API key, every request but <c>/health</c> and the playground page must carry
/// <c>Authorization: Bearer KEY</c> (compared in constant time); a missing or wrong key gets 401.
/// </summary>
sealed class ApiKeyCheck(string key)
{
    readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + key);

    public Task Handle(HttpContext http, RequestDelegate next)
    {
        if (http.Request.Path == "/health" || http.Request.Path == "/") return next(http);
        byte[] given = Encoding.UTF8.GetBytes(http.Request.Headers.Authorization.ToString());
        if (CryptographicOperations.FixedTimeEquals(given, _expected)) return next(http);
        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ApiErrors.Write(http, 401, new ErrorDetail("a valid API key is required: send Authorization: Bearer KEY", "authentication_error", null, "invalid_api_key"));
    }
}
