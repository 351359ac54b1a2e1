using System.Text.RegularExpressions;

namespace ImageGen.Core.Storage;

/// <summary>Options of the filesystem image store, bound from the <c>ImageStore</c> section.</summary>
public sealed class ImageStoreOptions
{
    public const string Section = "ImageStore";

    /// <summary>The directory the AppHost gives the API and the workers.</summary>
    public string Path { get; set; } = "";

    /// <summary>
    /// The most bytes of resized variants kept (originals are not counted): past it, the least recently served
    /// variants are deleted until the cache is at 90% of it. 1 GiB by default.
    /// </summary>
    public long VariantCacheBytes { get; set; } = 1L << 30;
}

/// <summary>
/// Stores images as files under one root directory. Writes go to a temporary file that is flushed to disk and
/// then renamed into place, so a crash never leaves a partial image under its final name.
/// </summary>
public sealed partial class FileSystemImageStore : IImageStore, IVariantCacheStore
{
    private readonly string _root;

    public FileSystemImageStore(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new ArgumentException("The image store needs a directory (ImageStore:Path).", nameof(root));
        }

        // Directories are made on first write: a store that cannot be written fails its writes, not the service start.
        _root = System.IO.Path.GetFullPath(root);
    }

    public string Root => _root;

    /// <summary>The key for an image: sharded by the first two characters so no directory grows without bound.</summary>
    public static string KeyFor(Guid imageId, string extension) => $"{imageId:N}"[..2] + "/" + imageId.ToString("N") + "." + extension;

    /// <summary>The key of a cached variant: beside its original, named after the variant.</summary>
    public static string VariantKeyFor(Guid imageId, int width, int quality, string extension) =>
        KeyFor(imageId, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"w{width}q{quality}.{extension}"));

    public async Task SaveAsync(string key, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(bytes, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public Stream? OpenRead(string key)
    {
        var path = PathFor(key);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathFor(key));
        return Task.CompletedTask;
    }

    public Task<int> DeleteImageAsync(Guid imageId, CancellationToken cancellationToken)
    {
        var name = imageId.ToString("N");
        var directory = System.IO.Path.Combine(_root, name[..2]);
        var deleted = 0;
        if (Directory.Exists(directory))
        {
            // The original is "{id}.{ext}", each variant "{id}.w{width}q{quality}.{ext}".
            foreach (var file in Directory.EnumerateFiles(directory, name + ".*"))
            {
                File.Delete(file);
                deleted++;
            }
        }

        return Task.FromResult(deleted);
    }

    // A variant's "last used" is its file's modification time: variants are written once and never changed, so the
    // time is free to mean "last served" (access times are not kept on most mounts).
    public IEnumerable<StoredVariant> ListVariants()
    {
        if (!Directory.Exists(_root))
        {
            yield break;
        }

        foreach (var shard in Directory.EnumerateDirectories(_root))
        {
            foreach (var file in new DirectoryInfo(shard).EnumerateFiles("*.w*q*.*"))
            {
                var key = System.IO.Path.GetFileName(shard) + "/" + file.Name;
                if (KeyPattern().Match(key) is { Success: true } match && match.Groups[1].Success && Stat(key, file) is { } variant)
                {
                    yield return variant;
                }
            }
        }
    }

    // Another instance's sweep may delete a variant between listing and reading it: gone is simply not listed.
    private static StoredVariant? Stat(string key, FileInfo file)
    {
        try
        {
            return new StoredVariant(key, file.Length, file.LastWriteTimeUtc);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    public void MarkUsed(string key, DateTimeOffset now)
    {
        try
        {
            File.SetLastWriteTimeUtc(PathFor(key), now.UtcDateTime);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Evicted meanwhile: nothing to mark.
        }
    }

    public DateTimeOffset? LastUsed(string key)
    {
        var file = new FileInfo(PathFor(key));
        return file.Exists ? file.LastWriteTimeUtc : null;
    }

    // Keys are ours, but check anyway: nothing outside the root is ever read or written.
    private string PathFor(string key)
    {
        if (!KeyPattern().IsMatch(key))
        {
            throw new ArgumentException($"'{key}' is not an image store key.", nameof(key));
        }

        return System.IO.Path.Combine(_root, key);
    }

    [GeneratedRegex("^[0-9a-f]{2}/[0-9a-f]{32}(\\.w[0-9]{1,5}q[0-9]{1,3})?(\\.[a-z0-9]{1,8})?$")]
    private static partial Regex KeyPattern();
}
