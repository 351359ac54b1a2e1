namespace ImageGen.Core.Storage;

/// <summary>Where images are stored, bound from the <c>ImageStore</c> section: an S3-compatible bucket when <c>S3:Bucket</c> is set, else a directory.</summary>
public sealed class ImageStoreOptions
{
    public const string Section = "ImageStore";

    /// <summary>The directory the AppHost gives the API and the workers (the filesystem store).</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// The most bytes of resized variants kept by the filesystem store (originals are not counted): past it, the least
    /// recently served variants are deleted until the cache is at 90% of it. 1 GiB by default. An object store expires
    /// variants by its own lifecycle rules instead.
    /// </summary>
    public long VariantCacheBytes { get; set; } = 1L << 30;

    public ObjectStoreOptions S3 { get; set; } = new();

    public bool UsesObjectStore => !string.IsNullOrWhiteSpace(S3.Bucket);
}

/// <summary>An S3-compatible object store: AWS S3, Cloudflare R2, MinIO, Ceph RGW.</summary>
public sealed class ObjectStoreOptions
{
    public string Bucket { get; set; } = "";

    /// <summary>The store's address for other than AWS (R2, MinIO, Ceph), e.g. <c>https://minio.internal:9000</c>; empty for AWS S3.</summary>
    public string ServiceUrl { get; set; } = "";

    /// <summary>The address browsers reach the store by, when it differs from <see cref="ServiceUrl"/> (a public host name, a CDN that passes the query on).</summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>The SigV4 region: the bucket's region on AWS, <c>auto</c> on R2, anything the server accepts elsewhere.</summary>
    public string Region { get; set; } = "us-east-1";

    /// <summary>Bucket in the path (<c>host/bucket/key</c>) rather than the host name: MinIO, Ceph and most local servers need it.</summary>
    public bool ForcePathStyle { get; set; }

    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    /// <summary>Where links point: the origin browsers reach the bucket at, and the path before a key ("/bucket/" or "/").</summary>
    public (Uri Origin, string PathPrefix) Links()
    {
        var origin = new Uri(PublicUrl.Length > 0 ? PublicUrl : ServiceUrl.Length > 0 ? ServiceUrl : $"https://s3.{Region}.amazonaws.com");
        return ForcePathStyle
            ? (new Uri(origin.GetLeftPart(UriPartial.Authority)), "/" + Bucket + "/")
            : (new UriBuilder(origin.Scheme, Bucket + "." + origin.Host, origin.Port).Uri, "/");
    }

    /// <summary>The prefix variants are stored under, so a lifecycle rule on it can expire them (originals are never under it).</summary>
    public string VariantPrefix { get; set; } = "variants/";
}
