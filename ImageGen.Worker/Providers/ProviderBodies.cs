namespace ImageGen.Worker.Providers;

/// <summary>Reading what a provider answers, never more than a cap: a provider cannot make a worker buffer an endless body.</summary>
internal static class ProviderBodies
{
    /// <summary>The body, or an error naming <paramref name="provider"/> as soon as it is longer than <paramref name="max"/> bytes (nothing more is read).</summary>
    public static async Task<byte[]> ReadCappedAsync(string provider, HttpResponseMessage response, long max, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > max)
        {
            throw TooLarge(provider, max);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw TooLarge(provider, max);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// An image a provider sent, judged from its header before anything decodes it: an image, and within the pixel and
    /// byte caps of <paramref name="limits"/>; otherwise a failure naming <paramref name="provider"/>.
    /// </summary>
    public static GeneratedImage Image(string provider, byte[] bytes, Rendering.DecodeLimits limits)
    {
        if (bytes.Length > limits.MaxBytes)
        {
            throw TooLarge(provider, limits.MaxBytes);
        }

        var header = Rendering.ImageDecoder.ReadHeader(bytes)
            ?? throw new ProviderException(ProviderFailure.Error, $"{provider} answered with bytes that are not an image.", retryable: false);
        if (header.Pixels > limits.MaxPixels)
        {
            throw new ProviderException(ProviderFailure.Error,
                $"{provider}'s image is {header.Width}x{header.Height}, more than the {limits.MaxPixels:N0} pixels ImageGen takes.", retryable: false);
        }

        return new GeneratedImage(bytes, header.ContentType, header.Width, header.Height);
    }

    internal static ProviderException TooLarge(string provider, long max) =>
        new(ProviderFailure.Error, $"{provider} sent more than {max:N0} bytes; the answer was refused.", retryable: false);
}

/// <summary>
/// Caps every body a provider client reads (for clients whose reading we do not write ourselves, such as the OpenAI SDK's):
/// a declared length over the cap is refused at once, and a body that runs past it fails as soon as it does.
/// </summary>
internal sealed class ResponseCapHandler(string provider, Func<long> max) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var cap = max();
        if (response.Content.Headers.ContentLength > cap)
        {
            response.Dispose();
            throw ProviderBodies.TooLarge(provider, cap);
        }

        var capped = new StreamContent(new CappedStream(await response.Content.ReadAsStreamAsync(cancellationToken), cap, provider));
        foreach (var header in response.Content.Headers)
        {
            capped.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        response.Content = capped;
        return response;
    }

    private sealed class CappedStream(Stream inner, long max, string provider) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > max ? throw ProviderBodies.TooLarge(provider, max) : read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
