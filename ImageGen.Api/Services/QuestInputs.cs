using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using ImageGen.Data;
using ImageGen.Data.Entities;
using ImageGen.Data.Storage;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Services;

/// <summary>
/// An edit's images and mask, found among the owner's uploads and gallery images (another user's id answers exactly
/// as a missing one), checked (the mask a PNG of the first image's size), and, for a model of free sizes, the output
/// size taken from the first image, fitted to the model's range.
/// </summary>
internal sealed class QuestInputs(ImageGenDbContext db, TimeProvider time)
{
    /// <summary>The uploads an accepted quest took no longer expire (gallery images never do). No statement for a quest without inputs.</summary>
    public Task MarkUsedAsync(Guid ownerId, IReadOnlyList<QuestInput> used, CancellationToken cancellationToken) =>
        used.Count == 0 ? Task.CompletedTask : db.MarkUploadsUsedAsync(ownerId, [.. used.Select(i => i.Id)], time.GetUtcNow(), cancellationToken);

    public async Task<(ValidQuest Quest, List<QuestInput> Inputs, IReadOnlyList<FieldError> Errors)> ResolveAsync(
        Guid ownerId, ValidQuest valid, CancellationToken cancellationToken)
    {
        if (valid.Parameters.Images is not { Count: > 0 } ids)
        {
            return (valid, [], []);
        }

        if (valid.Parameters.Action is { } action && !MidjourneyActions.StartsFromAnyImage(action))
        {
            return await FollowUpAsync(ownerId, valid, ids[0], cancellationToken);
        }

        var (resolved, inputs, errors) = await ImagesAsync(ownerId, valid, cancellationToken);
        if (errors.Count > 0 || valid.Parameters.Action is not { } startsFresh)
        {
            return (resolved, inputs, errors);
        }

        // A blend or a description says what it was made from, as the gallery and the search show it.
        return (string.IsNullOrWhiteSpace(valid.Prompt)
            ? valid with { Prompt = startsFresh == MidjourneyActions.Blend ? $"A blend of {inputs.Count} images" : "Prompts suggested for an image" }
            : valid, inputs, []);
    }

    /// <summary>An edit's images and mask (or a blend's images, or the image to describe), among the owner's uploads and images.</summary>
    private async Task<(ValidQuest Quest, List<QuestInput> Inputs, List<FieldError> Errors)> ImagesAsync(Guid ownerId, ValidQuest valid, CancellationToken cancellationToken)
    {
        var ids = valid.Parameters.Images!;
        var wanted = valid.Parameters.Mask is { } maskId ? [.. ids, maskId] : ids.ToList();
        var found = await db.Uploads.AsNoTracking().Where(u => u.UserId == ownerId && wanted.Contains(u.Id))
            .Select(u => new QuestInput(u.Id, u.StorageKey, u.ContentType, u.Width, u.Height, false))
            .ToListAsync(cancellationToken);
        found.AddRange(await db.QuestImages.AsNoTracking().Where(i => i.UserId == ownerId && i.DeletedAt == null && wanted.Contains(i.Id))
            .Select(i => new QuestInput(i.Id, i.StorageKey, i.ContentType, i.Width, i.Height, false))
            .ToListAsync(cancellationToken));
        var byId = found.ToDictionary(i => i.Id);

        var errors = new List<FieldError>();
        var inputs = new List<QuestInput>();
        foreach (var id in ids)
        {
            if (byId.TryGetValue(id, out var input))
            {
                inputs.Add(input);
            }
            else
            {
                errors.Add(new FieldError("images", ErrorCodes.InputNotFound, $"You have no upload or image '{id}'."));
            }
        }

        if (valid.Parameters.Mask is { } maskKey && CheckMask(byId.GetValueOrDefault(maskKey), maskKey, inputs.FirstOrDefault(), errors) is { } mask)
        {
            inputs.Add(mask);
        }

        if (errors.Count > 0)
        {
            return (valid, [], errors);
        }

        if (valid.Model.Dimensions is { } range && !valid.Model.InputsAreReferences)
        {
            var (width, height) = range.Fit(inputs[0].Width, inputs[0].Height);
            valid = valid with { Parameters = valid.Parameters with { Width = width, Height = height } };
        }

        return (valid, inputs, []);
    }

