using System.Net;

namespace ImageGen.Worker.Providers;

/// <summary>
/// Marks the moment a request's body has gone to a provider that bills from receipt (OpenAI): an adapter arms it
/// around its SDK call, and <see cref="BillingPointHandler"/>, in that provider's HTTP client, calls the armed callback
/// once the request body was written to the connection. Nothing is armed outside such a call, so other requests of the
/// client (a probe's model list) pass untouched.
/// </summary>
internal static class BillingPoint
{
    private static readonly AsyncLocal<Func<Task>?> Armed = new();

    /// <summary>Arms <paramref name="sent"/> for the requests this flow sends until the returned scope ends.</summary>
    public static IDisposable Arm(Func<Task> sent)
    {
        Armed.Value = sent;
        return new Disarm();
    }

    internal static Func<Task>? Current => Armed.Value;

    private sealed class Disarm : IDisposable
    {
        public void Dispose() => Armed.Value = null;
    }
}

/// <summary>Calls the armed <see cref="BillingPoint"/> once a request's body has been sent.</summary>
internal sealed class BillingPointHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (BillingPoint.Current is { } sent && request.Content is { } content)
        {
            request.Content = new SentContent(content, sent);
        }

        return base.SendAsync(request, cancellationToken);
    }

    private sealed class SentContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly Func<Task> _sent;
        private int _called;

        public SentContent(HttpContent inner, Func<Task> sent)
        {
            (_inner, _sent) = (inner, sent);
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await _inner.CopyToAsync(stream, context, cancellationToken);
            await stream.FlushAsync(cancellationToken);
            if (Interlocked.Exchange(ref _called, 1) == 0)
            {
                await _sent();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _inner.Headers.ContentLength ?? -1;
            return length >= 0;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
