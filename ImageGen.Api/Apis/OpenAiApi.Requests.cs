using ImageGen.Api.Problems;
using ImageGen.Core.Catalog;
using ImageGen.Core.Quests;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ImageGen.Api.Apis;

/// <summary>OpenAI's request in the native API's terms: what is refused by name, and how fields map.</summary>
internal static partial class OpenAiApi
{
    /// <summary>What the native API cannot do in OpenAI's terms, refused by name before anything is stored.</summary>
    private static ProblemHttpResult? Refusal(OpenAiImageRequest request)
    {
        if (request.Unknown is { Count: > 0 } unknown)
        {
            var name = unknown.Keys.First();
            return ApiProblems.BadRequest(ErrorCodes.UnknownParameter, name, $"Unrecognized request argument supplied: {name}.");
        }

        if (request.PartialImages is { } partials && (request.Stream is not true || partials is < 0 or > MaxPartialImages))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "partial_images",
                $"'partial_images' is 0 to {MaxPartialImages}, and only with 'stream': true.");
        }

        if (request.Stream is true && request.N is > 1)
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "n", "A streamed generation makes one image: leave out 'n' or send 1.");
        }

        if (request.Stream is true && request.ResponseFormat == "url")
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "response_format", "A streamed generation sends the image itself: leave out 'response_format'.");
        }

        if (request.Style is not null)
        {
            return ApiProblems.BadRequest(ErrorCodes.UnsupportedParameter, "style", "'style' is a dall-e-3 parameter; no model here takes it. Leave it out.");
        }

        if (request.ResponseFormat is not (null or "b64_json" or "url"))
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "response_format", "'response_format' must be 'b64_json' or 'url'.");
        }

        return null;
    }

    /// <summary>The native request for the same generation (its webhook included). OpenAI's "WxH" size becomes width and height where a model takes free sizes.</summary>
    internal static CreateQuestRequest ToQuestRequest(OpenAiImageRequest request, ModelCatalog catalog, out string? sizeError)
    {
        sizeError = null;
        catalog.TryGet(request.Model, out var model);
        int? width = null, height = null;
        string? size = null;
        if (request.Size is { } asked && asked != "auto")
        {
            var freeSizes = model?.Dimensions is not null;
            if (!freeSizes)
            {
                size = asked;
            }
            else if (SizeRule.Parse(asked) is (int w, int h))
            {
                (width, height) = (w, h);
            }
            else
            {
                sizeError = $"'{asked}' is not a size: write it as WIDTHxHEIGHT, for example 1024x1024, or 'auto'.";
            }
        }

        return new CreateQuestRequest
        {
            Model = request.Model,
            Prompt = request.Prompt,
            N = request.N,
            Size = size,
            Width = width,
            Height = height,
            Quality = request.Quality is "auto" ? null : request.Quality,
            // OpenAI's options; "auto" on a model without them is what OpenAI's SDKs send by default, and means nothing.
            Background = AutoMeansNothing(request.Background, model?.Backgrounds),
            Moderation = AutoMeansNothing(request.Moderation, model?.Moderations),
            OutputCompression = request.OutputCompression,
            // Not streamed, the caller sees no preview frames, so none are asked of the provider. A model that does not
            // take the count (the local renderer paints its frames anyway, FLUX has none) sends what it has, up to it.
            PartialImages = model?.PartialImages is null ? null : request.Stream is true ? request.PartialImages ?? 0 : 0,
            InputFidelity = request.InputFidelity,
            OutputFormat = request.OutputFormat,
            AspectRatio = request.AspectRatio,
            SafetyTolerance = request.SafetyTolerance,
            Seed = request.Seed,
            Raw = request.Raw,
            PromptUpsampling = request.PromptUpsampling,
            Webhook = request.Webhook,
            WebhookEvents = request.WebhookEvents,
        };
    }

    private static string? AutoMeansNothing(string? value, IReadOnlyList<string>? taken) => value == "auto" && taken is null ? null : value;

    /// <summary>The native field names as OpenAI's request spells them.</summary>
    internal static string OpenAiName(string field) => field switch
    {
        "width" or "height" => "size",
        "outputFormat" => "output_format",
        "aspectRatio" => "aspect_ratio",
        "safetyTolerance" => "safety_tolerance",
        "promptUpsampling" => "prompt_upsampling",
        "outputCompression" => "output_compression",
        "partialImages" => "partial_images",
        "inputFidelity" => "input_fidelity",
        "images" => "image",
        _ => field,
    };
}
