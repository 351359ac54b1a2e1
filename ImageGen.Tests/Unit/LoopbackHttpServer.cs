using System.Net;
using System.Text.Json;
using ImageGen.AppHost.Infrastructure;

namespace ImageGen.Tests.Unit;

/// <summary>A fake provider on 127.0.0.1 for an adapter's tests: each request gets <see cref="Answer"/>.</summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();

    public LoopbackHttpServer()
    {
        Address = $"http://127.0.0.1:{LocalProcesses.FreePort()}";
        _listener.Prefixes.Add(Address + "/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    /// <summary>Its origin, without the trailing slash.</summary>
    public string Address { get; }

    public Func<HttpListenerContext, Task> Answer { get; set; } = context =>
    {
        context.Response.StatusCode = 404;
        context.Response.Close();
        return Task.CompletedTask;
    };

    public static async Task WriteJsonAsync(HttpListenerResponse response, object body)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(body);
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            try
            {
                var context = await _listener.GetContextAsync();
                await Answer(context);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // Stopped, or the client went away.
            }
        }
    }

    public void Dispose() => _listener.Close();
}
