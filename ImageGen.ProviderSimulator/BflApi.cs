using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImageGen.Rendering;

namespace ImageGen.ProviderSimulator;

/// <summary>One simulated BFL task.</summary>
internal sealed class BflJob
{
    public required string Id { get; init; }
    public required string ApiKey { get; init; }
    public required string Prompt { get; init; }
    public required long Seed { get; init; }
    public required string Format { get; init; }

    /// <summary>Kontext's input image, or fill's, which the result is painted over.</summary>
    public byte[]? Source { get; init; }

    /// <summary>Fill's mask as the renderer takes it (transparent where to repaint).</summary>
    public byte[]? Mask { get; init; }
    public volatile string Status = "Pending";
    public double Progress;
    public byte[]? Sample;
    public DateTimeOffset? ReadyAt;
}

internal sealed class BflJobs
{
    public ConcurrentDictionary<string, BflJob> Jobs { get; } = new();

    public int InFlight(string apiKey) => Jobs.Values.Count(j => j.ApiKey == apiKey && j.Status == "Pending");
}

/// <summary>
/// Black Forest Labs' asynchronous API: <c>POST /v1/{model}</c> with <c>x-key</c> answers an id and a polling URL;
/// <c>GET</c> on that URL reports Pending (with progress), Ready (with a signed sample URL valid 10 minutes),
/// Request/Content Moderated, Error or Task not found. Validation errors use BFL's 422 shape.
/// </summary>
internal static partial class BflApi
{
    public const int MaxInFlight = 24;
    private static readonly TimeSpan SampleLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StepPace = TimeSpan.FromMilliseconds(40);
    private static readonly Dictionary<string, int> Prices = new() { ["flux-pro-1.1"] = 4, ["flux-pro-1.1-ultra"] = 6, ["flux-dev"] = 3, ["flux-pro"] = 5,
        ["flux-kontext-pro"] = 4, ["flux-kontext-max"] = 8, ["flux-pro-1.0-fill"] = 5,
    };
    private static readonly string[] AspectRatios = ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "9:21"];

    public static void MapBfl(this WebApplication app)
    {
        app.MapPost("/v1/{model}", SubmitAsync);
        app.MapGet("/v1/get_result", Poll);
        app.MapGet("/samples/{file}", Sample);
        app.MapGet("/v1/credits", Credits);
    }

    /// <summary>BFL's <c>GET /v1/credits</c>: the account's balance, free to ask (what health probes call).</summary>
    private static IResult Credits(HttpContext context, FaultProfiles faults, SimulatorStats stats)
    {
        stats.Count("bfl.credits");
        if (string.IsNullOrEmpty(context.Request.Headers["x-key"].ToString()))
        {
            return Results.Json(new { detail = "Not authenticated" }, statusCode: 403);
        }

        return faults.Get(FaultProfiles.Bfl).Profile switch
        {
            FaultProfile.Outage => Results.Json(new { detail = "The API is under maintenance." }, statusCode: 503),
            FaultProfile.OutOfCredits => Results.Json(new { credits = 0.0 }),
            _ => Results.Json(new { credits = 1000.0 }),
        };
    }

    private static async Task<IResult> SubmitAsync(string model, HttpContext context, FaultProfiles faults, SimulatorStats stats, BflJobs jobs, TimeProvider time)
    {
        stats.Count("bfl.submit");
        var key = context.Request.Headers["x-key"].ToString();
        if (string.IsNullOrEmpty(key))
        {
            return Results.Json(new { detail = "Not authenticated" }, statusCode: 403);
        }

        var fault = faults.Get(FaultProfiles.Bfl);
        switch (fault.Profile)
        {
            case FaultProfile.RateLimited:
                context.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Results.Json(new { detail = "Rate limit exceeded. Please slow down." }, statusCode: 429);
            case FaultProfile.Flaky when faults.FailsNow(FaultProfiles.Bfl):
                return Results.Json(new { detail = "Internal Server Error" }, statusCode: 500);
            case FaultProfile.OutOfCredits:
                return Results.Json(new { detail = "Insufficient credits" }, statusCode: 402);
            case FaultProfile.Outage:
                return Results.Json(new { detail = "The API is under maintenance." }, statusCode: 503);
            case FaultProfile.Hang:
                await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
                break;
        }

        Flux2Models.TryGetValue(model, out var flux2);
        if (!Prices.TryGetValue(model, out var price) && flux2 is null)
        {
            return Results.Json(new { detail = "Not Found" }, statusCode: 404);
        }

        JsonObject body;
        try
        {
            body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted))?.AsObject() ?? throw new JsonException();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return Invalid("body", "JSON decode error", "json_invalid");
        }

        var prompt = (string?)body["prompt"];
        if (string.IsNullOrEmpty(prompt))
        {
            return Invalid("prompt", "Field required", "missing");
        }

        var (references, inputImage, fillMask, refused) = Inputs(model, body, flux2);
        if (refused is not null)
        {
            return refused;
        }

        int width, height;
        if (model == "flux-pro-1.0-fill")
        {
            (width, height) = (ImageEncoding.Inspect(inputImage!)!.Value.Width, ImageEncoding.Inspect(inputImage!)!.Value.Height);
        }
        else if (model == "flux-pro-1.1-ultra" || model.StartsWith("flux-kontext", StringComparison.Ordinal))
        {
            // Kontext keeps an input image's shape unless a ratio is asked for.
            var ratio = (string?)body["aspect_ratio"] ?? (inputImage is not null && ImageEncoding.Inspect(inputImage) is { } input
                ? NearestRatio(input.Width, input.Height)
                : model == "flux-pro-1.1-ultra" ? "16:9" : "1:1");
            if (!AspectRatios.Contains(ratio))
            {
                return Invalid("aspect_ratio", "Aspect ratio must be between 21:9 and 9:21", "value_error");
            }

            // The real service makes up to 4 MP; about 1 MP keeps the simulator quick.
            var parts = ratio.Split(':').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            width = (int)(Math.Sqrt(1024 * 1024 * parts[0] / parts[1]) / 32) * 32;
            height = (int)(width * parts[1] / parts[0] / 32) * 32;
        }
        else
        {
            var (max, step) = flux2 is null ? (1440, 32) : (2048, 16);
            width = (int?)body["width"] ?? 1024;
            height = (int?)body["height"] ?? (flux2 is null ? 768 : 1024);
            foreach (var (field, value) in new[] { ("width", width), ("height", height) })
            {
                if (value < 256 || value > max)
                {
                    return Invalid(field, value < 256 ? "Input should be greater than or equal to 256" : $"Input should be less than or equal to {max}",
                        value < 256 ? "greater_than_equal" : "less_than_equal");
                }

                if (value % step != 0)
                {
                    return Invalid(field, $"Input should be a multiple of {step}", "multiple_of");
                }
            }
        }

        var tolerance = (int?)body["safety_tolerance"] ?? 2;
        var mostTolerant = flux2?.MaxTolerance ?? 6;
        if (tolerance < 0 || tolerance > mostTolerant)
        {
            return Invalid("safety_tolerance", $"Input should be between 0 and {mostTolerant}", "value_error");
        }

        var format = (string?)body["output_format"] ?? "jpeg";
        if (format is not ("jpeg" or "png"))
        {
            return Invalid("output_format", "Input should be 'jpeg' or 'png'", "enum");
        }

        if (jobs.InFlight(key) >= MaxInFlight)
        {
            context.Response.Headers.RetryAfter = "1";
            return Results.Json(new { detail = $"You have exceeded the number of active tasks ({MaxInFlight})." }, statusCode: 429);
        }

        var job = new BflJob
        {
            Id = Guid.NewGuid().ToString(),
            ApiKey = key,
            Prompt = prompt,
            Seed = (long?)body["seed"] ?? Random.Shared.NextInt64(0, uint.MaxValue),
            Format = format,
            Source = flux2 is null ? inputImage : null,
            Mask = fillMask,
        };
        jobs.Jobs[job.Id] = job;
        stats.Peak("bfl.inFlight.peak", jobs.InFlight(key));

        // Moderation depends on the tolerance: strict settings refuse the request, middling ones the output.
        var moderated = faults.IsModerated(FaultProfiles.Bfl, prompt) && tolerance < 4;
        if (moderated && tolerance <= 2)
        {
            job.Status = "Request Moderated";
        }
        else
        {
            _ = Task.Run(() => RenderAsync(job, width, height, moderated, faults, time));
        }

        var baseUrl = $"{context.Request.Scheme}://{context.Request.Host}";
        var megapixels = Math.Round(width * height / 1_000_000.0, 2);
        var inputMegapixels = references.Sum(r => ImageEncoding.Inspect(r) is { } i ? Math.Round(i.Width * i.Height / 1_000_000.0, 2) : 0);
        return Results.Json(new JsonObject
        {
            ["id"] = job.Id,
            ["polling_url"] = $"{baseUrl}/v1/get_result?id={job.Id}",
            // FLUX.2: the first megapixel, then each further started one of the output and the references.
            ["cost"] = flux2 is null ? price
                : flux2.First + (flux2.PerMegapixel * (Math.Max(1, (int)Math.Ceiling(megapixels)) - 1 + (int)Math.Ceiling(inputMegapixels))),
            ["input_mp"] = inputMegapixels,
            ["output_mp"] = megapixels,
        });
    }

    private static string NearestRatio(int width, int height) =>
        AspectRatios.MinBy(r =>
        {
            var parts = r.Split(':').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return Math.Abs(Math.Log(parts[0] / parts[1]) - Math.Log((double)width / height));
        })!;

    private static async Task RenderAsync(BflJob job, int width, int height, bool moderateOutput, FaultProfiles faults, TimeProvider time)
    {
        var image = await SketchRenderer.RenderAsync(new SketchRequest(job.Prompt, job.Seed, width, height, job.Source, job.Mask), async (step, _) =>
        {
            Volatile.Write(ref job.Progress, (double)step.Step / step.TotalSteps);
            await faults.PaceAsync(FaultProfiles.Bfl, StepPace, step.TotalSteps, CancellationToken.None);
        }, TimeSpan.Zero, CancellationToken.None);

        if (moderateOutput)
        {
            job.Status = "Content Moderated";
            return;
        }

        job.Sample = ImageEncoding.Convert(image.Png, job.Format);
        job.ReadyAt = time.GetUtcNow();
        job.Status = "Ready";
    }

    private static IResult Poll(string? id, HttpContext context, FaultProfiles faults, SimulatorStats stats, BflJobs jobs, TimeProvider time)
    {
        stats.Count("bfl.poll");
        var fault = faults.Get(FaultProfiles.Bfl);
        if (fault.Profile == FaultProfile.Flaky && faults.FailsNow(FaultProfiles.Bfl))
        {
            return Results.Json(new { detail = "Internal Server Error" }, statusCode: 500);
        }

        if (fault.Profile == FaultProfile.Expired || id is null || !jobs.Jobs.TryGetValue(id, out var job))
        {
            return Results.Json(new JsonObject { ["id"] = id, ["status"] = "Task not found", ["result"] = null, ["progress"] = null });
        }

        var result = job.Status == "Ready"
            ? new JsonObject
            {
                ["sample"] = $"{context.Request.Scheme}://{context.Request.Host}/samples/{job.Id}.{(job.Format == "png" ? "png" : "jpg")}?se={job.ReadyAt!.Value.Add(SampleLifetime).ToUnixTimeSeconds()}",
                ["seed"] = job.Seed,
                ["prompt"] = job.Prompt,
            }
            : null;
        return Results.Json(new JsonObject
        {
            ["id"] = job.Id,
            ["status"] = job.Status,
            ["result"] = result,
            ["progress"] = job.Status == "Pending" ? Math.Round(Volatile.Read(ref job.Progress), 3) : null,
            ["details"] = null,
            ["preview"] = null,
        });
    }

    private static IResult Sample(string file, long? se, SimulatorStats stats, BflJobs jobs, TimeProvider time)
    {
        stats.Count("bfl.download");
        var id = Path.GetFileNameWithoutExtension(file);
        if (se is null || time.GetUtcNow().ToUnixTimeSeconds() > se)
        {
            return Results.Text("<Error><Code>AuthenticationFailed</Code><Message>Signature expired</Message></Error>", "application/xml", statusCode: 403);
        }

        return jobs.Jobs.TryGetValue(id, out var job) && job.Sample is { } bytes
            ? Results.Bytes(bytes, job.Format == "png" ? "image/png" : "image/jpeg")
            : Results.NotFound();
    }

    private static IResult Invalid(string field, string message, string type) =>
        Results.Json(new JsonObject
        {
            ["detail"] = new JsonArray(new JsonObject { ["loc"] = new JsonArray("body", field), ["msg"] = message, ["type"] = type }),
        }, statusCode: 422);
}
