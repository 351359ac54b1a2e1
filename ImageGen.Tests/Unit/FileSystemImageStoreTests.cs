using ImageGen.Core.Storage;

namespace ImageGen.Tests.Unit;

public sealed class FileSystemImageStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "imagegen-store-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Saved_bytes_read_back_and_leave_no_temporary_files()
    {
        var store = new FileSystemImageStore(_root);
        var key = FileSystemImageStore.KeyFor(Guid.NewGuid(), "png");
        byte[] bytes = [1, 2, 3, 4, 5];

        await store.SaveAsync(key, bytes, TestContext.Current.CancellationToken);

        await using var stream = store.OpenRead(key);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, TestContext.Current.CancellationToken);
        Assert.Equal(bytes, copy.ToArray());
        Assert.Single(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_missing_image_reads_as_null() =>
        Assert.Null(new FileSystemImageStore(_root).OpenRead(FileSystemImageStore.KeyFor(Guid.NewGuid(), "png")));

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    [InlineData("ab/../../secret.png")]
    [InlineData("")]
    public void Keys_that_are_not_ours_never_reach_the_file_system(string key) =>
        Assert.Throws<ArgumentException>(() => new FileSystemImageStore(_root).OpenRead(key));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
