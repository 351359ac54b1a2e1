using ImageGen.Core.Storage;
using Microsoft.AspNetCore.Components;

namespace ImageGen.Web.Components.Pages;

/// <summary>The gallery's tools for many images: collections, picking several to download, file or delete, and public links.</summary>
public partial class Gallery
{
    [Inject]
    private NavigationManager Navigation { get; set; } = null!;

    private List<CollectionDto> collections = [];
    private string collectionId = "";
    private string? newCollectionName;
    private bool selecting;
    private readonly HashSet<Guid> picked = [];
    private string pickedCollectionId = "";
    private string? toolsNote;
    private string? shareUrl;

    private Guid? CollectionFilter => Guid.TryParse(collectionId, out var id) ? id : null;

    private string? TileClass(ImageDto image) =>
        string.Join(' ', new[] { image.Favorite ? "favorite" : null, picked.Contains(image.Id) ? "picked" : null }.Where(c => c is not null)) is { Length: > 0 } classes ? classes : null;

    private async Task LoadCollectionsAsync()
    {
        if ((await Api.ListCollectionsAsync(disposed.Token)).Value is { } list)
        {
            collections = list;
            if (!collections.Exists(c => c.Id.ToString() == pickedCollectionId))
            {
                pickedCollectionId = collections.FirstOrDefault()?.Id.ToString() ?? "";
            }
        }
    }

    private async Task CreateCollectionAsync()
    {
        var result = await Api.CreateCollectionAsync(newCollectionName ?? "", disposed.Token);
        toolsNote = result.Value is { } made ? $"Collection '{made.Name}' created." : result.Problem?.Detail ?? "The collection could not be created.";
        if (result.Succeeded)
        {
            newCollectionName = null;
            await LoadCollectionsAsync();
            pickedCollectionId = result.Value!.Id.ToString();
        }
    }

    private void ToggleSelecting()
    {
        selecting = !selecting;
        picked.Clear();
        toolsNote = null;
    }

    private void TileClicked(ImageDto image)
    {
        if (!selecting)
        {
            Open(image);
        }
        else if (!picked.Remove(image.Id) && picked.Count < ImageIdsRequest.MaxIds)
        {
            picked.Add(image.Id);
        }
    }

    /// <summary>The web's own download link for the picked images: the browser saves the zip the API streams.</summary>
    private string DownloadLink() => "/gallery/download?ids=" + string.Join(',', picked.Select(id => id.ToString("N")));

    private async Task AddPickedToCollectionAsync()
    {
        if (!Guid.TryParse(pickedCollectionId, out var target))
        {
            return;
        }

        var added = 0;
        foreach (var id in picked)
        {
            if ((await Api.AddToCollectionAsync(target, id, disposed.Token)).Succeeded)
            {
                added++;
            }
        }

        await LoadCollectionsAsync();
        toolsNote = $"{added} {(added == 1 ? "image" : "images")} added to '{collections.Find(c => c.Id == target)?.Name}'.";
    }

    private async Task DeletePickedAsync()
    {
        var result = await Api.DeleteImagesAsync([.. picked], disposed.Token);
        if (result.Value is not { } done)
        {
            toolsNote = result.Problem?.Detail ?? "The images could not be deleted. Try again in a moment.";
            return;
        }

        images.RemoveAll(i => picked.Contains(i.Id));
        picked.Clear();
        toolsNote = $"{done.Deleted} {(done.Deleted == 1 ? "image" : "images")} deleted.";
        await LoadCollectionsAsync();
    }

    private async Task ShareAsync(ImageDto image)
    {
        var result = await Api.ShareImageAsync(image.Id, disposed.Token);
        if (result.Value is not { } link)
        {
            viewerProblem = result.Problem?.Detail ?? "The image could not be shared.";
            return;
        }

        shareUrl = Navigation.ToAbsoluteUri(link.Url).ToString();
        Replace(image with { Shared = true });
    }

    private async Task UnshareAsync(ImageDto image)
    {
        var result = await Api.UnshareImageAsync(image.Id, disposed.Token);
        if (!result.Succeeded)
        {
            viewerProblem = result.Problem?.Detail ?? "The link could not be ended.";
            return;
        }

        shareUrl = null;
        Replace(image with { Shared = false });
    }

    /// <summary>Puts a changed image where it was in the grid, and in the viewer.</summary>
    private void Replace(ImageDto changed)
    {
        var index = images.FindIndex(i => i.Id == changed.Id);
        if (index >= 0)
        {
            images[index] = changed;
        }

        selected = changed;
    }
}
