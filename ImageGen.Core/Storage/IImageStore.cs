namespace ImageGen.Core.Storage;

/// <summary>Where image bytes live. Keys are made by ImageGen, never taken from user input.</summary>
public interface IImageStore
{
    /// <summary>Writes the bytes so that a reader sees all of them or nothing (never a half-written file).</summary>
    Task SaveAsync(string key, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Opens the bytes for reading, or returns null when there are none.</summary>
    Stream? OpenRead(string key);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Deletes every file of one image: the original and each cached variant.</summary>
    Task<int> DeleteImageAsync(Guid imageId, CancellationToken cancellationToken);
}
