using System.Globalization;
using ImageGen.Core.Catalog;

namespace ImageGen.Core.Quests;

public static partial class QuestValidator
{
    /// <summary>Checks one parameter at a time against what the model takes, collecting every problem.</summary>
    private sealed partial class Checker(ModelDescriptor model, List<FieldError> errors)
    {
        private void Unsupported(string field) =>
            errors.Add(new FieldError(field, ErrorCodes.UnsupportedParameter, $"{model.DisplayName} does not take '{field}'. Leave it out."));

        public int? Range(string field, int? value, IntRange? range, string what)
        {
            if (range is null)
            {
                if (value is not null)
                {
                    Unsupported(field);
                }

                return null;
            }

            if (value is { } v && !range.Contains(v))
            {
                errors.Add(new FieldError(field, ErrorCodes.ValueOutOfRange,
                    range.Min == range.Max
                        ? $"{model.DisplayName} makes exactly {range.Min} {what}; it was {v}."
                        : $"The {what} must be between {range.Min} and {range.Max} for {model.DisplayName}; it was {v}."));
                return null;
            }

            return value ?? range.Default;
        }

        public string? OneOf(string field, string? value, IReadOnlyList<string>? allowed)
        {
            if (allowed is null || allowed.Count == 0)
            {
                if (value is not null)
                {
                    Unsupported(field);
                }

                return null;
            }

            if (value is null)
            {
                return allowed[0];
            }

            var match = allowed.FirstOrDefault(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                errors.Add(new FieldError(field, ErrorCodes.InvalidValue, $"'{value}' is not a {field} {model.DisplayName} offers. Choose one of: {string.Join(", ", allowed)}."));
            }

            return match;
        }

        public bool? Flag(string field, bool? value, bool taken)
        {
            if (!taken && value is not null)
            {
                Unsupported(field);
                return null;
            }

            return taken ? value ?? false : null;
        }

        public long? Seed(long? value, Func<long>? defaultSeed)
        {
            if (!model.TakesSeed)
            {
                if (value is not null)
                {
                    Unsupported("seed");
                }

                return null;
            }

            if (value is < 0 or > ModelCatalog.MaxSeed)
            {
                errors.Add(new FieldError("seed", ErrorCodes.SeedOutOfRange, $"The seed must be between 0 and {ModelCatalog.MaxSeed}."));
                return null;
            }

            return value ?? defaultSeed?.Invoke();
        }

        /// <summary>
        /// An edit's images and mask: only for a model that edits, within its count; a mask only where the model takes
        /// one, and only with an image. On a free-size model the output follows the input, so width and height are not asked.
        /// </summary>
        public QuestParameters Inputs(CreateQuestRequest request, QuestParameters parameters)
        {
            var images = request.Images is { Count: > 0 } asked ? asked : null;
            if (model.Actions is null && request.Action is not null)
            {
                Unsupported("action");
            }

            if (model.InputImages is not { } range)
            {
                if (request.Images is not null)
                {
                    Unsupported("images");
                }

                if (request.Mask is not null)
                {
                    Unsupported("mask");
                }

                return parameters;
            }

            if (model.Actions is { } actions && (images is not null || request.Action is not null))
            {
                return FollowUp(request, parameters, images, actions);
            }

            if (images is null)
            {
                if (model.RequiresInput)
                {
                    errors.Add(new FieldError("images", ErrorCodes.Required, $"{model.DisplayName} changes an image: name it in 'images' (and the part to repaint in 'mask')."));
                }
                else if (request.Mask is not null)
                {
                    errors.Add(new FieldError("images", ErrorCodes.Required, "A mask goes with an image to edit: name it in 'images'."));
                }

                return parameters;
            }

            if (images.Count > range.Max)
            {
                errors.Add(new FieldError("images", ErrorCodes.ValueOutOfRange,
                    $"{model.DisplayName} edits {(range.Max == 1 ? "one image" : $"at most {range.Max} images")} at a time; {images.Count} were named."));
            }

            if (request.Mask is not null && !model.TakesMask)
            {
                Unsupported("mask");
            }

            if (model.Dimensions is not null && !model.InputsAreReferences && (request.Width is not null || request.Height is not null))
            {
                errors.Add(new FieldError(request.Width is not null ? "width" : "height", ErrorCodes.UnsupportedParameter,
                    $"An edit with {model.DisplayName} keeps the size of the image it changes: leave width and height out."));
            }

            // An edit keeps its input's shape unless a ratio is asked for.
            var ratio = request.AspectRatio is null ? null : parameters.AspectRatio;
            return parameters with { Images = images, Mask = request.Mask, AspectRatio = model.AspectRatios is null ? parameters.AspectRatio : ratio };
        }

