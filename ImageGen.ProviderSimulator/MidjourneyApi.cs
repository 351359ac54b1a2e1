using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using ImageGen.Rendering;
using SkiaSharp;

namespace ImageGen.ProviderSimulator;

/// <summary>One simulated Midjourney task: an imagine, an upscale or a variation, and its pictures as they form.</summary>
internal sealed class MidjourneyTask
{
    public required string Id { get; init; }
    public required string Action { get; init; }
    public required string Prompt { get; init; }
    public required long SubmitTime { get; init; }
    public volatile string Status = "SUBMITTED";

    /// <summary>A vary-region task waiting for its mask (status MODAL): what it repaints once the mask comes.</summary>
    public MidjourneyTask? Source;
    public int Progress;
    public byte[]? Image;
    public int Frame;
    public string? FailReason;
}

internal sealed class MidjourneyTasks
{
    private long _next = 1_700_000_000_000;

    public ConcurrentDictionary<string, MidjourneyTask> Tasks { get; } = new();

    public string NextId() => Interlocked.Increment(ref _next).ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The midjourney-proxy protocol, as teams reach Midjourney: <c>POST /mj/submit/imagine</c> and
/// <c>/mj/submit/action</c> (a grid button's <c>customId</c>) answer <c>{code, description, result}</c> with the task
/// id; <c>GET /mj/task/{id}/fetch</c> answers the task (<c>status</c>, <c>progress</c> as "45%", <c>imageUrl</c> of the
/// grid so far, then the result, <c>failReason</c>, <c>buttons</c>); all with the <c>mj-api-secret</c> header. A grid is
/// four local-renderer takes in a 2x2; an upscale is one take at full size; a variation is a new grid from one take.
/// </summary>
internal static partial class MidjourneyApi
{
    private const int Steps = 5;
    private static readonly TimeSpan StepPace = TimeSpan.FromMilliseconds(60);

    public static void MapMidjourney(this WebApplication app)
    {
        app.MapPost("/mj/submit/imagine", ImagineAsync);
        app.MapPost("/mj/submit/action", ActionAsync);
        app.MapPost("/mj/submit/modal", ModalAsync);
        app.MapPost("/mj/submit/blend", BlendAsync);
        app.MapPost("/mj/submit/describe", DescribeAsync);
        app.MapGet("/mj/task/{id}/fetch", Fetch);
        app.MapGet("/mj/task/queue", Queue);
        app.MapGet("/mj/image/{id}/{frame}", Image);
    }

