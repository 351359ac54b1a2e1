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

    private static ProviderException TooLarge(string provider, long max) =>
        new(ProviderFailure.Error, $"{provider} sent more than {max:N0} bytes; the answer was refused.", retryable: false);
}
