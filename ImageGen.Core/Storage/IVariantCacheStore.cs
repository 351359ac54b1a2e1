namespace ImageGen.Core.Storage;

/// <summary>A cached variant as the store holds it.</summary>
public sealed record StoredVariant(string Key, long Bytes, DateTimeOffset LastUsed);

/// <summary>
/// A store that keeps image variants itself and lets the API evict them (the filesystem store). A store whose own
/// rules expire them (an object store's lifecycle rules) does not implement it.
/// </summary>
public interface IVariantCacheStore
{
    /// <summary>Every cached variant (never an original).</summary>
    IEnumerable<StoredVariant> ListVariants();

    /// <summary>Notes that a variant was served, so eviction takes the least recently used first.</summary>
    void MarkUsed(string key, DateTimeOffset now);

    /// <summary>When the variant was last marked used, or null when it is gone.</summary>
    DateTimeOffset? LastUsed(string key);
}
