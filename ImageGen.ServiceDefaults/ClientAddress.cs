using Microsoft.AspNetCore.Http;

namespace ImageGen.ServiceDefaults;

/// <summary>
/// The address of the person behind a request. Services sit behind the gateway (and the API also behind the web
/// front end), which are the only public entries; each sets <c>X-Forwarded-For</c> to the address it saw, so the last
/// value is the one a trusted hop wrote. A value a caller sent itself comes before it and is ignored.
/// </summary>
public static class ClientAddress
{
    public const string Header = "X-Forwarded-For";

    public static string Of(HttpContext context)
    {
        var forwarded = context.Request.Headers[Header].ToString();
        var last = forwarded.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return last ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
    }
}
