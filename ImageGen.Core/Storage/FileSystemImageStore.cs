namespace ImageGen.Core.Storage;

/// <summary>
/// Stores images as files under one root directory. Writes go to a temporary file that is flushed to disk and
/// then renamed into place, so a crash never leaves a partial image under its final name.
/// </summary>
public sealed class FileSystemImageStore : IImageStore, IVariantCacheStore
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

    public async Task SaveAsync(string key, ReadOnlyMemory<byte> bytes, string contentType, CancellationToken cancellationToken)
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

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathFor(key);
        try
        {
            return Task.FromResult<Stream?>(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathFor(key)));

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        File.Delete(PathFor(key));
        return Task.CompletedTask;
    }

    public Task<int> DeleteImageAsync(Guid imageId, CancellationToken cancellationToken)
    {
        var name = imageId.ToString("N");
        var deleted = 0;
        foreach (var shard in ImageKeys.ShardsOf(imageId))
        {
            var directory = System.IO.Path.Combine(_root, shard);
            if (Directory.Exists(directory))
            {
                // The original is "{id}.{ext}", each variant "{id}.w{width}q{quality}.{ext}".
                foreach (var file in Directory.EnumerateFiles(directory, name + ".*"))
                {
                    File.Delete(file);
                    deleted++;
                }
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
                if (ImageKeys.IsVariantKey(key) && Stat(key, file) is { } variant)
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
        if (!ImageKeys.IsKey(key))
        {
            throw new ArgumentException($"'{key}' is not an image store key.", nameof(key));
        }

        return System.IO.Path.Combine(_root, key);
    }
}
