using System.Security.Cryptography;
using ImageGen.Core.Quests;
using ImageGen.Core.Storage;
using ImageGen.Data.Entities;
using ImageGen.Rendering;
using ImageGen.Worker.Providers;

namespace ImageGen.Worker.Services;

internal sealed partial class QuestProcessor
{
    /// <summary>
    /// Stores the images and settles the quest. <paramref name="ran"/> is what made them (the quest's model, or the
    /// fallback that ran): without a bill from the provider, its own worst case is charged, not the reservation (which
    /// covers the dearest fallback).
    /// </summary>
    private async Task SucceedAsync(QuestRun run, ProviderResult result, ValidQuest ran, CancellationToken stoppingToken)
    {
        var quest = run.Quest;
        var images = new List<QuestImage>();
        var storing = time.GetTimestamp();
        try
        {
            for (var index = 0; index < result.Images.Count; index++)
            {
                var image = result.Images[index];
                var imageId = Guid.CreateVersion7(time.GetUtcNow());
                var key = ImageKeys.KeyFor(imageId, ImageEncoding.Extension(image.ContentType));
                await store.SaveAsync(key, image.Bytes, image.ContentType, stoppingToken);
                images.Add(new QuestImage
                {
                    Id = imageId,
                    QuestId = quest.Id,
                    UserId = quest.UserId,
                    Index = index,
                    Width = image.Width,
                    Height = image.Height,
                    ContentType = image.ContentType,
                    Bytes = image.Bytes.Length,
                    Checksum = Convert.ToHexStringLower(SHA256.HashData(image.Bytes)),
                    StorageKey = key,
                    CreatedAt = time.GetUtcNow(),
                    Placeholder = image.Placeholder ?? ImageVariants.Placeholder(image.Bytes),
                });
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            await FailAsync(run, ErrorCodes.StorageFailed, FailureExplanations.StorageFailed, e);
            return;
        }

        var bytes = images.Sum(i => i.Bytes);
        run.AddStep(QuestStepKinds.Stored, durationMs: (int)time.GetElapsedTime(storing).TotalMilliseconds, detail: $"{images.Count} image(s), {bytes} bytes");
        LogStored(logger, quest.Id, quest.UserId, quest.Model, images.Count, bytes);

        // The images are durable before the quest says Succeeded; rows, state and charge commit together. A job resumed
        // after a crash has the cost its provider reported when it accepted it.
        var billed = result.BilledCredits ?? quest.ProviderCost ?? ran.OwnCost;
        var succeeded = await transitions.SucceedAsync(quest, images, billed, result.ProviderTime, result.Seed, run.TakeSteps(), CancellationToken.None,
            ranModel: ran.Model.Id == quest.Model ? null : ran.Model.Id, descriptions: result.Descriptions);
        if (succeeded is null)
        {
            LogAlreadySettled(logger, quest.Id);
            return;
        }

        var charged = succeeded.Charged ?? quest.Cost;
        LogCharged(logger, quest.Id, quest.UserId, quest.Model, charged, quest.Cost);
        LogSucceeded(logger, quest.Id, quest.UserId, quest.Model, succeeded.GenerationMilliseconds ?? 0);
        metrics.QuestEnded(quest.Model, catalog.ProviderTag(quest.Model), "succeeded", null, result.ProviderTime);
        metrics.Credits("captured", charged);
        metrics.Credits("released", quest.Cost - charged);
        foreach (var image in images)
        {
            metrics.ImageStored(image.Bytes);
        }

        await PublishAsync(run, succeeded);
    }
}