        /// <summary>
        /// A follow-up (Midjourney): one of the model's actions. Most start from one picture (a grid, or an upscale); a
        /// region to vary comes with a mask; a blend takes 2 to 5 images in a shape of its own; a description one image.
        /// </summary>
        private QuestParameters FollowUp(CreateQuestRequest request, QuestParameters parameters, IReadOnlyList<Guid>? images, IReadOnlyList<string> actions)
        {
            if (request.Action is null)
            {
                errors.Add(new FieldError("action", ErrorCodes.Required,
                    $"An image given to {model.DisplayName} is a grid to follow up: say which in 'action' ({string.Join(", ", actions)})."));
                return parameters;
            }

            var action = actions.FirstOrDefault(a => string.Equals(a, request.Action, StringComparison.OrdinalIgnoreCase));
            if (action is null)
            {
                errors.Add(new FieldError("action", ErrorCodes.InvalidValue, $"'{request.Action}' is not an action of {model.DisplayName}. Choose one of: {string.Join(", ", actions)}."));
            }

            if (action == MidjourneyActions.Blend)
            {
                if (images is not { Count: >= MidjourneyActions.BlendMin and <= MidjourneyActions.BlendMax })
                {
                    errors.Add(new FieldError("images", images is null ? ErrorCodes.Required : ErrorCodes.ValueOutOfRange,
                        $"A blend takes {MidjourneyActions.BlendMin} to {MidjourneyActions.BlendMax} of your images or uploads in 'images'; {images?.Count ?? 0} were named."));
                }

                var ratio = request.AspectRatio ?? "1:1";
                if (!MidjourneyActions.BlendDimensions.ContainsKey(ratio))
                {
                    errors.Add(new FieldError("aspectRatio", ErrorCodes.InvalidValue,
                        $"A blend is made square (1:1), portrait (2:3) or landscape (3:2); '{ratio}' is not one of them."));
                }

                if (request.Mask is not null)
                {
                    Unsupported("mask");
                }

                return parameters with { Images = images, Action = action, AspectRatio = ratio, Stylize = null, Version = null };
            }

            if (images is not { Count: 1 })
            {
                errors.Add(new FieldError("images", ErrorCodes.Required, action == MidjourneyActions.Describe
                    ? "A description is of one image: name it in 'images'."
                    : "A follow-up names the one picture it comes from in 'images' (a grid, or an upscale to vary, zoom or pan)."));
            }

            if (action == MidjourneyActions.VaryRegion && request.Mask is null)
            {
                errors.Add(new FieldError("mask", ErrorCodes.Required, "Mark the region to repaint: a PNG mask, transparent where Midjourney paints again."));
            }
            else if (action != MidjourneyActions.VaryRegion && request.Mask is not null)
            {
                Unsupported("mask");
            }

            // The grid decides the prompt's shape and style: a follow-up takes none of its own.
            return parameters with { Images = images, Mask = request.Mask, Action = action, AspectRatio = null, Stylize = null, Version = null };
        }

        /// <summary>Free width and height, a fixed size list (width and height may name one of its sizes), or neither.</summary>
        public QuestParameters Dimensions(CreateQuestRequest request, QuestParameters parameters)
        {
            if (model.Dimensions is { } range)
            {
                if (request.Size is not null)
                {
                    Unsupported("size");
                }

                var width = request.Width ?? range.DefaultWidth;
                var height = request.Height ?? range.DefaultHeight;
                Dimension("width", width, range);
                Dimension("height", height, range);
                return parameters with { Width = width, Height = height };
            }

            if (model.Sizes is { } sizes)
            {
                var size = request.Size;
                if (request.Width is not null || request.Height is not null)
                {
                    if (size is not null || request.Width is null || request.Height is null)
                    {
                        errors.Add(new FieldError(request.Width is null ? "width" : "height", ErrorCodes.InvalidValue,
                            $"Give {model.DisplayName} either a size ({string.Join(", ", sizes)}) or both width and height of one of those sizes."));
                        return parameters;
                    }

                    size = string.Create(CultureInfo.InvariantCulture, $"{request.Width}x{request.Height}");
                    if (!sizes.Contains(size) && model.FreeSizes is null)
                    {
                        errors.Add(new FieldError("width", ErrorCodes.SizeNotSupported,
                            $"{model.DisplayName} makes {string.Join(", ", sizes.Where(s => s != "auto"))} (or auto); {size} is not one of them."));
                        return parameters;
                    }
                }

                size = model.FreeSizes is { } rule && size is not null && !sizes.Contains(size, StringComparer.OrdinalIgnoreCase)
                    ? FreeSize(size, rule)
                    : OneOf("size", size, sizes);
                return size is null or "auto" ? parameters with { Size = size } : parameters with { Size = size, Width = Part(size, 0), Height = Part(size, 1) };
            }

            foreach (var (field, value) in new[] { ("width", request.Width), ("height", request.Height) })
            {
                if (value is not null)
                {
                    Unsupported(field);
                }
            }

            if (request.Size is not null)
            {
                Unsupported("size");
            }

            return parameters;
        }

        /// <summary>A "WxH" beyond the preset list, on a model that takes free sizes: kept when it follows the model's rule.</summary>
        private string? FreeSize(string size, SizeRule rule)
        {
            if (SizeRule.Parse(size) is not var (width, height))
            {
                errors.Add(new FieldError("size", ErrorCodes.InvalidValue, $"'{size}' is not a size: write WIDTHxHEIGHT (for example 1600x896) or auto."));
                return null;
            }

            if (rule.Problem(width, height) is { } problem)
            {
                errors.Add(new FieldError("size", ErrorCodes.SizeNotSupported, $"{model.DisplayName} cannot make {size}: {problem}."));
                return null;
            }

            return string.Create(CultureInfo.InvariantCulture, $"{width}x{height}");
        }

        private void Dimension(string field, int value, SizeRange range)
        {
            if (!range.Contains(value))
            {
                errors.Add(new FieldError(field, ErrorCodes.SizeOutOfRange,
                    $"The {field} must be between {range.Min} and {range.Max} pixels for {model.DisplayName}; it was {value}."));
            }
            else if (!range.IsMultiple(value))
            {
                errors.Add(new FieldError(field, ErrorCodes.SizeNotMultiple,
                    $"The {field} must be a multiple of {range.Multiple} for {model.DisplayName}; it was {value}."));
            }
        }

        private static int Part(string size, int index) => int.Parse(size.Split('x')[index], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Where the first control character is (NUL, escape codes and the like, which no provider wants and the database
    /// refuses), or null. Line breaks and tabs are text.
    /// </summary>
    public static int? FirstControlCharacter(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]) && text[i] is not ('\n' or '\r' or '\t'))
            {
                return i;
            }
        }

        return null;
    }
}
