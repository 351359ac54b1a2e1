using ImageGen.Core.Catalog;
using ImageGen.Rendering;
using Microsoft.Extensions.Options;

namespace ImageGen.Worker.Providers;

/// <summary>
/// The built-in renderer, as a provider: offline, in eight visible steps, each with a preview frame when time allows.
/// It edits too: the new picture is painted over the input image where the mask is transparent.
/// </summary>
internal sealed class LocalSketchProvider(IOptions<WorkerOptions> options) : IImageProvider
{
    public ModelProvider Provider => ModelProvider.Local;

    public System.Text.Json.Nodes.JsonObject Describe(ProviderRequest request) => new()
    {
        ["width"] = request.Parameters.Width ?? 512,
        ["height"] = request.Parameters.Height ?? 512,
        ["seed"] = request.Parameters.Seed ?? 0,
        ["steps"] = SketchRenderer.StepCount,
        ["edit"] = request.Inputs.Count > 0 ? (request.Mask is null ? "whole image" : "masked area") : null,
    };

    public async Task<ProviderResult> GenerateAsync(ProviderRequest request, CancellationToken cancellationToken)
    {
        var p = request.Parameters;
        var rendered = await SketchRenderer.RenderAsync(
            new SketchRequest(request.Prompt, p.Seed ?? 0, p.Width ?? 512, p.Height ?? 512, request.Inputs.FirstOrDefault()?.Bytes, request.Mask?.Bytes),
            (step, ct) =>
            {
                if (step.Preview is { } preview)
                {
                    request.OnPreview(preview);
                }

                return request.OnProgress((double)step.Step / step.TotalSteps, step.StatusText, ct);
            },
            options.Value.RenderStepDelay,
            cancellationToken,
            options.Value.PreviewInterval > TimeSpan.Zero ? options.Value.PreviewInterval : null);
        return new ProviderResult([new GeneratedImage(rendered.Png, "image/png", rendered.Width, rendered.Height, rendered.Placeholder)], null, rendered.Elapsed, p.Seed);
    }
}
