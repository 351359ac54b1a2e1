using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ImageGen.Core.Storage;

namespace ImageGen.Data.Storage;

/// <summary>
/// Images as objects in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, Ceph RGW). Originals are stored under
/// their key; variants under <see cref="ObjectStoreOptions.VariantPrefix"/> so that a lifecycle rule on that prefix
/// expires them. Links are signed by the store's own rules (SigV4), so browsers fetch bytes from the store.
/// </summary>
public sealed class S3ImageStore : IImageStore, IDirectLinkStore, IDisposable
{
    /// <summary>Links made within this step are the same link (the signing time is rounded down to it).</summary>
    public static readonly TimeSpan LinkStep = TimeSpan.FromMinutes(5);

    private readonly AmazonS3Client _client;
    private readonly ObjectStoreOptions _options;
    private readonly SigV4LinkSigner _signer;
    private readonly Uri _linkOrigin;
    private readonly string _linkPathPrefix;
    private readonly TimeProvider _time;

    public S3ImageStore(ObjectStoreOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where S3 requires them: several S3-compatible stores refuse the SDK's trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromSeconds(30),
            MaxErrorRetry = 2,
        };
        if (options.ServiceUrl.Length > 0)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }

        _client = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        _signer = new SigV4LinkSigner(options.AccessKey, options.SecretKey, options.Region);

        // Links: the public address when there is one, else the store's own; the bucket in the path or in the host name.
        (_linkOrigin, _linkPathPrefix) = options.Links();
    }

    public Task SaveAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken) => Guard(async () =>
    {
        // One PUT: the object appears whole or not at all.
        using var body = new MemoryStream(bytes.ToArray(), writable: false);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = ObjectName(key),
            InputStream = body,
            ContentType = contentType,
            // A key's bytes never change: a browser may keep them as long as its link lives.
            Headers = { CacheControl = "private, max-age=86400, immutable" },
            AutoCloseStream = false,
        }, cancellationToken);
        return true;
    }, cancellationToken);

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken) => Guard<Stream?>(async () =>
    {
        try
        {
            using var response = await _client.GetObjectAsync(_options.Bucket, ObjectName(key), cancellationToken);
            // Read whole, so no connection is held open by a caller that reads slowly.
            var copy = new MemoryStream(response.ContentLength > 0 ? (int)Math.Min(response.ContentLength, int.MaxValue) : 0);
            await response.ResponseStream.CopyToAsync(copy, cancellationToken);
            copy.Position = 0;
            return copy;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }, cancellationToken);

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Guard(async () =>
    {
        try
        {
            await _client.GetObjectMetadataAsync(_options.Bucket, ObjectName(key), cancellationToken);
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }, cancellationToken);

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        Guard(async () => await _client.DeleteObjectAsync(_options.Bucket, ObjectName(key), cancellationToken), cancellationToken);

    public Task<int> DeleteImageAsync(Guid imageId, CancellationToken cancellationToken) => Guard(async () =>
    {
        var deleted = 0;
        foreach (var shard in ImageKeys.ShardsOf(imageId))
        {
            foreach (var prefix in (string[])["", _options.VariantPrefix])
            {
                // ListObjects (v1): every S3-compatible store speaks it; an image has a handful of objects, one page.
                var request = new ListObjectsRequest { BucketName = _options.Bucket, Prefix = $"{prefix}{shard}/{imageId:N}." };
                ListObjectsResponse page;
                do
                {
                    page = await _client.ListObjectsAsync(request, cancellationToken);
                    foreach (var item in page.S3Objects ?? [])
                    {
                        await _client.DeleteObjectAsync(_options.Bucket, item.Key, cancellationToken);
                        deleted++;
                    }

                    request.Marker = page.NextMarker ?? page.S3Objects?.LastOrDefault()?.Key;
                }
                while (page.IsTruncated == true);
            }
        }

        return deleted;
    }, cancellationToken);

    public Uri LinkFor(string key, DateTimeOffset expires)
    {
        var now = _time.GetUtcNow();
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds() / (long)LinkStep.TotalSeconds * (long)LinkStep.TotalSeconds);
        return _signer.Sign(_linkOrigin, _linkPathPrefix + ObjectName(key), signedAt, expires);
    }

    /// <summary>
    /// A store that cannot be reached, times out or fails says so as one exception (answered 503 with Retry-After);
    /// a missing key is not a failure, and the caller's own cancellation stays a cancellation.
    /// </summary>
    private static async Task<T> Guard<T>(Func<Task<T>> operation, CancellationToken cancellationToken)
    {
        try
        {
            return await operation();
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ImageStoreUnavailableException(e);
        }
    }

    /// <summary>The object's name: our key (checked), variants under their own prefix.</summary>
    private string ObjectName(string key)
    {
        if (!ImageKeys.IsKey(key))
        {
            throw new ArgumentException($"'{key}' is not an image store key.", nameof(key));
        }

        return ImageKeys.IsVariantKey(key) ? _options.VariantPrefix + key : key;
    }

    public void Dispose() => _client.Dispose();
}
