using System.Text.Json.Nodes;
using ImageGen.Rendering;

namespace ImageGen.ProviderSimulator;

/// <summary>The proxy's calls that bring images or a mask in: a region's window, a blend, a describe.</summary>
internal static partial class MidjourneyApi
{
    /// <summary>
    /// The second step of Vary (Region): <c>{taskId, prompt, maskBase64}</c> for a task in MODAL. The mask is a PNG data
    /// URL of the upscale's size, white where to repaint; anything else is refused.
    /// </summary>
    private static async Task<IResult> ModalAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, MidjourneyTasks tasks, TimeProvider time)
    {
        stats.Count("midjourney.modal");
        if (Gate(context, faults) is { } refused)
        {
            return refused;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        if ((string?)body?["taskId"] is not { } id || !tasks.Tasks.TryGetValue(id, out var modal) || modal.Status != "MODAL" || modal.Source is not { } source)
        {
            return Answer(4, "taskId is not a task waiting for its window", null);
        }

        if (DataUrl((string?)body["maskBase64"]) is not { } mask || ImageEncoding.Inspect(mask) is not { ContentType: "image/png" } shape
            || source.Image is not { } upscale || ImageEncoding.Inspect(upscale) is not { } size || (shape.Width, shape.Height) != (size.Width, size.Height))
        {
            return Answer(4, "maskBase64 must be a PNG of the image's size", null);
        }

        var prompt = (string?)body["prompt"] is { Length: > 0 } asked ? asked : source.Prompt;
        tasks.Tasks.TryRemove(id, out _);
        return Start(tasks, faults, time, "INPAINT", prompt, (width, height) => Grid(prompt, mask.Length & 0xffff, width, height), id);
    }

    /// <summary><c>{base64Array: [2..5 data URLs], dimensions: PORTRAIT|SQUARE|LANDSCAPE}</c>: one grid from the images.</summary>
    private static async Task<IResult> BlendAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, MidjourneyTasks tasks, TimeProvider time)
    {
        stats.Count("midjourney.blend");
        if (Gate(context, faults) is { } refused)
        {
            return refused;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var images = (body?["base64Array"] as JsonArray)?.Select(i => DataUrl((string?)i)).ToList() ?? [];
        if (images.Count is < 2 or > 5 || images.Any(i => i is null || ImageEncoding.Inspect(i) is null))
        {
            return Answer(4, "base64Array must hold 2 to 5 images", null);
        }

        var dimensions = (string?)body!["dimensions"] ?? "SQUARE";
        var ratio = dimensions switch { "PORTRAIT" => "2:3", "SQUARE" => "1:1", "LANDSCAPE" => "3:2", _ => null };
        if (ratio is null)
        {
            return Answer(4, "dimensions must be PORTRAIT, SQUARE or LANDSCAPE", null);
        }

        var prompt = $"a blend of {images.Count} images --ar {ratio}";
        var seed = images.Sum(i => i!.Length) & 0xffff;
        return Start(tasks, faults, time, "BLEND", prompt, (width, height) => Grid(prompt, seed, width, height));
    }

    /// <summary><c>{base64: a data URL}</c>: four prompts for the image (the task's <c>prompt</c>), its picture the image itself.</summary>
    private static async Task<IResult> DescribeAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, MidjourneyTasks tasks, TimeProvider time)
    {
        stats.Count("midjourney.describe");
        if (Gate(context, faults) is { } refused)
        {
            return refused;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        if (DataUrl((string?)body?["base64"]) is not { } image || ImageEncoding.Inspect(image) is not { } shape)
        {
            return Answer(4, "base64 must be an image", null);
        }

        var ratio = shape.Width == shape.Height ? "1:1" : shape.Width > shape.Height ? "3:2" : "2:3";
        var described = string.Join("\n\n", new[] { "a quiet landscape at dusk", "a painted hillside with soft light", "an illustration of rolling hills", "a calm scene, muted colours" }
            .Select((text, i) => $"{i + 1}\uFE0F\u20E3 {text}, {shape.Width}x{shape.Height} --ar {ratio}"));
        var task = new MidjourneyTask { Id = tasks.NextId(), Action = "DESCRIBE", Prompt = described, SubmitTime = time.GetUtcNow().ToUnixTimeMilliseconds(), Image = image, Frame = 1 };
        tasks.Tasks[task.Id] = task;
        _ = Task.Run(async () =>
        {
            await faults.PaceAsync(FaultProfiles.Midjourney, StepPace, Steps, CancellationToken.None);
            task.Progress = 100;
            task.Status = "SUCCESS";
        });
        return Answer(1, "Submit success", task.Id);
    }

    /// <summary>The bytes of a <c>data:image/...;base64,</c> URL (the proxy takes plain base64 too); null when it is not one.</summary>
    private static byte[]? DataUrl(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        var comma = value.StartsWith("data:", StringComparison.Ordinal) ? value.IndexOf(',', StringComparison.Ordinal) : -1;
        try
        {
            return Convert.FromBase64String(comma >= 0 ? value[(comma + 1)..] : value);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