    private static async Task<IResult> ImagineAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, MidjourneyTasks tasks, TimeProvider time)
    {
        stats.Count("midjourney.imagine");
        if (Gate(context, faults) is { } refused)
        {
            return refused;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var prompt = (string?)body?["prompt"];
        if (string.IsNullOrWhiteSpace(prompt))
        {
            return Answer(4, "prompt must not be empty", null);
        }

        if (faults.IsModerated(FaultProfiles.Midjourney, prompt))
        {
            return Answer(24, "Banned prompt", null, new JsonObject { ["bannedWord"] = faults.Get(FaultProfiles.Midjourney).ModeratedWords[0] });
        }

        return Start(tasks, faults, time, "IMAGINE", prompt, (width, height) => Grid(prompt, 0, width, height));
    }

    private static async Task<IResult> ActionAsync(HttpContext context, FaultProfiles faults, SimulatorStats stats, MidjourneyTasks tasks, TimeProvider time)
    {
        stats.Count("midjourney.action");
        if (Gate(context, faults) is { } refused)
        {
            return refused;
        }

        var body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        var customId = (string?)body?["customId"] ?? "";
        if ((string?)body?["taskId"] is not { } parentId || !tasks.Tasks.TryGetValue(parentId, out var parent) || parent.Status != "SUCCESS"
            || !Buttons(parent).Any(b => (string?)b?["customId"] == customId))
        {
            return Answer(4, "customId or taskId is not valid", null);
        }

        // The button's kind and take (or zoom) from its customId, as the proxy writes them.
        var parts = customId.Split("::");
        if (parts is ["MJ", "Inpaint", ..])
        {
            // Vary (Region) opens a modal: the proxy answers 21 with a task that waits for the mask (POST /mj/submit/modal).
            var modal = new MidjourneyTask { Id = tasks.NextId(), Action = "INPAINT", Prompt = parent.Prompt, SubmitTime = time.GetUtcNow().ToUnixTimeMilliseconds(), Source = parent };
            modal.Status = "MODAL";
            tasks.Tasks[modal.Id] = modal;
            return Answer(21, "Waiting for window confirm", modal.Id);
        }

        var (kind, n) = parts is ["MJ", "Outpaint", var zoom, ..] ? ("outpaint", int.Parse(zoom, CultureInfo.InvariantCulture)) : (parts[2], int.Parse(parts[3], CultureInfo.InvariantCulture));
        var seed = customId.GetHashCode(StringComparison.Ordinal) & 0xffff;
        return kind switch
        {
            "upsample" => Start(tasks, faults, time, "UPSCALE", parent.Prompt, (width, height) => Take(parent.Prompt, n - 1, width * 2, height * 2)),
            "variation" => Start(tasks, faults, time, "VARIATION", parent.Prompt, (width, height) => Grid(parent.Prompt, n * 10, width, height)),
            "reroll" => Start(tasks, faults, time, "REROLL", parent.Prompt, (width, height) => Grid(parent.Prompt, seed, width, height)),
            "low_variation" or "high_variation" => Start(tasks, faults, time, "VARIATION", parent.Prompt, (width, height) => Grid(parent.Prompt, seed, width, height)),
            "outpaint" => Start(tasks, faults, time, "ZOOM", parent.Prompt, (width, height) => Grid(parent.Prompt, seed, width, height)),
            _ => Start(tasks, faults, time, "PAN", parent.Prompt, (width, height) => Grid(parent.Prompt, seed, width, height)),
        };
    }

    /// <summary>
    /// The buttons a finished task offers, as the proxy lists them: on a grid U1-U4, reroll and V1-V4; on an upscale
    /// vary (strong, subtle), zoom out (2x, 1.5x) and the four pans.
    /// </summary>
    private static JsonArray Buttons(MidjourneyTask task)
    {
        var buttons = new JsonArray();
        void Add(string customId, string label, string emoji = "") =>
            buttons.Add(new JsonObject { ["customId"] = customId, ["emoji"] = emoji, ["label"] = label, ["type"] = 2, ["style"] = 2 });
        if (task.Status != "SUCCESS" || task.Action == "DESCRIBE")
        {
            return buttons;
        }

        if (task.Action == "UPSCALE")
        {
            Add($"MJ::JOB::high_variation::1::{task.Id}::SOLO", "Vary (Strong)", "🪄");
            Add($"MJ::JOB::low_variation::1::{task.Id}::SOLO", "Vary (Subtle)", "🪄");
            Add($"MJ::Inpaint::1::{task.Id}::SOLO", "Vary (Region)", "🖌️");
            Add($"MJ::Outpaint::50::1::{task.Id}::SOLO", "Zoom Out 2x", "🔍");
            Add($"MJ::Outpaint::75::1::{task.Id}::SOLO", "Zoom Out 1.5x", "🔍");
            foreach (var (direction, arrow) in new[] { ("left", "⬅️"), ("right", "➡️"), ("up", "⬆️"), ("down", "⬇️") })
            {
                Add($"MJ::JOB::pan_{direction}::1::{task.Id}::SOLO", "", arrow);
            }

            return buttons;
        }

        for (var i = 1; i <= 4; i++)
        {
            Add($"MJ::JOB::upsample::{i}::{task.Id}", $"U{i}");
        }

        Add($"MJ::JOB::reroll::0::{task.Id}::SOLO", "", "🔄");
        for (var i = 1; i <= 4; i++)
        {
            Add($"MJ::JOB::variation::{i}::{task.Id}", $"V{i}");
        }

        return buttons;
    }

    /// <summary>Queues the task and paints it in the background, in <see cref="Steps"/> visible steps.</summary>
    private static IResult Start(MidjourneyTasks tasks, FaultProfiles faults, TimeProvider time, string action, string prompt, Func<int, int, Func<int, byte[]>> painter,
        string? id = null)
    {
        var task = new MidjourneyTask { Id = id ?? tasks.NextId(), Action = action, Prompt = prompt, SubmitTime = time.GetUtcNow().ToUnixTimeMilliseconds() };
        tasks.Tasks[task.Id] = task;
        var fault = faults.Get(FaultProfiles.Midjourney);
        var (width, height) = Size(prompt);
        var paint = painter(width, height);
        _ = Task.Run(async () =>
        {
            await faults.PaceAsync(FaultProfiles.Midjourney, StepPace, Steps, CancellationToken.None);
            task.Status = "IN_PROGRESS";
            for (var step = 1; step <= Steps; step++)
            {
                await faults.PaceAsync(FaultProfiles.Midjourney, StepPace, Steps, CancellationToken.None);
                task.Image = paint(step);
                task.Frame = step;
                task.Progress = step * 100 / Steps;
                if (step == Steps - 1 && fault.Profile == FaultProfile.Flaky && faults.FailsNow(FaultProfiles.Midjourney))
                {
                    task.FailReason = "Midjourney had a problem with this job.";
                    task.Status = "FAILURE";
                    return;
                }
            }

            task.Status = "SUCCESS";
        });
        return Answer(1, "Submit success", task.Id);
    }

    private static IResult Fetch(string id, HttpContext context, FaultProfiles faults, SimulatorStats stats, MidjourneyTasks tasks)
    {
        stats.Count("midjourney.fetch");
        if (Gate(context, faults) is { } refused)
        {
            return refused;
        }

        if (!tasks.Tasks.TryGetValue(id, out var task))
        {
            return Results.NotFound();
        }

        var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}";
        var buttons = Buttons(task);

        return Results.Json(new JsonObject
        {
            ["id"] = task.Id,
            ["action"] = task.Action,
            ["prompt"] = task.Prompt,
            ["promptEn"] = task.Prompt,
            ["description"] = "/imagine " + task.Prompt,
            ["submitTime"] = task.SubmitTime,
            ["status"] = task.Status,
            ["progress"] = $"{task.Progress}%",
            ["imageUrl"] = task.Image is null ? null : $"{baseUrl}/mj/image/{task.Id}/{task.Frame}",
            ["failReason"] = task.FailReason,
            ["buttons"] = buttons,
        });
    }

