using ImageGen.Core.Catalog;
using ImageGen.Worker.Providers;

namespace ImageGen.Worker.Services;

/// <summary>What a failed quest tells its owner: what happened and what to do next, in one place.</summary>
internal static class FailureExplanations
{
    public static string For(ProviderException e, ModelDescriptor model) => e.Failure switch
    {
        ProviderFailure.Moderated when model.SafetyTolerance is not null && e.Message.Contains("prompt", StringComparison.Ordinal) =>
            $"{model.DisplayName}'s safety system refused this prompt. Rephrase it, or, if it is harmless, try again with a higher safety tolerance (up to {model.SafetyTolerance.Max}; 4 or more is less strict). Nothing was charged.",
        ProviderFailure.Moderated when model.SafetyTolerance is not null =>
            $"{model.DisplayName}'s safety system refused the image it made. Rephrase the prompt, or try a higher safety tolerance (up to {model.SafetyTolerance.Max}). Nothing was charged.",
        ProviderFailure.Moderated => $"{model.DisplayName}'s safety system refused this prompt. Rephrase it and try again. Nothing was charged.",
        ProviderFailure.RateLimited => $"{model.DisplayName} is receiving too many requests; ImageGen retried and gave up. Try again in a minute. Nothing was charged.",
        ProviderFailure.Unavailable => $"{e.Message} Nothing was charged.",
        ProviderFailure.Timeout => $"{model.DisplayName} did not answer in time. Nothing was charged; try again.",
        ProviderFailure.Expired => $"{model.DisplayName}'s result expired before it could be fetched. Nothing was charged; try again.",
        ProviderFailure.Rejected => $"{model.DisplayName} refused the request: {e.Message} Nothing was charged.",
        ProviderFailure.AccountExhausted =>
            $"{model.DisplayName} is unavailable right now: the provider account ImageGen uses for it has run out of credit. Our operators have been told. Nothing was charged; try another model.",
        _ => $"{model.DisplayName} failed: {e.Message} Nothing was charged.",
    };

    /// <summary>
    /// The explanation of a failure the provider bills (it had passed its billing point): the "nothing was charged" of
    /// the plain explanation becomes what was.
    /// </summary>
    public static string WithCharge(string explanation, Data.Quests.QuestCharge charge) =>
        charge.Charged == 0
            ? explanation
            : explanation.Replace(" Nothing was charged; try again.", " Try again.", StringComparison.Ordinal)
                .Replace(" Nothing was charged.", "", StringComparison.Ordinal)
              + $" The provider had already started, and bills for it: {charge.Charged} of the {charge.Reserved} reserved credits were charged.";

    public static string TimedOut(ModelDescriptor model, TimeSpan deadline) =>
        $"{model.DisplayName} did not finish within {deadline.TotalSeconds:0} seconds. Nothing was charged; try again.";

    public const string RenderFailed = "The image could not be made. Try again, or change the size.";

    public const string StorageFailed = "The image was made but could not be stored. Nothing was charged; try again in a moment.";

    public static string ModelGone(string model) => $"The model '{model}' is not offered any more.";

    public static string QueueDeadline(TimeSpan deadline) => $"No worker could start this quest within {deadline.TotalMinutes:0} minutes. Nothing was charged; try again.";

    public static string Exhausted(long attempts) => $"ImageGen tried this quest {attempts} times and it failed each time. An operator has been told. Nothing was charged.";
}
