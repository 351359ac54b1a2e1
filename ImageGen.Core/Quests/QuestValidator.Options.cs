namespace ImageGen.Core.Quests;

public static partial class QuestValidator
{
    /// <summary>The checks of OpenAI's output options (background, moderation, compression, preview frames, input fidelity).</summary>
    private sealed partial class Checker
    {
        /// <summary>
        /// OpenAI's output options: a transparent background only in a format with alpha, compression only for the
        /// lossy formats, preview frames only where the worker streams (one new image), input fidelity only on an edit.
        /// </summary>
        public QuestParameters OutputOptions(CreateQuestRequest request, QuestParameters parameters)
        {
            var format = parameters.OutputFormat;
            var background = OneOf("background", request.Background, model.Backgrounds);
            if (background == "transparent" && format is not ("png" or "webp"))
            {
                errors.Add(new FieldError("background", ErrorCodes.TransparentNeedsAlpha,
                    $"A transparent background needs an output format with alpha (png or webp); the format is {format}."));
            }

            var compression = request.OutputCompression;
            if (compression is not null && !model.TakesOutputCompression)
            {
                Unsupported("outputCompression");
                compression = null;
            }
            else if (compression is { } c && (c < 0 || c > 100))
            {
                errors.Add(new FieldError("outputCompression", ErrorCodes.ValueOutOfRange, $"The output compression must be between 0 and 100; it was {c}."));
            }
            else if (compression is not null && format is not ("jpeg" or "webp"))
            {
                errors.Add(new FieldError("outputCompression", ErrorCodes.InvalidValue,
                    $"Compression applies to jpeg and webp; the format is {format}. Choose one of them, or leave outputCompression out."));
            }

            var streamed = parameters.N == 1 && parameters.Images is not { Count: > 0 };
            var partials = Range("partialImages", request.PartialImages, model.PartialImages, "preview frames");
            if (!streamed && request.PartialImages is > 0)
            {
                errors.Add(new FieldError("partialImages", ErrorCodes.InvalidValue,
                    "Preview frames come with one new image; several images and edits arrive whole. Leave partialImages out, or ask for one image."));
            }

            string? fidelity = null;
            if (request.InputFidelity is not null && model.InputFidelities is not null && parameters.Images is not { Count: > 0 })
            {
                errors.Add(new FieldError("inputFidelity", ErrorCodes.InvalidValue, "Input fidelity applies to an edit: name the images to change in 'images'."));
            }
            else
            {
                fidelity = OneOf("inputFidelity", request.InputFidelity, model.InputFidelities);
            }

            return parameters with
            {
                Background = background,
                Moderation = OneOf("moderation", request.Moderation, model.Moderations),
                OutputCompression = compression,
                PartialImages = streamed ? partials : null,
                InputFidelity = parameters.Images is { Count: > 0 } ? fidelity : null,
            };
        }
    }
}