    /// <summary>
    /// midjourney-proxy's <c>GET /mj/task/queue</c>: the tasks waiting for a Discord slot (none here: the simulator starts
    /// every task at once). It needs the secret like every call and costs nothing, so health probes use it.
    /// </summary>
    private static IResult Queue(HttpContext context, FaultProfiles faults, SimulatorStats stats)
    {
        stats.Count("midjourney.queue");
        return Gate(context, faults) ?? Results.Json(new JsonArray());
    }

    /// <summary>The task's picture as it stands (the frame in the link only makes each step's link new).</summary>
    private static IResult Image(string id, int frame, MidjourneyTasks tasks) =>
        tasks.Tasks.TryGetValue(id, out var task) && task.Image is { } image && frame > 0
            ? Results.Bytes(image, "image/png")
            : Results.NotFound();

    private static IResult? Gate(HttpContext context, FaultProfiles faults)
    {
        if (string.IsNullOrEmpty(context.Request.Headers["mj-api-secret"].ToString()))
        {
            return Results.Json(new { code = 401, description = "Unauthorized" }, statusCode: 401);
        }

        return faults.Get(FaultProfiles.Midjourney).Profile switch
        {
            FaultProfile.Outage => Results.Json(new { code = 9, description = "Service unavailable" }, statusCode: 503),
            FaultProfile.RateLimited => Answer(23, "Queue is full, please try again later", null),
            _ => null,
        };
    }

    private static IResult Answer(int code, string description, string? result, JsonObject? properties = null) =>
        Results.Json(new JsonObject { ["code"] = code, ["description"] = description, ["result"] = result, ["properties"] = properties ?? [] });

    /// <summary>A grid cell's size from the prompt's <c>--ar</c> (1:1 without one): about 512 px on the long side.</summary>
    private static (int Width, int Height) Size(string prompt)
    {
        var words = prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.IndexOf(words, "--ar");
        if (at < 0 || at + 1 >= words.Length || words[at + 1].Split(':') is not [var w, var h]
            || !double.TryParse(w, CultureInfo.InvariantCulture, out var rw) || !double.TryParse(h, CultureInfo.InvariantCulture, out var rh) || rw <= 0 || rh <= 0)
        {
            return (256, 256);
        }

        return rw >= rh ? (256, (int)(256 * rh / rw) / 8 * 8) : ((int)(256 * rw / rh) / 8 * 8, 256);
    }

    private static string Subject(string prompt) => prompt.Split(" --", 2)[0];

    /// <summary>Four takes (seeds from <paramref name="seed"/>) in a 2x2, each painted up to the step.</summary>
    private static Func<int, byte[]> Grid(string prompt, int seed, int width, int height) => step =>
    {
        var steps = step * SketchRenderer.StepCount / Steps;
        using var bitmap = new SKBitmap(width * 2, height * 2);
        using (var canvas = new SKCanvas(bitmap))
        {
            for (var i = 0; i < 4; i++)
            {
                using var take = SKImage.FromEncodedData(SketchRenderer.Render(new SketchRequest(Subject(prompt), seed + i, width, height), steps).Png);
                canvas.DrawImage(take, width * (i % 2), height * (i / 2), new SKSamplingOptions(SKFilterMode.Nearest, SKMipmapMode.None));
            }
        }

        return bitmap.Encode(SKEncodedImageFormat.Png, 100).ToArray();
    };

    private static Func<int, byte[]> Take(string prompt, int seed, int width, int height) => step =>
        SketchRenderer.Render(new SketchRequest(Subject(prompt), seed, width, height), step * SketchRenderer.StepCount / Steps).Png;
}