    /// <summary>
    /// An upscale or a variation: the image must be a grid the same model made for this owner (a finished quest with
    /// its job at the provider, not itself an upscale). The follow-up takes the grid's prompt when it names none.
    /// </summary>
    private async Task<(ValidQuest, List<QuestInput>, IReadOnlyList<FieldError>)> FollowUpAsync(Guid ownerId, ValidQuest valid, Guid imageId,
        CancellationToken cancellationToken)
    {
        var grid = await db.QuestImages.AsNoTracking().Where(i => i.Id == imageId && i.UserId == ownerId && i.DeletedAt == null)
            .Join(db.Quests, i => i.QuestId, q => q.Id, (i, q) => new { Image = i, q.Model, q.Prompt, q.ProviderJobId, q.Parameters })
            .FirstOrDefaultAsync(cancellationToken);
        if (grid is null)
        {
            return (valid, [], [new FieldError("images", ErrorCodes.InputNotFound, $"You have no image '{imageId}'.")]);
        }

        // U1-U4, V1-V4 and reroll start from a grid; vary, zoom and pan from an upscale.
        var action = valid.Parameters.Action;
        var isUpscale = MidjourneyActions.MakesUpscale(grid.Parameters.Action);
        if (grid.Model != valid.Model.Id || grid.ProviderJobId is null || isUpscale != MidjourneyActions.StartsFromUpscale(action))
        {
            return (valid, [], [new FieldError("images", ErrorCodes.ActionNeedsGrid, MidjourneyActions.StartsFromUpscale(action)
                ? $"'{action}' follows up a {valid.Model.DisplayName} upscale (U1-U4); this image is not one."
                : $"'{action}' follows up a {valid.Model.DisplayName} grid (a new one, a variation, a reroll, a zoom or a pan); this image is not one.")]);
        }

        var input = new QuestInput(grid.Image.Id, grid.Image.StorageKey, grid.Image.ContentType, grid.Image.Width, grid.Image.Height, JobId: grid.ProviderJobId);
        List<QuestInput> inputs = [input];
        if (valid.Parameters.Mask is { } maskId)
        {
            // Vary region: the region to repaint, marked on the upscale.
            var found = await db.Uploads.AsNoTracking().Where(u => u.UserId == ownerId && u.Id == maskId)
                .Select(u => new QuestInput(u.Id, u.StorageKey, u.ContentType, u.Width, u.Height, false)).FirstOrDefaultAsync(cancellationToken);
            var errors = new List<FieldError>();
            if (CheckMask(found, maskId, input, errors) is not { } mask)
            {
                return (valid, [], errors);
            }

            inputs.Add(mask);
        }

        return (string.IsNullOrEmpty(valid.Prompt) ? valid with { Prompt = grid.Prompt } : valid, inputs, []);
    }

    /// <summary>The mask as an input, or null with the problem added: it must be the owner's, a PNG, and the size of the image it masks.</summary>
    private static QuestInput? CheckMask(QuestInput? mask, Guid id, QuestInput? masked, List<FieldError> errors)
    {
        if (mask is null)
        {
            errors.Add(new FieldError("mask", ErrorCodes.InputNotFound, $"You have no upload or image '{id}'."));
        }
        else if (mask.ContentType != "image/png")
        {
            errors.Add(new FieldError("mask", ErrorCodes.MaskNotPng, "A mask is a PNG whose transparent pixels mark what to change; this one is not a PNG."));
        }
        else if (masked is not null && (mask.Width, mask.Height) != (masked.Width, masked.Height))
        {
            errors.Add(new FieldError("mask", ErrorCodes.MaskSizeMismatch,
                $"The mask is {mask.Width}x{mask.Height} and the image it masks {masked.Width}x{masked.Height}: they must be the same size."));
        }
        else
        {
            return mask with { IsMask = true };
        }

        return null;
    }
}
