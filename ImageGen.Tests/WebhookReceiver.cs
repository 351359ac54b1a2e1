using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using StandardWebhooks;

namespace ImageGen.Tests;

/// <summary>
/// A webhook endpoint on 127.0.0.1 for tests, as a customer would write one: it keeps every request, answers with the
/// statuses it is told to (then 200), verifies signatures with the account's secret through the StandardWebhooks
/// package, and treats a <c>webhook-id</c> it has processed before as a duplicate.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<int> _answers = new();
    private readonly ConcurrentDictionary<string, byte> _processed = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public WebhookReceiver(string host = "127.0.0.1")
    {
        var port = FreePort();
        Url = $"http://{host}:{port}/hooks";
        _listener.Prefixes.Add($"http://{host}:{port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>Where to point a webhook.</summary>
    public string Url { get; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The next requests are answered with these statuses, in order (a 3xx with a Location to elsewhere).</summary>
    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _answers.Enqueue(status);
        }
    }

    /// <summary>Waits until a request matches, or fails the test after <paramref name="timeout"/>.</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        while (true)
        {
            if (Requests.FirstOrDefault(match) is { } found)
            {
                return found;
            }

            try
            {
                await Task.Delay(50, bound.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No matching webhook within {timeout.TotalSeconds:0} s; received: "
                    + string.Join(", ", Requests.Select(r => $"{r.Status} {r.Type}")));
            }
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            using var reader = new StreamReader(context.Request.InputStream);
            var body = await reader.ReadToEndAsync();
            var headers = new HeaderDictionary();
            foreach (var name in context.Request.Headers.AllKeys)
            {
                headers[name!] = context.Request.Headers[name];
            }

            var status = _answers.TryDequeue(out var next) ? next : 200;
            var id = headers["webhook-id"].ToString();
            var duplicate = status is >= 200 and < 300 && !_processed.TryAdd(id, 0);
            Requests.Enqueue(new Received(id, headers, body, status, duplicate));
            context.Response.StatusCode = status;
            if (status is >= 300 and < 400)
            {
                context.Response.RedirectLocation = "http://127.0.0.2:9/elsewhere";
            }

            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Close();
        await _serving.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>One request: its <c>webhook-id</c>, headers and body, the status it was answered, and whether the id was processed before.</summary>
    public sealed record Received(string Id, HeaderDictionary Headers, string Body, int Status, bool Duplicate)
    {
        public string Type => System.Text.Json.JsonDocument.Parse(Body).RootElement.GetProperty("type").GetString()!;

        /// <summary>True when the signature holds under <paramref name="secret"/> (and the timestamp is recent).</summary>
        public bool SignedWith(string secret)
        {
            try
            {
                new StandardWebhook(secret).Verify(Body, Headers);
                return true;
            }
            catch (StandardWebhooks.Diagnostics.WebhookVerificationException)
            {
                return false;
            }
        }
    }
}
