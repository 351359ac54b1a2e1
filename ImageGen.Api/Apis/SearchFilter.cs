using ImageGen.Api.Problems;
using ImageGen.Core.Quests;
using ImageGen.Data.Entities;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ImageGen.Api.Apis;

/// <summary>
/// What the quest list and the gallery are narrowed by, bound with <c>[AsParameters]</c>: <c>q</c> (words of the
/// prompt, Postgres full-text search, served by a GIN index), <c>model</c> (the model that made it or the one asked),
/// <c>status</c>, <c>from</c>/<c>to</c> (created at or after, before) and <c>favorite</c>. Paging stays keyset.
/// </summary>
internal sealed record SearchFilter(
    [FromQuery(Name = "q")] string? Q = null,
    [FromQuery(Name = "model")] string? Model = null,
    [FromQuery(Name = "status")] string? Status = null,
    [FromQuery(Name = "from")] DateTimeOffset? From = null,
    [FromQuery(Name = "to")] DateTimeOffset? To = null,
    [FromQuery(Name = "favorite")] bool? Favorite = null)
{
    /// <summary>The longest search text taken.</summary>
    public const int MaxQueryLength = 200;

    /// <summary>The problem to answer when a filter is not usable, naming it; else null.</summary>
    public ProblemHttpResult? Problem(out QuestStatus? status)
    {
        status = null;
        if (Q is { Length: > MaxQueryLength })
        {
            return ApiProblems.BadRequest(ErrorCodes.ValueOutOfRange, "q", $"Search with at most {MaxQueryLength} characters.");
        }

        if (Q is not null && QuestValidator.FirstControlCharacter(Q) is not null)
        {
            return ApiProblems.BadRequest(ErrorCodes.ControlCharacters, "q", "The search holds a control character; only printable text is taken.");
        }

        if (Model is { Length: > 64 })
        {
            return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "model", "A model id has at most 64 characters.");
        }

        if (Status is not null)
        {
            if (!Enum.TryParse<QuestStatus>(Status, ignoreCase: true, out var parsed) || int.TryParse(Status, out _))
            {
                return ApiProblems.BadRequest(ErrorCodes.InvalidValue, "status", $"'{Status}' is not a status: {string.Join(", ", Enum.GetNames<QuestStatus>())}.");
            }

            status = parsed;
        }

        return From is { } from && To is { } to && from >= to
            ? ApiProblems.BadRequest(ErrorCodes.InvalidValue, "from", "'from' must be before 'to'.")
            : null;
    }

    /// <summary>True when any filter but <see cref="Favorite"/> narrows by the quest.</summary>
    public bool NarrowsQuests => !string.IsNullOrWhiteSpace(Q) || Model is not null || Status is not null || From is not null || To is not null;

    /// <summary>The quests that match (the owner's, already).</summary>
    public IQueryable<Quest> Apply(IQueryable<Quest> quests, QuestStatus? status)
    {
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var words = Q;
            quests = quests.Where(q => EF.Functions.ToTsVector("simple", q.Prompt).Matches(EF.Functions.PlainToTsQuery("simple", words)));
        }

        if (Model is { } model)
        {
            quests = quests.Where(q => q.Model == model || q.RequestedModel == model);
        }

        if (status is { } s)
        {
            quests = quests.Where(q => q.Status == s);
        }

        if (From is { } from)
        {
            quests = quests.Where(q => q.CreatedAt >= from);
        }

        if (To is { } to)
        {
            quests = quests.Where(q => q.CreatedAt < to);
        }

        return Favorite is true ? quests.Where(q => q.Images.Any(i => i.FavoriteAt != null && i.DeletedAt == null)) : quests;
    }
}
